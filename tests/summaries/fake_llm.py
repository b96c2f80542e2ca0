"""A local HTTP server speaking the Anthropic Messages API and the OpenAI Chat Completions API, so
the real SDKs are exercised end to end with no network beyond 127.0.0.1.

``mode`` decides the next answers: "ok", "429", "500", "slow" (answers after ``slow_seconds``),
"malformed" (200 with a body of the wrong shape), "garbage" (200 that is not JSON). Every request
is recorded (path, headers, body).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_TEXT = "A calm show. MidnightOwl tipped 600 tokens; 1,250 tokens in total."


class FakeLLM:
    def __init__(self) -> None:
        self.mode = "ok"
        self.modes: list[str] = []  # consumed first, one per request, then ``mode``
        self.text = DEFAULT_TEXT
        self.slow_seconds = 3.0
        self.requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def next_mode(self) -> str:
        return self.modes.pop(0) if self.modes else self.mode

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append({"path": self.path, "headers": headers, "body": body})
                mode = fake.next_mode()
                if self.path.endswith("/v1/messages"):
                    kind = "anthropic"
                elif self.path.endswith("/chat/completions"):
                    kind = "openai"
                else:
                    return self._send(404, {"error": {"type": "not_found", "message": "no such route"}})
                if mode == "slow":
                    time.sleep(fake.slow_seconds)
                    mode = "ok"
                if mode == "429":
                    return self._send(429, _error(kind, "rate_limit_error", "slow down"), {"retry-after": "1"})
                if mode == "500":
                    return self._send(500, _error(kind, "api_error", "internal"))
                if mode == "401":
                    return self._send(401, _error(kind, "authentication_error", "bad key"))
                if mode == "malformed":
                    return self._send(200, {"content": 5, "choices": "nope"} if kind == "anthropic"
                                      else {"choices": [{"message": 7}]})
                if mode == "garbage":
                    return self._send(200, None, raw=b"<html>not json</html>")
                model = body.get("model", "")
                return self._send(200, _anthropic_ok(model, fake.text) if kind == "anthropic"
                                  else _openai_ok(model, fake.text))

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
                      raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _error(kind: str, code: str, message: str) -> dict[str, Any]:
    if kind == "anthropic":
        return {"type": "error", "error": {"type": code, "message": message}}
    return {"error": {"type": code, "message": message, "code": code, "param": None}}


def _anthropic_ok(model: str, text: str) -> dict[str, Any]:
    return {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 40}}


def _openai_ok(model: str, text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 1_764_340_000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                         "logprobs": None}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140}}
