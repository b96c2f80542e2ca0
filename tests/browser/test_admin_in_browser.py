"""Admin › Jobs, Settings and Data in a real browser; the data tools' progress is followed by
static/admin.js until the run finishes."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from greenroom.config import Settings
from greenroom.jobs.worker import Worker

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/greenroom-shots")


def _sign_in(page, base, path):
    page.goto(base + path)
    page.fill("#password", "browser test password")
    page.click("button[type=submit]")
    expect(page).to_have_url(base + path)


def test_the_admin_tabs_list_jobs_validate_settings_and_run_the_doctor_with_progress(live_server, page, tmp_path):
    SHOTS.mkdir(exist_ok=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in(page, live_server.url, "/admin?tab=jobs")
    row = page.locator('[data-job="summaries.sweep"]')
    expect(row).to_contain_text("core")
    expect(row).to_contain_text("every minute")
    page.screenshot(path=str(SHOTS / "admin-jobs.png"), full_page=True)
    page.locator('[data-job="jobs.cleanup"] [data-run-now]').click()
    expect(page.locator(".notice")).to_contain_text("jobs.cleanup queued")

    page.goto(live_server.url + "/admin?tab=settings")
    page.fill("#set-merge_window_minutes", "-3")
    page.evaluate("document.querySelector('[data-settings]').noValidate = true")  # show the server's check
    page.fill("#set-anthropic_api_key", "sk-ant-browser-secret-1234")
    page.click("[data-settings] button[type=submit]")
    expect(page.locator("[data-settings-errors]")).to_contain_text("Nothing was saved")
    expect(page.locator("#err-merge_window_minutes")).to_contain_text("between 0 and 1440")
    page.fill("#set-merge_window_minutes", "40")
    page.fill("#set-anthropic_api_key", "sk-ant-browser-secret-1234")
    page.click("[data-settings] button[type=submit]")
    expect(page.locator(".notice")).to_have_text("Settings saved.")
    expect(page.locator("#set-merge_window_minutes")).to_have_value("40")
    expect(page.locator("#set-anthropic_api_key")).to_have_attribute("data-key-state", "set")
    assert "sk-ant-browser-secret-1234" not in page.content()
    page.screenshot(path=str(SHOTS / "admin-settings.png"), full_page=True)

    errors.clear()  # the refused form above was a 400 page load, which chromium logs as an error
    stop = threading.Event()
    worker = Worker(live_server.database, Settings(_env_file=None, data_dir=tmp_path), poll_interval=0.2,
                    lease=timedelta(seconds=30))
    page.goto(live_server.url + "/admin?tab=data")
    page.click("[data-start=doctor]")
    expect(page.locator("[data-run-poll]")).to_have_count(1)
    expect(page.locator("[data-run-phase]")).to_have_text("waiting for a worker…")
    page.screenshot(path=str(SHOTS / "admin-data-waiting.png"), full_page=True)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        # admin.js polls the run and reloads the page when it finishes.
        expect(page.locator("[data-doctor-ok], [data-doctor-findings]")).to_have_count(1, timeout=15_000)
        expect(page.locator("[data-run-poll]")).to_have_count(0)
    finally:
        stop.set()
        thread.join(timeout=10)
    page.screenshot(path=str(SHOTS / "admin-data-done.png"), full_page=True)
    assert not errors, errors
