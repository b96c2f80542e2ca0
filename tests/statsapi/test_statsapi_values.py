from datetime import UTC, datetime

import pytest

from greenroom.config import ConfigError, Settings, parse_stats_url, register_secrets
from greenroom.secrets import redact
from greenroom.statsapi.client import MalformedResponse, parse_body
from greenroom.statsapi.values import count, has_known_fields, read_values

TOKEN = "abcdefghijklmnopqrstuvwx"


def test_numbers_may_arrive_as_strings_and_unreadable_values_become_none():
    values = read_values({
        "username": "Alice", "num_viewers": "1,234", "num_followers": 52000.0, "token_balance": " 77 ",
        "satisfaction_score": "97%", "votes_up": True, "votes_down": -3, "tips_in_last_hour": "lots",
        "num_registered_viewers": 10**30, "time_online": "42", "last_broadcast": "2026-11-28T21:05:00",
        "something_new": {"nested": 1},
    })
    assert values.ints["num_viewers"] == 1234
    assert values.ints["num_followers"] == 52000
    assert values.ints["token_balance"] == 77
    assert values.satisfaction_score == 97
    assert values.ints["votes_up"] is None  # a boolean is not a count
    assert values.ints["votes_down"] is None  # nor is a negative number
    assert values.ints["tips_in_last_hour"] is None
    assert values.ints["num_registered_viewers"] is None  # beyond any real counter
    assert values.ints["num_tokened_viewers"] is None  # missing key
    assert values.time_online_minutes == 42
    assert values.last_broadcast == datetime(2026, 11, 28, 21, 5, tzinfo=UTC)
    assert values.username == "alice"


def test_minus_one_means_not_broadcasting_and_never_broadcast():
    values = read_values({"time_online": -1, "last_broadcast": -1, "satisfaction_score": 140})
    assert values.time_online_minutes is None
    assert values.last_broadcast is None
    assert values.satisfaction_score is None  # a percentage above 100 is not believed


@pytest.mark.parametrize("value", ["nan", "inf", "", None, [], {}, "1e400"])
def test_non_numbers_are_none(value):
    assert count(value) is None


def test_an_answer_must_be_a_json_object_with_a_stats_field():
    with pytest.raises(MalformedResponse, match="invalid JSON"):
        parse_body(b'{"num_viewers": 1')
    with pytest.raises(MalformedResponse, match="not a JSON object"):
        parse_body(b"[1, 2]")
    assert not has_known_fields({"status": "error", "username": "alice"})
    assert has_known_fields({"num_followers": 3})


def test_the_url_is_validated_without_repeating_it():
    parsed = parse_stats_url(f"https://chaturbate.com/statsapi/?username=Alice&token={TOKEN}")
    assert (parsed.username, parsed.token, parsed.host) == ("alice", TOKEN, "chaturbate.com")
    assert parsed.masked == "https://chaturbate.com/statsapi/?username=alice&token=****"
    assert TOKEN not in repr(parsed)
    for bad in (f"ftp://chaturbate.com/statsapi/?username=a&token={TOKEN}",
                f"https://chaturbate.com/events/alice/{TOKEN}/",
                "https://chaturbate.com/statsapi/?username=alice",
                f"https://chaturbate.com/statsapi/?token={TOKEN}",
                f"http://chaturbate.com/statsapi/?username=alice&token={TOKEN}"):  # clear text over the internet
        with pytest.raises(ConfigError) as caught:
            parse_stats_url(bad)
        assert TOKEN not in str(caught.value)
    # Plain http is fine to this machine or a private network (a simulator, a local proxy).
    assert parse_stats_url(f"http://127.0.0.1:8765/statsapi/?username=a&token={TOKEN}").scheme == "http"
    assert parse_stats_url(f"http://192.168.1.20/statsapi?username=a&token={TOKEN}").host == "192.168.1.20"


def test_the_setting_is_secret_and_its_token_is_redacted_everywhere(tmp_path):
    url = f"https://chaturbate.com/statsapi/?username=alice&token={TOKEN}"
    settings = Settings(_env_file=None, data_dir=tmp_path, stats_url=url)
    assert TOKEN not in repr(settings)
    register_secrets(settings)
    assert redact(f"GET /statsapi/?username=alice&token={TOKEN} failed") == \
        "GET /statsapi/?username=alice&token=**** failed"
    with pytest.raises(Exception) as caught:
        Settings(_env_file=None, data_dir=tmp_path, stats_url=f"https://x.example/nope?token={TOKEN}")
    assert TOKEN not in str(caught.value)
    assert Settings(_env_file=None, data_dir=tmp_path, stats_url="  ").stats_url is None
