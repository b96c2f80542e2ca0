"""Helpers shared by the web tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
SECRET_TOKEN = "s3cr3tT0kenXYZ123"
SECRET_URL = f"https://eventsapi.chaturbate.com/events/alice/{SECRET_TOKEN}/"
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


class Clock:
    """A settable clock, so rate limits and session expiry are tested without sleeping."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def login(client: TestClient, password: str = PASSWORD, next_path: str = "/") -> Any:
    page = client.get("/login")
    form_token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"password": password, "next": next_path, "form_token": form_token},
                       follow_redirects=False)


def csrf_of(client: TestClient) -> str:
    page = client.get("/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def tip(i: int, username: str = "User1", tokens: int = 10, note: str = "") -> dict[str, Any]:
    return {"method": "tip", "id": f"{1_764_340_000_000 + i}-0",
            "object": {"broadcaster": "alice", "user": {"username": username},
                       "tip": {"tokens": tokens, "isAnon": False, "message": note}}}


def chat(i: int, text: str, username: str = "Chatter") -> dict[str, Any]:
    return {"method": "chatMessage", "id": f"{1_764_340_000_000 + i}-0",
            "object": {"broadcaster": "alice", "user": {"username": username},
                       "message": {"message": text, "color": "#000", "font": "default"}}}
