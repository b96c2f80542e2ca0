from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from greenroom.sessions.stitching import Draft, EventRef, stitch

T0 = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
MW = timedelta(minutes=30)
STALE = timedelta(hours=2)


def refs(*items: tuple[int, str]) -> list[EventRef]:
    """(minute, method) pairs -> events with pks in stream order."""
    short = {"start": "broadcastStart", "stop": "broadcastStop", "chat": "chatMessage", "tip": "tip"}
    return [EventRef(i + 1, short.get(m, m), T0 + timedelta(minutes=minute)) for i, (minute, m) in enumerate(items)]


def summary(drafts: list[Draft]) -> list[tuple[str, list[tuple[int, int | None]], list[int]]]:
    def minute(at):
        return None if at is None else int((at - T0).total_seconds() // 60)

    return [(d.status, [(minute(s), minute(e)) for s, e in d.segments], d.linked) for d in drafts]


CASES = [
    ("a plain broadcast is one session with one segment",
     [(0, "start"), (5, "chat"), (10, "stop")],
     [("ended", [(0, 10)], [1, 2, 3])]),
    ("a start within the merge window re-opens the session as a second segment",
     [(0, "start"), (10, "stop"), (30, "start"), (35, "chat"), (50, "stop")],
     [("ended", [(0, 10), (30, 50)], [1, 2, 3, 4, 5])]),
    ("a start exactly at the end of the merge window still re-opens",
     [(0, "start"), (10, "stop"), (40, "start")],
     [("active", [(0, 10), (40, None)], [1, 2, 3])]),
    ("a start after the merge window opens a new session",
     [(0, "start"), (10, "stop"), (41, "start")],
     [("ended", [(0, 10)], [1, 2]), ("active", [(41, None)], [3])]),
    ("events outside any broadcast are linked to nothing and create nothing",
     [(0, "chat"), (1, "tip"), (2, "start"), (3, "stop"), (20, "chat")],
     [("ended", [(2, 3)], [3, 4])]),
    ("a stop without a start changes nothing",
     [(0, "stop"), (1, "chat")],
     []),
    ("a second stop is ignored and linked to nothing",
     [(0, "start"), (5, "stop"), (6, "stop")],
     [("ended", [(0, 5)], [1, 2])]),
    ("a start while active continues the running segment",
     [(0, "start"), (5, "start"), (9, "stop")],
     [("ended", [(0, 9)], [1, 2, 3])]),
    ("a session silent longer than the stale timeout ends at its last event",
     [(0, "start"), (10, "chat"), (200, "chat")],
     [("ended", [(0, 10)], [1, 2])]),
    ("a start long after a stale session opens a new one",
     [(0, "start"), (10, "chat"), (200, "start")],
     [("ended", [(0, 10)], [1, 2]), ("active", [(200, None)], [3])]),
    ("an event stamped inside a closed segment but delivered late still belongs to it",
     [(0, "start"), (10, "stop"), (5, "chat")],
     [("ended", [(0, 10)], [1, 2, 3])]),
    ("a stop stamped before its segment began closes it at zero length",
     [(10, "start"), (5, "stop")],
     [("ended", [(10, 10)], [1, 2])]),
]


@pytest.mark.parametrize(("case", "events", "expected"), CASES, ids=[c[0] for c in CASES])
def test_stitching_table(case, events, expected):
    drafts = stitch(None, refs(*events), merge_window=MW, stale_after=STALE)
    assert summary(drafts) == expected, case


def test_an_ended_session_loaded_from_storage_is_reopened_by_a_start_in_its_window():
    current = Draft(id=7, status="ended", started_at=T0, last_event_at=T0 + timedelta(minutes=10),
                    ended_at=T0 + timedelta(minutes=10), finalize_after=T0 + timedelta(minutes=40),
                    segments=[[T0, T0 + timedelta(minutes=10)]])
    drafts = stitch(current, [EventRef(9, "broadcastStart", T0 + timedelta(minutes=20))],
                    merge_window=MW, stale_after=STALE)
    assert len(drafts) == 1 and drafts[0].id == 7 and drafts[0].status == "active"
    assert drafts[0].finalize_after is None and drafts[0].linked == [9]


def test_a_finalized_session_is_never_reopened_by_a_start():
    current = Draft(id=7, status="finalized", started_at=T0, last_event_at=T0, ended_at=T0,
                    finalize_after=T0 + MW, segments=[[T0, T0]])
    drafts = stitch(current, [EventRef(9, "broadcastStart", T0 + timedelta(minutes=1))],
                    merge_window=MW, stale_after=STALE)
    assert [d.id for d in drafts] == [7, None] and drafts[1].status == "active"


def test_a_session_finalized_by_hand_is_not_reopened_by_a_later_start():
    now = T0 + timedelta(minutes=12)
    current = Draft(id=7, status="pending_finalize", started_at=T0, last_event_at=T0 + timedelta(minutes=10),
                    ended_at=T0 + timedelta(minutes=10), finalize_after=now,
                    segments=[[T0, T0 + timedelta(minutes=10)]])
    drafts = stitch(current, [EventRef(9, "broadcastStart", now + timedelta(minutes=1))],
                    merge_window=MW, stale_after=STALE)
    assert len(drafts) == 2
