"""Backup and restore of a whole installation (database and images) into one file."""
