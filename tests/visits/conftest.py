"""The people tests' fixtures: a signed-in app and a feed whose envelopes run every pipeline step."""

from tests.people.conftest import room_feed  # noqa: F401
from tests.web.conftest import app, client, clock, feed, settings, signed_in  # noqa: F401
