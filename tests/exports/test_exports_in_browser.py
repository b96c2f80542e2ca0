"""In a real browser: the "Export CSV" link of a filtered list downloads exactly that list, and
Admin › Data › Backup downloads a backup that verifies."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from greenroom.backup.restore import verify
from tests.browser.conftest import live_server, page  # noqa: F401
from tests.people.kit import Room, ingest

pytestmark = pytest.mark.browser


def _sign_in(page, base, path):  # noqa: F811
    page.goto(base + path)
    page.fill("#password", "browser test password")
    page.click("button[type=submit]")
    expect(page).to_have_url(base + path)


def test_export_links_and_the_backup_download(live_server, page, tmp_path):  # noqa: F811
    room = Room().start(0)
    for i in range(30):
        name = f"midnight{i:02d}" if i % 2 else f"star{i:02d}"
        room.enter(1 + i, name).tip(40 + i, name, 1 + i)
    ingest(live_server.database, live_server.feed_id, room.stop(100).envelopes)
    _sign_in(page, live_server.url, "/people?q=star&sort=name&size=10")
    with page.expect_download() as info:
        page.locator("[data-export] a", has_text="Export CSV").click()
    download = info.value
    assert download.suggested_filename == "people.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert [r["username"] for r in rows] == sorted(f"star{i:02d}" for i in range(0, 30, 2))

    page.goto(live_server.url + "/admin?tab=data")
    page.fill("#backup input[name=password]", "browser backup pw")
    page.fill("#backup input[name=password_again]", "browser backup pw")
    with page.expect_download() as info:
        page.click("[data-download=backup]")
    path = tmp_path / "downloaded"
    info.value.save_as(path)
    manifest = verify(path, "browser backup pw")
    assert {t["name"]: t["rows"] for t in manifest["tables"]}["people"] == 30
