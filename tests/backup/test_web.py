"""Admin › Data › Backup: the download is a complete backup, optionally encrypted."""

from __future__ import annotations

import re

from greenroom.backup.restore import verify
from tests.web.web_helpers import SECRET_TOKEN, csrf_of, tip


def _download(client, **form):
    return client.post("/admin/backup", data={"csrf_token": csrf_of(client)} | form)


def test_the_data_tab_offers_the_backup_and_the_restore_command(signed_in):
    page = signed_in.get("/admin", params={"tab": "data"}).text
    assert 'action="/admin/backup"' in page and "greenroom restore" in page and 'type="password"' in page


def test_the_download_is_a_backup_that_verifies(signed_in, feed, tmp_path):
    feed(tip(1, note="first"), tip(2))
    response = _download(signed_in)
    assert response.status_code == 200
    assert re.match(r'attachment; filename="greenroom-\d{8}-\d{6}\.greenroom-backup"',
                    response.headers["content-disposition"])
    assert SECRET_TOKEN.encode() not in response.content
    path = tmp_path / "b"
    path.write_bytes(response.content)
    manifest = verify(path)
    assert {t["name"]: t["rows"] for t in manifest["tables"]}["events"] == 2
    assert [f["name"] for f in manifest["files"]] == ["files/secret_key"]


def test_an_encrypted_download_needs_its_password(signed_in, feed, tmp_path):
    feed(tip(1))
    response = _download(signed_in, password="long enough pw", password_again="long enough pw")
    assert response.status_code == 200 and "-encrypted" in response.headers["content-disposition"]
    path = tmp_path / "b"
    path.write_bytes(response.content)
    assert verify(path, "long enough pw")["encrypted"] is True


def test_bad_passwords_are_a_clear_400(signed_in):
    assert _download(signed_in, password="long enough pw", password_again="other one").status_code == 400
    assert _download(signed_in, password="short", password_again="short").status_code == 400


def test_the_download_needs_login_and_the_form_token(client, signed_in):
    assert signed_in.post("/admin/backup", data={}).status_code in (400, 403)
    client.cookies.clear()
    assert client.post("/admin/backup", data={}, follow_redirects=False).status_code in (303, 401, 403)
