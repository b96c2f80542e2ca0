from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenroom.events.parse import KNOWN_METHODS, MalformedEvent, event_time_from_id, normalise_id, parse_event

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
USER = {"username": "CoolGuy", "inFanclub": True, "isBroadcasting": False}


def env(method, obj, event_id="1755376889458-0"):
    return {"method": method, "id": event_id, "object": {"broadcaster": "Alice", **obj}}


@pytest.mark.parametrize(
    ("envelope", "check"),
    [
        (env("tip", {"user": USER, "tip": {"tokens": "25", "isAnon": "true", "message": "| hi"}}),
         lambda e: e.tip.tokens == 25 and e.tip.is_anon and e.tip.message == "| hi"),
        (env("tip", {"user": USER, "tip": {"tokens": 5}}), lambda e: e.tip.message == "" and not e.tip.is_anon),
        (env("mediaPurchase", {"user": USER, "media": {"id": 123, "name": "Set", "type": "photos", "tokens": "50"}}),
         lambda e: e.media.id == "123" and e.media.tokens == 50),
        (env("mediaPurchase", {"user": USER, "media": {"id": "abc", "type": "video", "tokens": 9}}),
         lambda e: e.media.id == "abc"),
        (env("privateMessage", {"user": USER, "message": {"message": "<b>x</b>", "fromUser": "CoolGuy",
                                                          "toUser": "Alice", "bgColor": None}}),
         lambda e: e.message.from_user == "coolguy" and e.message.to_user == "alice" and e.message.text == "<b>x</b>"),
        ({"method": "privateMessage", "id": "1755376889458-1",
          "object": {"broadcaster": "", "user": USER, "message": {"message": "dm", "fromUser": "coolguy",
                                                                  "toUser": "alice"}}},
         lambda e: e.broadcaster == ""),
        (env("roomSubjectChange", {"subject": "Goal: 🎉"}), lambda e: e.subject == "Goal: 🎉" and e.user is None),
        (env("userEnter", {"user": {"username": "X"}}), lambda e: e.username == "x" and e.user.display_name == "X"),
        (env("roomSurprise", {"anything": 1}), lambda e: not e.known),
        ({"method": "follow", "id": 17, "object": {"broadcaster": "a", "user": {"username": "b"}}},
         lambda e: e.event_id == "17" and e.event_time == NOW),
    ],
)
def test_each_method_and_quirk_parses_to_the_normalised_form(envelope, check):
    assert check(parse_event(envelope, NOW))


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        ({"method": "tip"}, "id"),
        (env("tip", {"user": USER, "tip": {"tokens": "many"}}), "tip.tokens"),
        (env("tip", {"user": USER, "tip": {"tokens": 0}}), "tip.tokens"),
        (env("tip", {"user": USER}), "tip is missing"),
        (env("chatMessage", {"user": {"name": "x"}, "message": {"message": "hi"}}), "user.username"),
        (env("chatMessage", {"user": {"username": "a\u202eb\x00"}, "message": {"message": "hi"}}), "control"),
        (env("follow", {"user": {"username": "x" * 65}}), "longer"),
        ({"method": "follow", "id": True, "object": {}}, "id"),
        ([1, 2], "not an object"),
    ],
)
def test_malformed_events_raise_with_a_reason(envelope, reason):
    with pytest.raises(MalformedEvent) as info:
        parse_event(envelope, NOW)
    assert reason in info.value.reason


def test_event_time_comes_from_the_id_else_receive_time():
    assert event_time_from_id("1755376889458-0", NOW) == datetime(2025, 8, 16, 20, 41, 29, 458000, tzinfo=UTC)
    assert event_time_from_id("garbage", NOW) == NOW
    assert event_time_from_id("99999999999999-0", NOW) == NOW  # beyond 2100: not a clock


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
user_like = st.fixed_dictionaries({"username": st.one_of(st.text(max_size=70), json_values)}, optional={
    "inFanclub": json_values, "isBroadcasting": json_values, "gender": json_values})
objects = st.fixed_dictionaries({}, optional={
    "broadcaster": st.one_of(st.text(max_size=70), json_values), "user": st.one_of(user_like, json_values),
    "tip": st.one_of(st.fixed_dictionaries({"tokens": json_values, "isAnon": json_values, "message": json_values}),
                     json_values),
    "message": st.one_of(st.fixed_dictionaries({"message": json_values, "fromUser": json_values,
                                                "toUser": json_values}), json_values),
    "media": st.one_of(st.fixed_dictionaries({"id": json_values, "tokens": json_values}), json_values),
    "subject": json_values,
})
envelopes = st.one_of(
    st.fixed_dictionaries({"method": st.one_of(st.sampled_from(sorted(KNOWN_METHODS)), json_values),
                           "id": st.one_of(st.from_regex(r"\A1[0-9]{12}-[0-9]{1,3}\Z"), json_values),
                           "object": st.one_of(objects, json_values)}),
    json_values,
)


@settings(max_examples=600, deadline=None)
@given(envelopes)
def test_the_parser_only_ever_raises_malformed_event(envelope):
    try:
        parsed = parse_event(envelope, NOW)
    except MalformedEvent as exc:
        assert exc.reason
        return
    assert parsed.event_id and parsed.method
    if parsed.user is not None:
        assert parsed.user.username == parsed.user.username.lower()


@settings(max_examples=120, deadline=None)
@given(st.lists(envelopes, min_size=1, max_size=6))
def test_any_batch_is_stored_or_quarantined_and_never_breaks_the_store(tmp_path_factory, sqlite_template, batch):
    import shutil

    from sqlalchemy import func, select

    from greenroom.db.engine import Database
    from greenroom.events.feeds import ensure_feed
    from greenroom.events.models import Event, QuarantinedPayload
    from greenroom.events.store import record_batch

    path = tmp_path_factory.mktemp("fuzz") / "db.sqlite"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    try:
        with database.write() as db:
            feed = ensure_feed(db, broadcaster="a", url_masked="m", url_fingerprint="f", is_demo=False, now=NOW)
            result = record_batch(db, feed_id=feed.id, envelopes=batch, cursor="i=1", cursor_event_id="1",
                                  received_at=NOW, lease_holder=None)
        with database.read() as db:
            stored = set(db.scalars(select(Event.event_id)))
            orphans = db.scalar(select(func.count()).select_from(QuarantinedPayload))
        keyed, unkeyed = set(), 0
        for envelope in batch:
            try:
                keyed.add(normalise_id(envelope.get("id") if isinstance(envelope, dict) else None))
            except MalformedEvent:
                unkeyed += 1
        assert stored == keyed  # every envelope with a usable id is kept (stored or quarantined in place)
        assert (orphans > 0) == (unkeyed > 0) and orphans <= unkeyed
        assert result.quarantined >= unkeyed
    finally:
        database.dispose()
