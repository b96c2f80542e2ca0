"""A worker killed while the provider is writing a summary: the session is picked up again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from greenroom.db.types import utcnow
from greenroom.jobs.models import JobRun, RunStatus
from greenroom.jobs.worker import Worker
from greenroom.sessions.models import BroadcastSession
from greenroom.summaries import service
from tests.summaries.conftest import FAKE_KEY

WORKER = Path(__file__).with_name("summary_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_killing_a_worker_mid_summary_leaves_the_session_to_be_summarized_by_another(
        database, db_url, settings, finished_session, fake_llm, tmp_path):
    sid = finished_session["id"]
    fake_llm.modes, fake_llm.slow_seconds = ["slow"], 60.0  # the first call hangs until the worker dies
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GREENROOM_SUMMARY_PROVIDER": "anthropic",
           "GREENROOM_ANTHROPIC_API_KEY": FAKE_KEY, "GREENROOM_ANTHROPIC_BASE_URL": fake_llm.url,
           "GREENROOM_TIMEZONE": "Europe/Berlin"}
    with database.write() as db:
        service.sweep(db, utcnow(), timedelta(0))
    out = open(tmp_path / "worker.out", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, str(WORKER), db_url, "1"], env=env, stdout=out,
                            stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        wait_for(lambda: fake_llm.requests, what=f"the provider call; {(tmp_path / 'worker.out').read_text()}")
        with database.read() as db:
            run = db.scalars(select(JobRun).where(JobRun.job == "summaries.generate")).one()
        assert run.status == RunStatus.RUNNING and run.attempts == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        out.close()
    with database.read() as db:
        assert db.scalar(select(BroadcastSession.status).where(BroadcastSession.id == sid)) == "pending_finalize"

    time.sleep(1.2)  # the dead worker's lease (1 s) lapses
    live = settings.model_copy(update={"summary_provider": "anthropic", "anthropic_api_key": SecretStr(FAKE_KEY),
                                       "anthropic_base_url": fake_llm.url})
    Worker(database, live, poll_interval=0.01, lease=timedelta(seconds=5)).run_once()
    with database.read() as db:
        run = db.scalars(select(JobRun).where(JobRun.job == "summaries.generate")).one()
        status = db.scalar(select(BroadcastSession.status).where(BroadcastSession.id == sid))
        summaries = service.history(db, sid)
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 2)
    assert status == "finalized"
    assert [(s.version, s.status, s.provider) for s in summaries] == [(1, "ok", "anthropic")]
    assert len(fake_llm.requests) == 2
