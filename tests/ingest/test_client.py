from __future__ import annotations

import json

import httpx2
import pytest

from greenroom.ingest.client import CredentialsRejected, FeedClient, TransientError
from greenroom.secrets import parse_feed_url

FEED = parse_feed_url("https://events.example.test/events/alice/t0ps3cret-token/")


def _client(handler, timeout=10):
    return FeedClient(FEED, timeout=timeout, transport=httpx2.MockTransport(handler))


def _ok(events, next_url, status=200):
    return httpx2.Response(status, json={"events": events, "nextUrl": next_url})


def test_it_asks_for_the_configured_timeout_and_follows_a_relative_next_url():
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return _ok([{"id": "1-0"}], "/events/alice/t0ps3cret-token/?i=1-0&timeout=10")

    result = _client(handler).poll(None)
    assert "timeout=10" in seen[0]
    assert result.cursor == "i=1-0" and result.cursor_event_id == "1-0" and len(result.events) == 1


def test_the_read_timeout_exceeds_the_long_poll_timeout():
    client = _client(lambda r: _ok([], None), timeout=90)
    assert client.read_timeout > 90


def test_a_next_url_on_another_host_is_refused_but_the_events_are_kept():
    result = _client(lambda r: _ok([{"id": "1-0"}], "https://evil.test/events/alice/x/?i=1-0")).poll("i=0")
    assert result.refused_next_url and result.cursor is None and len(result.events) == 1


def test_the_400_waited_too_long_form_is_an_empty_poll():
    body = {"status": "Waited too long for events", "events": [],
            "nextUrl": "https://events.example.test/events/alice/t0ps3cret-token/?i=5-0&timeout=10"}
    result = _client(lambda r: httpx2.Response(400, json=body)).poll("i=5-0")
    assert result.waited_too_long and result.events == [] and result.cursor == "i=5-0"


@pytest.mark.parametrize("status", [401, 403, 404])
def test_credential_failures_are_reported_as_such(status):
    with pytest.raises(CredentialsRejected):
        _client(lambda r: httpx2.Response(status, text="no")).poll(None)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 520, 521, 522, 523, 524])
def test_server_trouble_is_transient(status):
    with pytest.raises(TransientError):
        _client(lambda r: httpx2.Response(status, headers={"Retry-After": "3"}, text="<html>")).poll(None)


def test_truncated_json_and_network_errors_are_transient_and_never_show_the_token():
    def truncated(request):
        return httpx2.Response(200, content=json.dumps({"events": []})[:-3].encode())

    def broken(request):
        raise httpx2.ConnectError(f"cannot reach {request.url}")

    for handler in (truncated, broken):
        with pytest.raises(TransientError) as info:
            _client(handler).poll(None)
        assert "t0ps3cret" not in str(info.value)


def test_the_masked_url_hides_the_token():
    assert FEED.masked == "https://events.example.test/events/alice/****/"
    assert "t0ps3cret" not in FEED.masked


def test_every_configured_secret_is_masked_once_settings_are_loaded(tmp_path):
    from pydantic import SecretStr

    from greenroom.config import Settings, register_secrets
    from greenroom.secrets import redact

    settings = Settings(_env_file=None, data_dir=tmp_path,
                        events_url=SecretStr("https://eventsapi.chaturbate.com/events/alice/Zz9-feed-token/"),
                        anthropic_api_key=SecretStr("sk-ant-unit-test-key-1"), openai_api_key=SecretStr("sk-oa-2"))
    register_secrets(settings)
    text = redact("feed Zz9-feed-token keys sk-ant-unit-test-key-1 sk-oa-2")
    assert "Zz9-feed-token" not in text and "sk-ant-unit-test-key-1" not in text and "sk-oa-2" not in text
