"""Backup tests reuse the web fixtures for the Admin download."""

from __future__ import annotations

from tests.web.conftest import app, cheap_password_hashing, client, clock, feed, settings, signed_in  # noqa: F401
