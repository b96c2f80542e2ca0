"""Generating summaries through the jobs machinery on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy import select

from greenroom.jobs.models import JobRun, RunStatus
from greenroom.jobs.runner import run_now
from greenroom.jobs.worker import Worker
from greenroom.prefs.service import save
from greenroom.sessions.models import BroadcastSession
from greenroom.summaries import service
from greenroom.summaries.input import build_input
from greenroom.summaries.models import SessionSummary
from tests.summaries.conftest import FAKE_KEY


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def status_of(database, session_id):
    with database.read() as db:
        return db.scalar(select(BroadcastSession.status).where(BroadcastSession.id == session_id))


def versions(database, session_id):
    with database.read() as db:
        return [(s.version, s.status, s.provider, s.numbers_check, s.reason) for s in service.history(db, session_id)]


def drain(database, settings, clock):
    worker = Worker(database, settings, clock=clock, poll_interval=0.01, lease=timedelta(seconds=30))
    return worker.run_once()


def test_the_sweep_queues_one_summary_and_the_offline_provider_finalizes_the_session(
        database, settings, finished_session):
    sid, clock = finished_session["id"], Clock(finished_session["now"])
    drain(database, settings, clock)
    assert status_of(database, sid) == "finalized"
    with database.read() as db:
        summary = service.latest(db, sid)
        runs = db.scalars(select(JobRun).where(JobRun.job == "summaries.generate")).all()
    assert len(runs) == 1 and runs[0].status == RunStatus.SUCCEEDED
    assert summary.status == "ok" and summary.provider == "offline" and summary.prompt_version
    assert "midnightowl" in summary.text and "1,250 tokens" in summary.text
    assert summary.numbers_check == "passed", summary.unverified_numbers
    # Sweeping again queues nothing: the run is keyed by the session and its finalize time.
    clock.now += timedelta(minutes=5)
    drain(database, settings, clock)
    with database.read() as db:
        assert db.scalar(select(JobRun.id).where(JobRun.job == "summaries.generate", JobRun.id != runs[0].id)) is None


def test_the_input_leaves_out_excluded_users_and_keeps_anonymous_tippers_anonymous(database, settings,
                                                                                finished_session):
    from greenroom.sessions.exclusions import add_exclusion
    from greenroom.sessions.stats import refresh_stats

    sid = finished_session["id"]
    with database.write() as db:
        add_exclusion(db, "Regular_Ray", finished_session["now"])
        refresh_stats(db, [sid], finished_session["now"])
    with database.read() as db:
        data = build_input(db, sid, "Europe/Berlin")
    text = str(data.as_data())
    assert "regular_ray" not in text.lower()
    assert "quietfan" not in [t["username"] for t in data.stats["top_tippers"]]
    assert {"username": "anonymous", "tokens": 100, "anonymous": True} in data.stats["top_tippers"]
    assert all("\n" not in line.text for line in data.chat)


def test_the_summary_waits_for_the_delay_setting(database, settings, finished_session):
    sid, clock = finished_session["id"], Clock(finished_session["now"])
    with database.write() as db:
        save(db, {"summary_delay_minutes": "45"}, clock.now)
    drain(database, settings, clock)
    assert status_of(database, sid) == "pending_finalize"
    with database.read() as db:
        run = db.scalars(select(JobRun).where(JobRun.job == "summaries.generate")).one()
        finalize_after = db.get(BroadcastSession, sid).finalize_after
    assert run.run_after == finalize_after + timedelta(minutes=45)
    clock.now = run.run_after
    drain(database, settings, clock)
    assert status_of(database, sid) == "finalized"


def test_a_summary_stating_numbers_not_in_the_stats_is_kept_and_marked(database, settings, finished_session,
                                                                       fake_llm):
    sid, clock = finished_session["id"], Clock(finished_session["now"])
    fake_llm.text = "MidnightOwl led with 600 tokens of 1,250, and 12345 people cheered for 3.5 hours."
    with database.write() as db:
        save(db, {"summary_provider": "openai", "openai_api_key": FAKE_KEY, "openai_base_url": fake_llm.url + "/v1",
                  "summary_model": "gpt-test"}, clock.now)
    drain(database, settings, clock)
    with database.read() as db:
        summary = service.latest(db, sid)
    assert (summary.status, summary.provider, summary.model) == ("ok", "openai", "gpt-test")
    assert summary.numbers_check == "failed"
    assert summary.unverified_numbers == ["12345", "3.5"]
    assert status_of(database, sid) == "finalized"


def test_provider_failures_retry_with_backoff_then_finalize_with_a_visible_reason(database, settings,
                                                                                  finished_session, fake_llm):
    sid, clock = finished_session["id"], Clock(finished_session["now"])
    fake_llm.mode = "500"
    live = settings.model_copy(update={"summary_provider": "anthropic", "anthropic_api_key": SecretStr(FAKE_KEY),
                                       "anthropic_base_url": fake_llm.url})
    drain(database, live, clock)
    waits = []
    for _ in range(3):
        with database.read() as db:
            run = db.scalars(select(JobRun).where(JobRun.job == "summaries.generate")).one()
        assert run.status == RunStatus.QUEUED and "HTTP 500" in run.error
        assert status_of(database, sid) == "pending_finalize"
        waits.append(run.run_after - clock.now)
        clock.now = run.run_after
        drain(database, live, clock)
    assert waits == [timedelta(seconds=15), timedelta(seconds=30), timedelta(seconds=60)]
    assert len(fake_llm.requests) == 4
    assert status_of(database, sid) == "finalized"
    assert versions(database, sid) == [(1, "unavailable", "anthropic", "skipped", "HTTP 500 (api_error): server error")]


def test_a_transient_failure_then_success_stores_one_good_summary(database, settings, finished_session, fake_llm):
    sid, clock = finished_session["id"], Clock(finished_session["now"])
    fake_llm.modes = ["429"]
    fake_llm.text = "midnightowl was the top tipper with 600 tokens; 1,250 tokens in all."
    live = settings.model_copy(update={"summary_provider": "anthropic", "anthropic_api_key": SecretStr(FAKE_KEY),
                                       "anthropic_base_url": fake_llm.url})
    drain(database, live, clock)
    clock.now += timedelta(seconds=15)
    drain(database, live, clock)
    assert versions(database, sid) == [(1, "ok", "anthropic", "passed", None)]
    assert status_of(database, sid) == "finalized"


def test_a_missing_key_finalizes_at_once_with_the_reason(database, settings, finished_session):
    sid, clock = finished_session["id"], Clock(finished_session["now"])
    drain(database, settings.model_copy(update={"summary_provider": "openai"}), clock)
    assert status_of(database, sid) == "finalized"
    assert versions(database, sid)[0][1:3] == ("unavailable", "openai")
    assert "no OpenAI API key" in versions(database, sid)[0][4]


def test_regenerating_adds_a_version_and_keeps_the_old_ones(database, settings, finished_session):
    sid, clock = finished_session["id"], Clock(finished_session["now"])
    drain(database, settings.model_copy(update={"summary_provider": "off"}), clock)
    assert versions(database, sid)[0][1] == "unavailable"
    with database.write() as db:
        first = service.request_regenerate(db, sid, clock.now)
        assert service.request_regenerate(db, sid, clock.now) == first  # a double click queues one run
    drain(database, settings, clock)
    assert [v[:3] for v in versions(database, sid)] == [(2, "ok", "offline"), (1, "unavailable", "off")]
    assert status_of(database, sid) == "finalized"


def test_a_run_that_gave_up_without_finalizing_is_closed_by_the_sweep(database, settings, finished_session):
    sid, clock = finished_session["id"], Clock(finished_session["now"])
    with database.write() as db:
        service.sweep(db, clock.now, timedelta(0))
        run = db.scalars(select(JobRun).where(JobRun.job == "summaries.generate")).one()
        # What a worker killed during its last attempt leaves behind once the lease is requeued.
        run.status, run.attempts, run.error = RunStatus.FAILED, 4, "lease expired: the worker stopped"
    with database.write() as db:
        report = service.sweep(db, clock.now, timedelta(0))
    assert report.closed == [sid]
    assert status_of(database, sid) == "finalized"
    assert versions(database, sid)[0][4] == "gave up after 4 attempts: lease expired: the worker stopped"


def test_running_the_job_by_hand_works_for_a_pending_session(database, settings, finished_session):
    sid = finished_session["id"]
    result = run_now(database, "summaries.generate", settings, {"session_id": sid})
    assert result["finalized"] is True
    with database.read() as db:
        assert db.scalar(select(SessionSummary.text).where(SessionSummary.session_id == sid))
