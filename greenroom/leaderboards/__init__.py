"""Leaderboards by session, week, month and all time."""
