"""Admin › Settings: validation, write-only keys, the exclusion list and alert rules."""

from __future__ import annotations

from greenroom.prefs.service import effective, saved
from tests.web.web_helpers import csrf_of

KEY = "sk-ant-verysecret-0123456789"
GOOD = {"merge_window_minutes": "45", "stale_session_minutes": "90", "timezone": "America/New_York",
        "summary_provider": "anthropic", "summary_model": "claude-test", "summary_delay_minutes": "5",
        "anthropic_base_url": "", "openai_base_url": "http://127.0.0.1:8080/v1", "anthropic_api_key": KEY,
        "openai_api_key": ""}


def post(client, path, **data):
    return client.post(path, data={"csrf_token": csrf_of(client), **data}, follow_redirects=False)


def test_valid_settings_are_saved_and_used_over_the_environment(signed_in, database, app):
    response = post(signed_in, "/admin/settings", **GOOD)
    assert response.status_code == 303 and response.headers["location"] == "/admin?tab=settings&saved=1"
    with database.read() as db:
        current = effective(db, app.state.env_settings)
    assert (current.merge_window_minutes, current.stale_session_minutes) == (45, 90)
    assert (current.timezone, current.summary_provider, current.summary_delay_minutes) == ("America/New_York",
                                                                                         "anthropic", 5)
    assert current.anthropic_api_key.get_secret_value() == KEY
    assert app.state.settings.timezone == "America/New_York"  # this process uses them at once


def test_invalid_settings_are_refused_with_a_reason_each_and_nothing_is_saved(signed_in, database):
    bad = {**GOOD, "merge_window_minutes": "-5", "timezone": "Mars/Olympus", "summary_provider": "gpt",
           "openai_base_url": "ftp://x", "stale_session_minutes": "soon"}
    response = post(signed_in, "/admin/settings", **bad)
    assert response.status_code == 400
    text = response.text
    assert "Nothing was saved: 5 problems" in text
    assert "Merge window (minutes) must be between 0 and 1440" in text
    assert "unknown time zone" in text and "must be one of offline, anthropic, openai, off" in text
    assert "must be an http(s) URL" in text and "must be a whole number" in text
    assert 'value="Mars/Olympus"' in text  # what was typed stays in the form
    with database.read() as db:
        assert saved(db) == {}


def test_api_keys_are_write_only_never_shown_on_pages_or_in_api_answers(signed_in, database):
    post(signed_in, "/admin/settings", **GOOD)
    for path in ("/admin?tab=settings", "/admin?tab=status", "/admin?tab=jobs", "/api/openapi.json"):
        assert KEY not in signed_in.get(path).text
    page = signed_in.get("/admin?tab=settings").text
    assert 'data-key-state="set"' in page and 'data-key-state="not set"' in page
    # An empty key field keeps the saved key; "remove" clears it.
    post(signed_in, "/admin/settings", **{**GOOD, "anthropic_api_key": ""})
    with database.read() as db:
        assert saved(db)["anthropic_api_key"] == KEY
    post(signed_in, "/admin/settings", **{**GOOD, "anthropic_api_key": "", "clear_anthropic_api_key": "1"})
    with database.read() as db:
        assert "anthropic_api_key" not in saved(db)


def test_users_are_excluded_and_included_again_from_the_settings_tab(signed_in):
    assert post(signed_in, "/admin/exclusions", action="add", username="  TestAccount ").status_code == 303
    assert "<li>testaccount" in signed_in.get("/admin?tab=settings").text
    assert post(signed_in, "/admin/exclusions", action="remove", username="testaccount").status_code == 303
    assert "No one is excluded." in signed_in.get("/admin?tab=settings").text
    assert post(signed_in, "/admin/exclusions", action="add", username=" ").status_code == 400


def test_alert_rules_are_added_and_switched_off_from_the_settings_tab(signed_in):
    assert post(signed_in, "/admin/alerts", action="add", kind="tip_at_least", threshold="500",
                sound="1").status_code == 303
    page = signed_in.get("/admin?tab=settings").text
    assert "Big tip" in page and ">500<" in page and "Enabled" in page
    rule_id = page.split('name="rule_id" value="', 1)[1].split('"', 1)[0]
    assert post(signed_in, "/admin/alerts", action="disable", rule_id=rule_id).status_code == 303
    assert "Disabled" in signed_in.get("/admin?tab=settings").text
    assert post(signed_in, "/admin/alerts", action="add", kind="tip_at_least", threshold="lots").status_code == 400
