"""The Admin › Data import section, the imports API, and imported income on people and sessions,
through the real app, a real database and the real job worker."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from greenroom.imports.models import TokenTransaction
from greenroom.ingest.pipeline import load_steps
from greenroom.jobs.worker import Worker
from greenroom.sessions.models import BroadcastSession
from tests.sessions.roomkit import T0, Room, ingest_via_pipeline
from tests.web.web_helpers import csrf_of

SAMPLE = Path(__file__).parent / "data" / "token_history.csv"
HEADER = "User,Token change,Timestamp,Note,Transaction type\n"


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def history() -> bytes:
    return (HEADER + f"Rich_Fan,25,{at(1)},Tip from Rich_Fan,Tip\n"
            f"rich_fan,600,{at(30)},Private show,Private show\n"
            f"lurker,90,{at(31)},Spy on private show,Spy on private show\n"
            f"rich_fan,250,{at(60 * 24)},Fan club,Fan club\n").encode()


def upload(client, data: bytes, name: str = "history.csv", csrf: str | None = "auto"):
    fields = {"csrf_token": csrf_of(client) if csrf == "auto" else csrf} if csrf is not None else {}
    return client.post("/admin/import/upload", data=fields, files={"file": (name, data, "text/csv")},
                       follow_redirects=False)


def post(client, path):
    return client.post(path, data={"csrf_token": csrf_of(client)}, follow_redirects=False)


def stored(database) -> int:
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(TokenTransaction))


def run_worker(database, app, clock) -> None:
    Worker(database, app.state.settings, clock=clock, poll_interval=0.01, lease=timedelta(seconds=30)).run_once()


def test_upload_preview_import_with_progress_then_summary_and_history(signed_in, database, app, clock, feed):
    assert upload(signed_in, SAMPLE.read_bytes(), csrf=None).status_code == 403  # no CSRF token: refused
    response = upload(signed_in, SAMPLE.read_bytes())
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/admin\?tab=data&import=\d+#token-import", location)
    page = signed_in.get(location).text
    assert 'data-import-status="preview"' in page and "data-import-preview-rows" in page
    assert "7 rows from" in page and "7 new, 0 already present" in page
    assert 'data-category="private"' in page and "1,200" in page  # two private shows of 600
    assert "no: the Events API already counts it" in page
    assert stored(database) == 0  # nothing is stored before Import

    import_id = int(location.split("import=")[1].split("#")[0])
    assert signed_in.post(f"/admin/import/{import_id}/apply", data={}, follow_redirects=False).status_code == 403
    assert post(signed_in, f"/admin/import/{import_id}/apply").status_code == 303
    page = signed_in.get(location).text
    run_id = int(re.search(r'data-import-poll="/api/admin/runs/(\d+)"', page).group(1))
    assert "<progress" in page and "waiting for a worker…" in page
    assert post(signed_in, f"/admin/import/{import_id}/apply").status_code == 409  # queued already

    run_worker(database, app, clock)
    status = signed_in.get(f"/api/admin/runs/{run_id}").json()
    assert status["finished"] and status["status"] == "succeeded"
    assert status["result"] == {"import_id": import_id, "rows_read": 7, "rows_new": 7, "rows_present": 0}
    page = signed_in.get(location).text
    assert "data-import-done" in page and "7 new transactions" in page and "data-import-poll" not in page
    assert stored(database) == 7

    # The same file again: previewed as all present, imported as nothing new.
    again = upload(signed_in, SAMPLE.read_bytes()).headers["location"]
    assert "0 new, 7 already present" in signed_in.get(again).text
    second = int(again.split("import=")[1].split("#")[0])
    post(signed_in, f"/admin/import/{second}/apply")
    run_worker(database, app, clock)
    assert stored(database) == 7
    history_rows = re.findall(r'data-import-row="(\d+)"', signed_in.get("/admin?tab=data").text)
    assert history_rows == [str(second), str(import_id)]


def test_a_malformed_upload_shows_its_errors_and_imports_nothing(signed_in, database, feed):
    bad = HEADER + f"a,10,{at(1)},,Tip\nb,1O,{at(2)},,Tip\nc,5,{at(3)},,Tip,extra\n"
    page = signed_in.get(upload(signed_in, bad.encode()).headers["location"]).text
    assert "This file was rejected: nothing was imported." in page
    assert "Line 3: bad number" in page and "Line 4: wrong column count" in page
    assert "data-import-apply" not in page
    assert stored(database) == 0
    binary = signed_in.get(upload(signed_in, b"\x89PNG\r\n\x1a\n\x00\x00").headers["location"]).text
    assert "this is not a CSV file" in binary


def test_hostile_notes_and_names_are_escaped_everywhere(signed_in, feed):
    text = (HEADER + f'x,5,{at(1)},"<script>alert(1)</script>",<b>Private</b>\n'
            f'y,6,{at(2)},"=HYPERLINK(""http://evil"")",Tip\n')
    page = signed_in.get(upload(signed_in, text.encode(), name="<img src=x onerror=alert(1)>.csv")
                         .headers["location"]).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Private</b>" not in page and "<img src=x" not in page
    assert "=HYPERLINK(&#34;http://evil&#34;)" in page or "=HYPERLINK(&quot;http://evil&quot;)" in page


def test_imported_income_on_the_person_and_the_session_without_counting_tips_twice(signed_in, database, app,
                                                                                    clock, feed):
    load_steps()
    ingest_via_pipeline(database, feed.feed_id, Room().start(0).tip(60, "Rich_Fan", 25).enter(100, "lurker")
                        .stop(3600).envelopes, T0 + timedelta(hours=1))
    before = signed_in.get("/api/people/rich_fan").json()
    assert before["imported_income"] is None
    post(signed_in, f"/admin/import/{int(upload(signed_in, history()).headers['location'].split('import=')[1][:-13])}"
                    "/apply")
    run_worker(database, app, clock)

    person = signed_in.get("/api/people/RICH_FAN").json()
    assert person["stats"]["lifetime_tokens"] == before["stats"]["lifetime_tokens"] == 25  # the tip, once
    income = person["imported_income"]
    assert income["source"] == "from token history" and income["total_tokens"] == 850
    assert {c["category"]: c["tokens"] for c in income["categories"]} == {"private": 600, "fanclub": 250}
    profile = signed_in.get("/people/rich_fan").text
    assert "data-imported-income" in profile and 'data-imported="private">600<' in profile
    assert "from token history" in profile

    with database.read() as db:
        session_id = db.scalar(select(BroadcastSession.id))
    detail = signed_in.get(f"/api/sessions/{session_id}").json()
    assert detail["stats"]["tokens"] == 25  # the Events API's own count is untouched
    assert detail["imported_income"]["total_tokens"] == 690  # private 600 + spy 90 inside the span
    assert [c["category"] for c in detail["imported_income"]["categories"]] == ["private", "spy"]
    page = signed_in.get(f"/sessions/{session_id}").text
    assert "data-imported-income" in page and "from token history" in page and 'data-imported="spy">90<' in page


def test_the_imports_api_upload_preview_import_and_discard(signed_in, database, app, clock, feed):
    headers = {"X-CSRF-Token": csrf_of(signed_in)}
    files = {"file": ("h.csv", SAMPLE.read_bytes(), "text/csv")}
    assert signed_in.post("/api/imports", files=files).status_code == 403
    created = signed_in.post("/api/imports", files=files, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "preview" and body["rows_new"] == 7 and len(body["preview"]) == 7
    assert body["columns"]["tokens"] == "Token change" and body["timezone"] == "Europe/Berlin"
    assert signed_in.get(f"/api/imports/{body['id']}").json()["preview"][0]["username"] == "rich_fan"

    queued = signed_in.post(f"/api/imports/{body['id']}/import", headers=headers)
    assert queued.status_code == 202 and queued.json()["import"]["status"] == "queued"
    run_worker(database, app, clock)
    assert signed_in.get(f"/api/imports/{body['id']}").json()["status"] == "done"
    assert signed_in.post(f"/api/imports/{body['id']}/import", headers=headers).status_code == 409
    assert signed_in.delete(f"/api/imports/{body['id']}", headers=headers).status_code == 409

    bad = signed_in.post("/api/imports", headers=headers,
                         files={"file": ("b.csv", (HEADER + "a,x,2026-11-01 20:00,,Tip\n").encode(), "text/csv")})
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].endswith("line 2: bad number 'x' in the token column (a whole number is "
                                                   "expected)")
    rejected_id = bad.json()["import"]["id"]
    assert signed_in.delete(f"/api/imports/{rejected_id}", headers=headers).json() == {"deleted": rejected_id}
    listing = signed_in.get("/api/imports").json()
    assert [i["id"] for i in listing["imports"]] == [body["id"]] and listing["stored_transactions"] == 7
    assert signed_in.get("/api/imports/999999").status_code == 404
    assert signed_in.get("/api/imports/99999999999999999999").status_code in (404, 422)
    schema = signed_in.get("/api/openapi.json").json()
    assert "/api/imports/{import_id}/import" in schema["paths"]


def test_a_too_big_upload_is_refused_and_a_preview_can_be_discarded(signed_in, database, feed, monkeypatch):
    monkeypatch.setattr("greenroom.web.api.imports.MAX_BYTES", 100)
    refused = upload(signed_in, SAMPLE.read_bytes())
    assert refused.status_code == 422 and "too big" in refused.text
    headers = {"X-CSRF-Token": csrf_of(signed_in)}
    api = signed_in.post("/api/imports", headers=headers, files={"file": ("h.csv", SAMPLE.read_bytes(), "text/csv")})
    assert api.status_code == 422 and api.json()["error"]["code"] == "import_rejected"
    monkeypatch.undo()
    location = upload(signed_in, SAMPLE.read_bytes()).headers["location"]
    import_id = int(location.split("import=")[1].split("#")[0])
    assert post(signed_in, f"/admin/import/{import_id}/discard").status_code == 303
    assert signed_in.get(f"/api/imports/{import_id}").status_code == 404
    assert stored(database) == 0
