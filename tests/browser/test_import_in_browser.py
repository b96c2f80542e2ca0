"""Admin › Data › Token-history import in a real browser: upload, preview, Import, the progress bar
followed by static/imports.js until the job ends, then the summary and the past imports."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from greenroom.config import Settings
from greenroom.jobs.worker import Worker

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/greenroom-shots")
START = datetime(2026, 10, 1, 18, 0, tzinfo=UTC)


def _sign_in(page, base, path):
    page.goto(base + path)
    page.fill("#password", "browser test password")
    page.click("button[type=submit]")
    expect(page).to_have_url(base + path)


def _history(rows: int) -> bytes:
    lines = ["User,Token change,Timestamp,Note,Transaction type"]
    kinds = ["Private show", "Spy on private show", "Fan club", "Tip"]
    for i in range(rows):
        at = (START + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"fan{i % 40},{10 + i % 7},{at},\"<b>note {i}</b>\",{kinds[i % 4]}")
    return ("\n".join(lines) + "\n").encode()


def test_upload_preview_import_with_progress_and_summary(live_server, page, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, live_server.url, "/admin?tab=data")
    section = page.locator("#token-import")
    expect(section.locator("h2")).to_have_text("Token-history import")

    # The script refuses a file over the limit before sending it (the limit lowered for the test).
    page.evaluate("document.querySelector('#import-file').dataset.maxBytes = '100'")
    page.set_input_files("#import-file", files=[{"name": "big.csv", "mimeType": "text/csv", "buffer": _history(5)}])
    expect(page.locator("[data-import-file-error]")).to_contain_text("too big")
    expect(page.locator("[data-import-preview]")).to_be_disabled()
    page.reload()

    page.set_input_files("#import-file", files=[{"name": "history.csv", "mimeType": "text/csv",
                                                 "buffer": _history(3000)}])
    page.click("[data-import-preview]")
    expect(page.locator('[data-import-status="preview"]')).to_be_visible()
    expect(page.locator("[data-import-counts]")).to_contain_text("3,000 rows")
    expect(page.locator("[data-import-counts]")).to_contain_text("3,000 new, 0 already present")
    expect(page.locator("[data-import-preview-rows] tbody tr")).to_have_count(20)
    expect(page.locator("[data-import-preview-rows]")).to_contain_text("<b>note 0</b>")  # shown as text
    page.screenshot(path=str(SHOTS / "admin-import-preview.png"), full_page=True)

    page.click("[data-import-apply]")
    expect(page.locator("[data-import-phase]")).to_have_text("waiting for a worker…")
    expect(page.locator("[data-import-progress]")).to_be_visible()
    page.screenshot(path=str(SHOTS / "admin-import-waiting.png"), full_page=True)
    stop = threading.Event()
    worker = Worker(live_server.database, Settings(_env_file=None, data_dir=tmp_path / "data"), poll_interval=0.2,
                    lease=timedelta(seconds=30))
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        # imports.js polls the run and reloads the page when it finishes.
        expect(page.locator("[data-import-done]")).to_contain_text("3,000 new transactions", timeout=20_000)
        expect(page.locator("[data-import-poll]")).to_have_count(0)
    finally:
        stop.set()
        thread.join(timeout=10)
    expect(page.locator("[data-import-history] tbody tr")).to_have_count(1)
    expect(page.locator('[data-category="private"]')).to_contain_text("Private shows")
    page.screenshot(path=str(SHOTS / "admin-import-done.png"), full_page=True)

    # A malformed file: the errors with their lines, and nothing to import.
    page.set_input_files("#import-file", files=[{"name": "bad.csv", "mimeType": "text/csv",
                                                 "buffer": b"User,Token change,Timestamp\nx,ten,2026-10-01 18:00\n"}])
    page.click("[data-import-preview]")
    expect(page.locator("[data-import-errors]")).to_contain_text("Line 2: bad number")
    expect(page.locator("[data-import-apply]")).to_have_count(0)
    assert not [e for e in errors if "422" not in e], errors
