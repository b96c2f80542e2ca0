"""The database reads tip tokens and the anonymous flag exactly as the event parser does, for
every form the feed may send (both engines)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from greenroom.events.parse import parse_event
from greenroom.leaderboards.queries import Window, board
from tests.people.kit import T0, Room, ingest, make_feed

FORMS = [True, False, "true", "TRUE", " yes ", "1", "0", "false", "no", "", 1, 0, 2.0, 0.0, None, [], [1], {},
         {"a": 1}, "tru\u0000e"]
TOKENS = [5, "7", " 9 ", 12.0]


@pytest.mark.parametrize("shareable", [True, False])
def test_anonymous_flag_and_tokens_match_the_parser(database, shareable):
    feed_id = make_feed(database)
    room = Room().start(0)
    for i, form in enumerate(FORMS):
        room.add(10 + i, "tip", f"u{i}", tip={"tokens": TOKENS[i % len(TOKENS)], "isAnon": form,
                                              "message": "a \u0000 b"})
    room.add(100, "tip", "nokey", tip={"tokens": 3})
    ingest(database, feed_id, room.stop(200).envelopes)
    expected_anon, expected_named = 0, {}
    for env in room.envelopes:
        if env["method"] != "tip":
            continue
        parsed = parse_event(env, T0)
        assert parsed.tip is not None and parsed.user is not None
        if parsed.tip.is_anon and shareable:
            expected_anon += parsed.tip.tokens
        else:
            expected_named[parsed.user.username] = parsed.tip.tokens
    with database.read() as db:
        result = board(db, feed_id, "tokens", Window(), now=T0 + timedelta(hours=1), shareable=shareable,
                       limit=100)
    named = {r.username: r.value for r in result.rows if not r.anonymous}
    masked = [r.value for r in result.rows if r.anonymous]
    assert named == expected_named
    assert masked == ([expected_anon] if expected_anon else [])
