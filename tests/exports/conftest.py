"""Export tests reuse the web fixtures: an app on a real database, a signed-in client."""

from __future__ import annotations

from tests.web.conftest import app, cheap_password_hashing, client, clock, feed, settings, signed_in  # noqa: F401
