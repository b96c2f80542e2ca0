from __future__ import annotations

from typing import Any

import pytest

from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import load_steps, process_new_events
from tests.web.conftest import app, client, clock, feed, settings, signed_in  # noqa: F401


@pytest.fixture
def room_feed(database, feed, clock):  # noqa: F811
    """Store envelopes and run every pipeline step, as the ingester does; returns the feed id."""
    load_steps()

    def store(envelopes: list[dict[str, Any]]) -> int:
        with database.write() as db:
            result = record_batch(db, feed_id=feed.feed_id, envelopes=envelopes, cursor=None, cursor_event_id=None,
                                  received_at=clock(), lease_holder="ingester-1", lease_ttl=600)
            process_new_events(db, feed.feed_id, result.new, clock())
        return feed.feed_id

    store.feed_id = feed.feed_id
    return store
