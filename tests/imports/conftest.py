"""Import tests reuse the web fixtures: an app on a real database, a signed-in client, a live feed."""

from __future__ import annotations

from tests.web.conftest import app, client, clock, feed, settings, signed_in  # noqa: F401
