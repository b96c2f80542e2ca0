"""The offline summarizer on simulated rooms, and the numbers check on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from greenroom.jobs.runner import run_now
from greenroom.sessions.models import BroadcastSession
from greenroom.sessions.rollups import empty_stats
from greenroom.sessions.service import end_stale, finalize_due
from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.summaries import service
from greenroom.summaries.check import check_numbers, numbers_in
from greenroom.summaries.input import SummaryInput, build_input
from greenroom.summaries.providers.offline import OfflineProvider
from tests.sessions.roomkit import WINDOWS, ingest, make_feed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_offline_summary_of_simulated_sessions_names_the_real_top_tipper_and_token_total(
        sqlite_database, settings, seed):
    script = build_script(ScriptConfig(seed=seed, days=2, broadcasts_per_day=2, audience=25, viewer_pool=120,
                                       quirks=False))
    feed = make_feed(sqlite_database)
    ingest(sqlite_database, feed, script.events, batch=40)
    later = max(script.event_times) + timedelta(days=1)
    with sqlite_database.write() as db:
        end_stale(db, later, WINDOWS)
        ids = finalize_due(db, later)
    assert ids
    for sid in ids:
        run_now(sqlite_database, "summaries.generate", settings, {"session_id": sid})
        with sqlite_database.read() as db:
            row = db.get(BroadcastSession, sid)
            summary = service.latest(db, sid)
        assert row.status == "finalized"
        assert summary.numbers_check == "passed", (summary.text, summary.unverified_numbers)
        assert f"{row.stats['tokens']:,} tokens" in summary.text
        if row.stats["top_tippers"]:
            top = row.stats["top_tippers"][0]
            expected = "an anonymous tipper" if top["anonymous"] else top["username"]
            assert f"top tipper was {expected} with {top['tokens']:,} tokens" in summary.text


def test_the_offline_summary_is_the_same_every_time(sqlite_database, finished_session_sqlite):
    with sqlite_database.read() as db:
        data = build_input(db, finished_session_sqlite, "Europe/Berlin")
    assert OfflineProvider().summarize(data) == OfflineProvider().summarize(data)


def _input(**stats) -> SummaryInput:
    return SummaryInput(session_id=1, status="pending_finalize", started_at=datetime(2026, 11, 1, 20, 5, tzinfo=UTC),
                        ended_at=datetime(2026, 11, 1, 22, 35, tzinfo=UTC), timezone="Europe/Berlin",
                        stats=empty_stats() | stats)


@pytest.mark.parametrize("text, unverified", [
    ("1,250 tokens from 14 tips; biggest 500.", []),
    ("1250 tokens, 1250.0 in all", []),
    ("about 9.4 viewers on average, 9 at times", []),
    ("2 h 30 min long, from 21:05 to 23:35 on 2026-11-01", []),
    ("net -2 followers, or −2", []),
    ("fan99 and gpt4 said hello", []),
    ("1,251 tokens", ["1,251"]),
    ("a goal of 999 tokens and 3.5 hours", ["999", "3.5"]),
])
def test_the_numbers_check_accepts_numbers_from_the_stats_only(text, unverified):
    data = _input(tokens=1250, tip_count=14, biggest_tip=500, avg_viewers=9.37, net_followers=-2,
                  duration_seconds=9000)
    result = check_numbers(text, data)
    assert result.unverified == unverified
    assert result.passed is (not unverified)


def test_numbers_are_found_as_people_write_them():
    assert numbers_in("1,250 tokens, 3.5 h, -2 net, at 21:05, user fan99") == ["1,250", "3.5", "-2", "21", "05"]


@pytest.fixture
def finished_session_sqlite(sqlite_database):
    from tests.summaries.conftest import show

    feed = make_feed(sqlite_database)
    ingest(sqlite_database, feed, show().envelopes)
    with sqlite_database.write() as db:
        [sid] = finalize_due(db, datetime(2026, 11, 2, tzinfo=UTC))
        assert db.scalar(select(BroadcastSession.status).where(BroadcastSession.id == sid)) == "pending_finalize"
    return sid
