"""Admin and summary page tests reuse the web fixtures: an app on a real database, a signed-in client."""

from __future__ import annotations

from tests.web.conftest import app, client, clock, feed, settings, signed_in  # noqa: F401
