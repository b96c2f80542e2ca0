"""People and Profile pages through the app: escaping, forms, unknown names."""

from __future__ import annotations

import re

from tests.people.kit import Room
from tests.web.web_helpers import csrf_of

HOSTILE = "<script>alert(1)</script>"


def _room():
    return (Room().start(0).enter(10, {"username": "<b>Mallory", "isMod": True}).chat(20, "<b>Mallory", HOSTILE)
            .tip(30, "<b>Mallory", 40, note="<img src=x onerror=alert(2)>").enter(40, "quietfan").stop(100)
            .envelopes)


def test_the_people_page_lists_people_with_badges_and_escapes_names(signed_in, room_feed):
    room_feed(_room())
    page = signed_in.get("/people", params={"sort": "tokens"})
    assert page.status_code == 200
    assert "&lt;b&gt;Mallory" in page.text and "<b>Mallory" not in page.text
    assert 'data-badge="mod"' in page.text
    assert "1–2 of 2" in page.text
    empty = signed_in.get("/people", params={"q": "zzz"})
    assert "No one matches “zzz”" in empty.text and "Clear filters" in empty.text
    assert signed_in.get("/people", params={"view": "grid"}).status_code == 200


def test_the_profile_shows_placeholder_stats_and_timeline_as_text(signed_in, room_feed):
    room_feed(_room())
    page = signed_in.get("/people/%3Cb%3EMALLORY")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and HOSTILE not in page.text
    assert "&lt;img src=x onerror=alert(2)&gt;" in page.text
    assert re.search(r'data-stat="lifetime_tokens">40<', page.text)
    assert "Tokens per day" in page.text and "<title>2026-11-01: 40 tokens</title>" in \
        signed_in.get("/people/%3Cb%3Emallory", params={"crange": "all"}).text
    sessions = signed_in.get("/people/%3Cb%3Emallory", params={"tab": "sessions"}).text
    assert re.search(r'<td class="num">1 min</td><td class="num tokens">40</td><td class="num">1</td>', sessions)
    unknown = signed_in.get("/people/nobody-at-all")
    assert unknown.status_code == 404 and "Never seen “nobody-at-all”" in unknown.text


def test_profile_forms_save_relationship_notes_names_and_flags(signed_in, room_feed):
    room_feed(_room())
    token = csrf_of(signed_in)
    base = "/people/quietfan"
    r = signed_in.post(base + "/relationship", data={"csrf_token": token, "roles": ["friend", "sub"],
                                                     "status": "occasional", "traits": "shy, kind"},
                       follow_redirects=False)
    assert r.status_code == 303
    signed_in.post(base + "/relationship", data={"csrf_token": token, "roles": ["friend"], "status": "active"})
    signed_in.post(base + "/notes", data={"csrf_token": token, "text": "met at <i>the</i> show"})
    signed_in.post(base + "/names", data={"csrf_token": token, "real_name": "Quinn", "address_terms": "Q, buddy"})
    signed_in.post(base + "/flags", data={"csrf_token": token, "flag": "watchlist", "value": "on"})
    page = signed_in.get(base).text
    assert "Occasional → Active" in page
    assert "met at &lt;i&gt;the&lt;/i&gt; show" in page
    assert 'value="Quinn"' in page and ">buddy<" in page
    assert 'data-badge="friend"' in page and 'data-badge="watchlist"' in page
    assert signed_in.post(base + "/notes", data={"text": "no token"}).status_code == 403


def test_images_upload_through_the_page_become_current_and_refuse_non_images(signed_in, room_feed):
    from tests.people.test_people_api import PNG

    room_feed(_room())
    token = csrf_of(signed_in)
    files = [("files", ("a.png", PNG, "image/png")), ("files", ("b.png", PNG, "image/png"))]
    r = signed_in.post("/people/quietfan/images", data={"csrf_token": token, "description": "<b>at the beach</b>"},
                       files=files, follow_redirects=False)
    assert r.status_code == 303
    page = signed_in.get("/people/quietfan", params={"tab": "images"}).text
    assert page.count('<img src="/people/quietfan/images/') == 2 and "&lt;b&gt;at the beach&lt;/b&gt;" in page
    assert re.search(r'data-profile-image src="/people/quietfan/images/\d+"', page)
    bad = signed_in.post("/people/quietfan/images", data={"csrf_token": token},
                         files=[("files", ("x.svg", b"<svg onload=alert(1)/>", "image/svg+xml"))])
    assert bad.status_code == 400 and "PNG, JPEG, GIF or WebP" in bad.text
