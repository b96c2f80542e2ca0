"""A tiny room script builder for session tests: envelopes with ids carrying their own time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from greenroom.events.feeds import ensure_feed
from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import process_new_events
from greenroom.sessions.service import Windows, apply_events

T0 = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
WINDOWS = Windows(merge_window=timedelta(minutes=30), stale_after=timedelta(minutes=120))


class Room:
    """Builds envelopes in time order; ``at`` is seconds after T0."""

    def __init__(self, broadcaster: str = "alice") -> None:
        self.broadcaster = broadcaster
        self.envelopes: list[dict[str, Any]] = []
        self._seq = 0

    def add(self, at: float, method: str, user: str | None = None, **obj: Any) -> dict[str, Any]:
        ms = int((T0 + timedelta(seconds=at)).timestamp() * 1000)
        self._seq += 1
        body: dict[str, Any] = {"broadcaster": self.broadcaster, **obj}
        if user is not None:
            body["user"] = {"username": user}
        envelope = {"method": method, "id": f"{ms}-{self._seq}", "object": body}
        self.envelopes.append(envelope)
        return envelope

    def start(self, at: float) -> Room:
        self.add(at, "broadcastStart", self.broadcaster)
        return self

    def stop(self, at: float) -> Room:
        self.add(at, "broadcastStop", self.broadcaster)
        return self

    def enter(self, at: float, user: str) -> Room:
        self.add(at, "userEnter", user)
        return self

    def leave(self, at: float, user: str) -> Room:
        self.add(at, "userLeave", user)
        return self

    def tip(self, at: float, user: str, tokens: int, anon: bool = False) -> Room:
        self.add(at, "tip", user, tip={"tokens": tokens, "isAnon": anon, "message": ""})
        return self

    def chat(self, at: float, user: str, text: str = "hi") -> Room:
        self.add(at, "chatMessage", user, message={"message": text, "color": "", "font": "default"})
        return self

    def pm(self, at: float, user: str, to: str) -> Room:
        self.add(at, "privateMessage", user, message={"message": "psst", "fromUser": user, "toUser": to})
        return self

    def media(self, at: float, user: str, tokens: int) -> Room:
        self.add(at, "mediaPurchase", user, media={"id": 1, "name": "set", "type": "photos", "tokens": tokens})
        return self

    def subject(self, at: float, text: str) -> Room:
        self.add(at, "roomSubjectChange", None, subject=text)
        return self


def make_feed(database, broadcaster: str = "alice") -> int:
    with database.write() as db:
        return ensure_feed(db, broadcaster=broadcaster, url_masked=f"https://h/events/{broadcaster}/****/",
                           url_fingerprint="f", is_demo=False, now=T0).id


def ingest(database, feed_id: int, envelopes: list[dict[str, Any]], *, batch: int = 50,
           windows: Windows = WINDOWS, received_at: datetime | None = None) -> None:
    """Store and process envelopes batch by batch, as the ingest loop does."""
    for i in range(0, len(envelopes), batch):
        part = envelopes[i : i + batch]
        last_ms = int(part[-1]["id"].split("-")[0])
        now = received_at or datetime.fromtimestamp(last_ms / 1000, UTC)
        with database.write() as db:
            result = record_batch(db, feed_id=feed_id, envelopes=part, cursor=f"i={i}", cursor_event_id=None,
                                  received_at=now, lease_holder=None)
            apply_events(db, feed_id, result.new, now, windows)


def ingest_via_pipeline(database, feed_id: int, envelopes: list[dict[str, Any]], now: datetime) -> None:
    with database.write() as db:
        result = record_batch(db, feed_id=feed_id, envelopes=envelopes, cursor="i=1", cursor_event_id=None,
                              received_at=now, lease_holder=None)
        process_new_events(db, feed_id, result.new, now)
