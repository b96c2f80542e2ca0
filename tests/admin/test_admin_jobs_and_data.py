"""Admin › Jobs and Admin › Data through the real app and database."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from greenroom.jobs.models import Job, JobRun, RunStatus
from greenroom.jobs.worker import Worker
from tests.sessions.roomkit import Room
from tests.web.web_helpers import csrf_of


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_of(client), **data}, follow_redirects=False)


def test_the_jobs_tab_lists_every_job_with_state_schedule_and_actions(signed_in):
    page = signed_in.get("/admin?tab=jobs")
    assert page.status_code == 200
    for name in ("sessions.finalize_due", "summaries.sweep", "summaries.generate", "data.rebuild", "jobs.cleanup"):
        assert f'data-job="{name}"' in page.text
    assert "every minute" in page.text and "when queued" in page.text
    assert "core job: really switch it off?" in page.text


def test_run_now_queues_a_run_for_a_worker(signed_in, database):
    response = post(signed_in, "/admin/jobs/jobs.cleanup/run")
    assert response.status_code == 303 and "queued" in response.headers["location"]
    with database.read() as db:
        run = db.scalars(select(JobRun).where(JobRun.job == "jobs.cleanup")).one()
    assert run.status == RunStatus.QUEUED and run.slot.startswith("manual:")
    assert "queued" in signed_in.get(response.headers["location"]).text


def test_a_core_job_goes_off_only_with_the_explicit_confirmation(signed_in, database):
    refused = post(signed_in, "/admin/jobs/summaries.sweep/disable")
    assert refused.status_code == 409
    assert post(signed_in, "/admin/jobs/summaries.sweep/disable", force="1").status_code == 303
    with database.read() as db:
        row = db.get(Job, "summaries.sweep")
        assert (row.enabled, row.forced_off) == (False, True)
    assert post(signed_in, "/admin/jobs/summaries.sweep/enable").status_code == 303
    with database.read() as db:
        assert db.get(Job, "summaries.sweep").enabled


def test_job_actions_need_the_csrf_token(signed_in):
    response = signed_in.post("/admin/jobs/jobs.cleanup/run", data={}, follow_redirects=False)
    assert response.status_code == 403


def _run_worker(database, app, clock):
    Worker(database, app.state.settings, clock=clock, poll_interval=0.01, lease=timedelta(seconds=30)).run_once()


def test_doctor_runs_from_the_page_and_its_findings_and_fix_show_there(signed_in, database, app, clock, feed):
    room = Room().start(0).enter(10, "fan").stop(600)
    feed(*room.envelopes)  # stored but never linked to a session: the doctor finds nothing to link yet
    assert post(signed_in, "/admin/data/doctor").status_code == 303
    page = signed_in.get("/admin?tab=data")
    run_id = int(re.search(r'data-run-poll="/api/admin/runs/(\d+)"', page.text).group(1))
    assert signed_in.get(f"/api/admin/runs/{run_id}").json()["finished"] is False
    _run_worker(database, app, clock)
    status = signed_in.get(f"/api/admin/runs/{run_id}").json()
    assert status["finished"] and status["status"] == "succeeded"
    assert status["result"]["fix"] is False
    page = signed_in.get("/admin?tab=data")
    assert "data-doctor-ok" in page.text or "data-doctor-findings" in page.text


def test_rebuild_needs_confirmation_then_runs_and_reports_progress_and_result(signed_in, database, app, clock, feed):
    feed(*Room().start(0).tip(60, "fan", 25).stop(600).envelopes)
    assert post(signed_in, "/admin/data/rebuild").status_code == 400
    assert post(signed_in, "/admin/data/rebuild", confirmed="1").status_code == 303
    with database.read() as db:
        run_id = db.scalar(select(JobRun.id).where(JobRun.job == "data.rebuild"))
    _run_worker(database, app, clock)
    status = signed_in.get(f"/api/admin/runs/{run_id}").json()
    assert status["status"] == "succeeded", status
    assert status["result"]["sessions"] == 1 and status["result"]["events"] == 3
    assert "3 events, 1 sessions" in signed_in.get("/admin?tab=data").text


def test_an_unknown_run_is_a_404_in_json(signed_in):
    response = signed_in.get("/api/admin/runs/999999")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
