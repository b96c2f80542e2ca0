"""The Leaderboards page, API, exports and Dashboard card through the app (both engines)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

from greenroom.prefs.service import save
from greenroom.sessions.exclusions import add_exclusion
from tests.people.kit import Room
from tests.web.web_helpers import NOW, csrf_of

SECRET = "secretfan"


def _room() -> Room:
    room = Room().start(0)
    room.enter(10, "Ann").enter(20, "Bob").enter(25, SECRET).enter(30, "testacct")
    room.tip(40, "Ann", 100).tip(50, "Bob", 100).tip(60, SECRET, 500, anon=True).tip(70, "Bob", 10, anon=True)
    room.tip(80, "testacct", 9999).chat(90, "testacct", "me").chat(95, "Ann")
    room.leave(200, "Bob").stop(600)
    return room


def _api(client, **params):
    response = client.get("/api/leaderboards", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_api_answers_the_documented_schema_with_the_latest_session_by_default(signed_in, room_feed):
    room_feed(_room().envelopes)
    body = _api(signed_in)
    assert body["period"] == "session" and body["metric"] == "tokens" and body["session_id"] is not None
    assert body["timezone"] == "Europe/Berlin" and body["week_start"] == "monday"
    names = [r["username"] for r in body["rows"]]
    assert names == ["testacct", SECRET, "bob", "ann"]
    bob = body["rows"][2]
    assert bob["anon_value"] == 10 and bob["profile_url"] == "/people/bob" and bob["display_name"] == "Bob"
    assert body["grand_total"] == 9999 + 500 + 110 + 100 and body["total_rows"] == 4
    assert "reached the total first" in body["tie_break"]
    schema = signed_in.get("/api/openapi.json").json()
    assert "/api/leaderboards" in schema["paths"]
    assert schema["paths"]["/api/leaderboards"]["get"]["summary"]


def test_shareable_view_and_its_exports_never_name_an_anonymous_tipper(signed_in, room_feed):
    room_feed(_room().envelopes)
    body = _api(signed_in, period="session", metric="tokens", shareable="1")
    rows = [(r["username"], r["display_name"], r["value"], r["anonymous"]) for r in body["rows"]]
    assert (None, "Anonymous", 510, True) in rows and ("bob", "Bob", 100, False) in rows
    assert all("anon_value" not in r or r["anon_value"] is None for r in body["rows"])
    page = signed_in.get("/leaderboards", params={"shareable": "1"})
    assert page.status_code == 200 and "Anonymous" in page.text
    exports = [signed_in.get("/leaderboards", params={"shareable": "1", "format": f}) for f in ("csv", "json")]
    exports += [signed_in.get("/api/leaderboards", params={"shareable": "1", "format": f, "metric": "tips"})
                for f in ("csv", "json")]
    for text in [page.text, body and json.dumps(body)] + [e.text for e in exports]:
        assert SECRET not in text.lower()
    for metric in ("tips", "tokens"):
        shared = signed_in.get("/leaderboards", params={"shareable": "1", "metric": metric}).text
        assert SECRET not in shared.lower() and 'href="/people/' + SECRET not in shared
    # the owner's private view shows the name, marked anon
    private = signed_in.get("/leaderboards").text
    assert f'data-username="{SECRET}"' in private and "anon 500" in private


def test_excluded_users_appear_in_no_view_export_or_card(signed_in, room_feed, database):
    room_feed(_room().envelopes)
    with database.write() as db:
        add_exclusion(db, "testacct", NOW)
    texts = []
    for period in ("session", "week", "month", "all"):
        for metric in ("tokens", "tips", "visits", "watch_time", "chat"):
            for shareable in ("0", "1"):
                params = {"period": period, "metric": metric, "shareable": shareable, "offset": "4"}
                texts.append(signed_in.get("/leaderboards", params=params).text)
                texts.append(signed_in.get("/api/leaderboards", params=params).text)
                texts.append(signed_in.get("/api/leaderboards", params={**params, "format": "csv"}).text)
    texts.append(signed_in.get("/").text.split("data-leaders-card", 1)[1].split("</section>", 1)[0])
    assert all("testacct" not in t for t in texts)
    assert "ann" in _api(signed_in, period="month", metric="chat", offset="0")["rows"][0]["username"]


def test_the_export_holds_exactly_the_rows_on_screen(signed_in, room_feed):
    room_feed(_room().envelopes)
    params = {"period": "all", "metric": "tokens", "limit": "2", "page": "2"}
    page = signed_in.get("/leaderboards", params=params).text
    shown = re.findall(r'<tr data-rank="(\d+)" data-username="([^"]+)"', page)
    assert shown == [("3", "bob"), ("4", "ann")]
    exported = signed_in.get("/leaderboards", params={**params, "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="leaderboard-tokens-all-time.csv"' in exported.headers["content-disposition"]
    reader = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [(r["rank"], r["username"]) for r in reader] == shown
    assert reader[0]["value"] == "110" and reader[0]["anon_value"] == "10"
    as_json = signed_in.get("/api/leaderboards", params={**params, "format": "json"}).json()
    assert [(str(r["rank"]), r["username"]) for r in as_json] == shown
    assert "Page 2 of 2" in page


def test_week_start_and_time_zone_decide_the_period(signed_in, room_feed, database):
    # T0 is Sunday 2026-11-01 20:00 UTC; the owner is in Europe/Berlin (UTC+1 then).
    room = Room()
    room.tip(-20.5 * 3600, "octlate", 3)  # Sat 31 Oct 23:30 UTC = Sun 1 Nov 00:30 Berlin
    room.tip(10 * 60, "sunday", 5)  # Sun 1 Nov 20:10 UTC = 21:10 Berlin, still Sunday
    room.tip(3.5 * 3600, "monday", 7)  # Sun 1 Nov 23:30 UTC = Mon 2 Nov 00:30 Berlin
    room_feed(room.envelopes)
    # Now is Sat 28 Nov; weeks from Monday: this week = 23-29 Nov, 3 back = 2-8 Nov, 4 back = 26 Oct-1 Nov.
    three = _api(signed_in, period="week", metric="tokens", offset="3")
    four = _api(signed_in, period="week", metric="tokens", offset="4")
    assert [r["username"] for r in three["rows"]] == ["monday"]
    assert sorted(r["username"] for r in four["rows"]) == ["octlate", "sunday"]
    assert three["label"] == "Mon 02 Nov 2026 – Sun 08 Nov 2026"
    assert datetime.fromisoformat(three["start"]).isoformat() == "2026-11-01T23:00:00+00:00"
    month = _api(signed_in, period="month", metric="tokens", offset="0")
    assert sorted(r["username"] for r in month["rows"]) == ["monday", "octlate", "sunday"]
    assert _api(signed_in, period="month", metric="tokens", offset="1")["rows"] == []
    with database.write() as db:
        save(db, {"week_start": "Sunday"}, NOW)
    sunday_weeks = _api(signed_in, period="week", metric="tokens", offset="3")
    assert sunday_weeks["week_start"] == "sunday"
    # Sun 1 Nov - Sat 7 Nov in Berlin: "octlate" (Saturday night in UTC) is Sunday there
    assert sorted(r["username"] for r in sunday_weeks["rows"]) == ["monday", "octlate", "sunday"]
    page = signed_in.get("/leaderboards", params={"period": "week", "offset": "3"}).text
    assert "Weeks start on Sunday" in page and "3 weeks ago" in page and "Sun 01 Nov 2026" in page


def test_the_week_start_is_an_admin_setting(signed_in):
    token = csrf_of(signed_in)
    bad = signed_in.post("/admin/settings", data={"csrf_token": token, "week_start": "someday"})
    assert bad.status_code == 400 and "Week starts on" in bad.text
    ok = signed_in.post("/admin/settings", data={"csrf_token": token, "week_start": "saturday"},
                        follow_redirects=False)
    assert ok.status_code == 303
    settings_page = signed_in.get("/admin", params={"tab": "settings"}).text
    assert '<option value="saturday" selected>' in settings_page
    assert _api(signed_in, period="week")["week_start"] == "saturday"


def test_hostile_parameters_get_a_clear_4xx(signed_in, room_feed):
    room_feed(_room().envelopes)
    cases = [{"period": "year"}, {"metric": "<script>"}, {"session_id": "abc"}, {"session_id": "999999"},
             {"session_id": "-3"}, {"offset": "-1"}, {"offset": "99999"}, {"limit": "0"}, {"limit": "100000"},
             {"page": "0"}, {"page": "x"}, {"shareable": "maybe"}, {"format": "xml"}, {"period": "a" * 5000},
             {"session_id": "9" * 40}, {"offset": "1e3"}]
    for params in cases:
        for path in ("/api/leaderboards", "/leaderboards"):
            response = signed_in.get(path, params=params)
            assert 400 <= response.status_code < 500, (path, params, response.status_code)
            assert "Traceback" not in response.text and "<script>" not in response.text
    assert signed_in.get("/api/leaderboards", params={"period": "year"}).json()["error"]


def test_without_a_room_the_page_and_card_say_so(signed_in):
    assert "No room yet" in signed_in.get("/leaderboards").text
    assert _api(signed_in, period="all")["rows"] == []
    assert 'data-leaders-empty="session">No session yet.' in signed_in.get("/").text


def test_empty_states_say_why(signed_in, room_feed):
    room_feed(Room().tip(5, "early", 5).envelopes)  # a tip but never a broadcast
    assert "No session yet" in signed_in.get("/leaderboards").text
    assert "Nobody tipped in last week" in signed_in.get("/leaderboards",
                                                         params={"period": "week", "offset": "1",
                                                                 "metric": "tips"}).text
    past = signed_in.get("/leaderboards", params={"period": "all", "page": "9"}).text
    assert "past the end" in past


def test_dashboard_card_lists_the_top_tippers(signed_in, room_feed):
    room_feed(_room().envelopes)
    page = signed_in.get("/").text
    card = page.split("data-leaders-card", 1)[1].split("</section>", 1)[0]
    session = card.split('data-leaders="session"', 1)[1].split("</ol>", 1)[0]
    assert re.findall(r'href="/people/([^"]+)"', session) == ["testacct", SECRET, "bob", "ann"]
    assert 'data-leaders-empty="week"' in card  # nothing this week: the room was on 1 Nov
    assert 'href="/leaderboards"' in card
