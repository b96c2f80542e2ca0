from __future__ import annotations

from tests.people.conftest import room_feed  # noqa: F401
from tests.web.conftest import app, client, clock, feed, settings, signed_in  # noqa: F401
