from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from greenroom.events.feeds import LeaseLost, ensure_feed, try_acquire_lease
from greenroom.events.models import Event, Feed, QuarantinedPayload
from greenroom.events.store import record_batch

NOW = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def _feed(database, holder="me"):
    with database.write() as db:
        feed = ensure_feed(db, broadcaster="Alice", url_masked="https://h/events/alice/****/",
                           url_fingerprint="f", is_demo=False, now=NOW)
        assert try_acquire_lease(db, feed.id, holder, NOW, 60)
        return feed.id


def _tip(i, tokens=10):
    return {"method": "tip", "id": f"{1_760_000_000_000 + i}-0",
            "object": {"broadcaster": "alice", "user": {"username": f"User{i}"},
                       "tip": {"tokens": tokens, "isAnon": False, "message": ""}}}


def test_a_batch_is_stored_once_with_its_cursor_and_redelivery_adds_nothing(database):
    feed_id = _feed(database)
    batch = [_tip(i) for i in range(5)]
    with database.write() as db:
        result = record_batch(db, feed_id=feed_id, envelopes=batch, cursor="i=x4", cursor_event_id="x4",
                              received_at=NOW, lease_holder="me")
    assert [s.event.event_id for s in result.new] == [e["id"] for e in batch]
    with database.write() as db:
        again = record_batch(db, feed_id=feed_id, envelopes=batch + [_tip(5)], cursor="i=x5",
                             cursor_event_id="x5", received_at=NOW, lease_holder="me")
    assert len(again.new) == 1 and again.duplicates == 5
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 6
        feed = db.get(Feed, feed_id)
        assert feed.cursor == "i=x5" and feed.events_stored == 6
        first = db.scalars(select(Event).order_by(Event.id)).first()
        assert first.username == "user0" and first.payload == batch[0]
        assert first.event_time == datetime.fromtimestamp(1_760_000_000, UTC)


def test_malformed_events_are_quarantined_with_a_reason_and_never_block_the_batch(database):
    feed_id = _feed(database)
    bad_tokens = _tip(1, tokens="lots")
    no_id = {"method": "tip", "object": {}}
    nul = {"method": "chatMessage", "id": "1760000000009-0",
           "object": {"broadcaster": "alice", "user": {"username": "eve"},
                      "message": {"message": "a\x00b\ud800c <script>x</script>"}}}
    unknown = {"method": "roomSurprise", "id": "1760000000010-0", "object": {"broadcaster": "alice"}}
    with database.write() as db:
        result = record_batch(db, feed_id=feed_id, envelopes=[bad_tokens, no_id, "junk", nul, unknown, _tip(2)],
                              cursor=None, cursor_event_id=None, received_at=NOW, lease_holder="me")
    assert result.quarantined == 3 and result.unknown == 1
    assert [s.event.event_id for s in result.new] == [nul["id"], _tip(2)["id"]]
    with database.read() as db:
        q = db.scalars(select(Event).where(Event.quarantine_reason.is_not(None))).one()
        assert "tip.tokens" in q.quarantine_reason and q.payload == bad_tokens
        stored_nul = db.scalars(select(Event).where(Event.event_id == nul["id"])).one()
        assert stored_nul.payload == nul  # raw payload round-trips exactly, NUL and surrogate included
        assert db.scalar(select(func.count()).select_from(QuarantinedPayload)) == 2


def test_a_batch_from_an_ingester_that_lost_its_lease_is_rejected_whole(database):
    feed_id = _feed(database, holder="first")
    later = NOW + timedelta(seconds=61)
    with database.write() as db:
        assert try_acquire_lease(db, feed_id, "second", later, 60)
    with pytest.raises(LeaseLost), database.write() as db:
        record_batch(db, feed_id=feed_id, envelopes=[_tip(1)], cursor="i=1", cursor_event_id="1",
                     received_at=later, lease_holder="first")
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 0
        assert db.get(Feed, feed_id).cursor is None


def test_a_live_lease_cannot_be_taken_but_an_expired_one_can(database):
    feed_id = _feed(database, holder="first")
    with database.write() as db:
        assert not try_acquire_lease(db, feed_id, "second", NOW + timedelta(seconds=30), 60)
        assert try_acquire_lease(db, feed_id, "second", NOW + timedelta(seconds=61), 60)


def test_the_hand_written_inserts_cover_exactly_the_event_columns():
    from greenroom.events.store import _COLUMNS

    assert set(_COLUMNS) == {c.name for c in Event.__table__.columns} - {"id"}


def test_sqlite_times_written_by_the_fast_path_match_what_sqlalchemy_writes():
    from sqlalchemy.dialects import sqlite

    from greenroom.db.types import UTCDateTime
    from greenroom.events.store import _sqlite_time

    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).impl.bind_processor(dialect)
    for value in (NOW, NOW.replace(microsecond=123456), datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)):
        assert _sqlite_time(value) == process(value.replace(tzinfo=None))


def test_an_event_id_in_a_batch_twice_is_stored_once_and_the_first_body_wins(database):
    feed_id = _feed(database)
    first, second = _tip(1, tokens=5), _tip(1, tokens=500)
    with database.write() as db:
        result = record_batch(db, feed_id=feed_id, envelopes=[first, second], cursor=None, cursor_event_id=None,
                              received_at=NOW, lease_holder="me")
    assert len(result.new) == 1 and result.duplicates == 1
    with database.read() as db:
        assert db.scalars(select(Event)).one().payload == first
