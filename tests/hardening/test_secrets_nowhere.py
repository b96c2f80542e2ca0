"""A whole run of `greenroom serve` with a real feed URL (token inside) and LLM keys, through feed
faults and an LLM that echoes the key it was sent in its error: then everything the run produced
is grepped — its log, every page, every API answer and header, the data folder, the SQLite file
itself, the CLI's output and a crash's traceback. None may hold the token or a key."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.simulator.faults import Fault
from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.simulator.server import SimulatorServer
from greenroom.web.app import create_app

from .pages import fill, get_routes, local_links

pytestmark = pytest.mark.slow

FEED_TOKEN = "FeedTok3n-only-for-this-run-7f3a9c"
ANTHROPIC_KEY = "sk-ant-api03-never-shown-4b1d6e"
OPENAI_KEY = "sk-proj-never-shown-either-9e2c"
DB_PASSWORD = "pg-password-never-shown-51c0"
SECRETS = [FEED_TOKEN, ANTHROPIC_KEY, OPENAI_KEY, DB_PASSWORD]
PASSWORD = "a long owner password for the grep test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LLM_CALLS: list[str] = []


@pytest.fixture
def echoing_llm() -> Iterator[str]:
    """An LLM endpoint that refuses every key and quotes it back, as some providers partly do."""
    LLM_CALLS.clear()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            key = self.headers.get("x-api-key") or self.headers.get("authorization", "")
            LLM_CALLS.append(self.path)
            body = json.dumps({"type": "error", "error": {"type": "authentication_error",
                                                          "message": f"invalid x-api-key: {key}"}}).encode()
            self.send_response(401)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "greenroom", *command], env=env, capture_output=True, timeout=120)
    return done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")


def test_no_secret_appears_in_anything_a_run_produced(tmp_path, echoing_llm):
    script = build_script(ScriptConfig(seed=4, days=1.0, audience=25, viewer_pool=120, broadcasts_per_day=2))
    data = tmp_path / "data"
    port = _free_port()
    produced: list[tuple[str, str]] = []  # (where, text)
    with SimulatorServer(script, token=FEED_TOKEN, speed="instant", batch_limit=100) as feed:
        # Every error path the feed has writes a message somewhere: each must come out clean.
        feed.add_faults(Fault("500", at=(2,)), Fault("truncated", at=(3,)), Fault("foreign_next", at=(4,)),
                        Fault("401", at=(5,)), Fault("429", at=(6,)))
        env = dict(os.environ, GREENROOM_EVENTS_URL=feed.feed_url, GREENROOM_STATS_URL=feed.stats_url,
                   GREENROOM_DATA_DIR=str(data),
                   GREENROOM_PORT=str(port), GREENROOM_OWNER_PASSWORD=PASSWORD, GREENROOM_LOG_LEVEL="DEBUG",
                   GREENROOM_POLL_TIMEOUT="1", GREENROOM_BACKOFF_CAP_SECONDS="0.5",
                   GREENROOM_CREDENTIAL_RETRY_SECONDS="0.5", GREENROOM_SUMMARY_PROVIDER="anthropic",
                   GREENROOM_ANTHROPIC_API_KEY=ANTHROPIC_KEY, GREENROOM_ANTHROPIC_BASE_URL=echoing_llm,
                   GREENROOM_OPENAI_API_KEY=OPENAI_KEY, GREENROOM_OPENAI_BASE_URL=echoing_llm + "/v1")
        env.pop("GREENROOM_DATABASE_URL", None)
        log = tmp_path / "serve.log"
        server = subprocess.Popen([sys.executable, "-m", "greenroom", "serve"], env=env, stdout=log.open("wb"),
                                  stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            client = httpx2.Client(base_url=base, timeout=30)
            _wait(lambda: client.get("/api/health").json()["ingest"]["events_stored"] >= len(script.events),
                  60, "every event stored")
            assert len(feed.fault_log) == 5
            produced += _sign_in_and_read_everything(client, base)
            # Summaries through the LLM that quotes the key back, queued and run as the worker would.
            produced.append(("jobs run summaries.sweep", _run(["jobs", "run", "summaries.sweep"], env)))
            for session_id in _session_ids(client):
                produced.append((f"summary of {session_id}", _run(
                    ["jobs", "run", "summaries.generate", "--arg", f"session_id={session_id}"], env)))
            produced.append(("jobs history", _run(["jobs", "history", "summaries.generate"], env)))
            # A Stats API sample the server refuses: its error path records a message, shown by `latest`.
            feed.stats.add_fault("401", times=1)
            produced.append(("stats sample", _run(["stats", "sample"], env)))
            produced.append(("stats latest", _run(["stats", "latest"], env)))
            produced += _sign_in_and_read_everything(client, base, signed_in=True)
            produced.append(("doctor", _run(["doctor"], env)))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    produced.append(("serve log", log.read_text(errors="replace")))
    # A crash: a database that cannot be reached, with the password in its URL.
    crash_env = dict(env, GREENROOM_DATABASE_URL=f"postgresql://greenroom:{DB_PASSWORD}@127.0.0.1:1/none")
    crash = _run(["ingest"], crash_env)
    assert "Traceback" in crash or "rror" in crash
    produced.append(("crash output", crash))
    for path in sorted(data.rglob("*")):
        if path.is_file():
            produced.append((str(path), path.read_bytes().decode("latin-1")))

    assert any("greenroom.db" in where for where, _ in produced)
    assert LLM_CALLS, "the LLM error path was not exercised"
    leaks = [(where, secret) for where, text in produced for secret in SECRETS if secret in text]
    assert leaks == []


def _session_ids(client: httpx2.Client) -> list[int]:
    csrf = _csrf(client)
    ids = [s["id"] for s in client.get("/api/sessions").json()["sessions"]]
    for session_id in ids:
        for action in ("end", "finalize"):
            client.post(f"/api/sessions/{session_id}/{action}", headers={"X-CSRF-Token": csrf})
    return ids


def _get(client: httpx2.Client, path: str) -> str:
    """Headers and body of one GET; a live stream contributes its first frames and is closed."""
    for attempt in (1, 2):
        try:
            with client.stream("GET", path) as answer:
                if answer.headers.get("content-type", "").startswith("text/event-stream"):
                    body = next(answer.iter_text(), "")
                else:
                    body = answer.read().decode(errors="replace")
                return f"{answer.status_code} {answer.headers}\n{body}"
        except httpx2.TransportError:
            # After a 500 the server closes the kept-alive connection; the next request may find it reset.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _csrf(client: httpx2.Client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def _sign_in_and_read_everything(client: httpx2.Client, base: str, signed_in: bool = False) -> list[tuple[str, str]]:
    if not signed_in:
        form = re.search(r'name="form_token" value="([^"]+)"', client.get("/login").text).group(1)
        answer = client.post("/login", data={"password": PASSWORD, "next": "/", "form_token": form})
        assert answer.status_code == 303
    app = create_app(Settings(_env_file=None), Database("sqlite://"))
    seen: list[tuple[str, str]] = [("stream", _get(client, "/events/stream?after=0"))]
    values = {"session_id": ["1", "2"], "username": ["alice"]}
    paths = [p for route in get_routes(app) for p, _ in fill(route, values)] + ["/api/openapi.json"]
    links: list[str] = []
    for path in paths:
        text = _get(client, path)
        seen.append((path, text))
        links += re.findall(r'href="([^"]+)"', text)
    for path in sorted(set(local_links(links)) - set(paths))[:150]:
        seen.append((path, _get(client, path.replace("&amp;", "&"))))
    return seen
