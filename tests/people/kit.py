"""Helpers for people, inbox and visits tests: a feed, and ingest through the real pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from greenroom.events.feeds import ensure_feed
from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import load_steps, process_new_events

T0 = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


def make_feed(database, broadcaster: str = "alice") -> int:
    with database.write() as db:
        return ensure_feed(db, broadcaster=broadcaster, url_masked=f"https://h/events/{broadcaster}/****/",
                           url_fingerprint="f", is_demo=False, now=T0).id


def ingest(database, feed_id: int, envelopes: list[dict[str, Any]], *, batch: int = 100,
           now: datetime | None = None) -> None:
    """Store and process envelopes batch by batch, as the ingest loop does."""
    load_steps()
    for i in range(0, len(envelopes), batch):
        part = envelopes[i : i + batch]
        when = now or datetime.fromtimestamp(int(str(part[-1]["id"]).split("-")[0]) / 1000, UTC)
        with database.write() as db:
            result = record_batch(db, feed_id=feed_id, envelopes=part, cursor=f"i={i}", cursor_event_id=None,
                                  received_at=when, lease_holder=None)
            process_new_events(db, feed_id, result.new, when)


class Room:
    """Envelopes in time order; ``at`` is seconds after T0."""

    def __init__(self, broadcaster: str = "alice") -> None:
        self.broadcaster = broadcaster
        self.envelopes: list[dict[str, Any]] = []
        self._seq = 0

    def add(self, at: float, method: str, user: Any = None, broadcaster: str | None = None, **obj: Any) -> Room:
        ms = int((T0 + timedelta(seconds=at)).timestamp() * 1000)
        self._seq += 1
        body: dict[str, Any] = {"broadcaster": self.broadcaster if broadcaster is None else broadcaster, **obj}
        if user is not None:
            body["user"] = user if isinstance(user, dict) else {"username": user}
        self.envelopes.append({"method": method, "id": f"{ms}-{self._seq}", "object": body})
        return self

    def start(self, at: float) -> Room:
        return self.add(at, "broadcastStart", self.broadcaster)

    def stop(self, at: float) -> Room:
        return self.add(at, "broadcastStop", self.broadcaster)

    def enter(self, at: float, user: Any) -> Room:
        return self.add(at, "userEnter", user)

    def leave(self, at: float, user: Any) -> Room:
        return self.add(at, "userLeave", user)

    def tip(self, at: float, user: Any, tokens: int, anon: bool = False, note: str = "") -> Room:
        return self.add(at, "tip", user, tip={"tokens": tokens, "isAnon": anon, "message": note})

    def chat(self, at: float, user: Any, text: str = "hi") -> Room:
        return self.add(at, "chatMessage", user, message={"message": text, "color": "", "font": "default"})

    def pm(self, at: float, sender: str, to: str, text: str = "psst", direct: bool = False) -> Room:
        return self.add(at, "privateMessage", sender, broadcaster="" if direct else None,
                        message={"message": text, "fromUser": sender, "toUser": to})

    def follow(self, at: float, user: Any) -> Room:
        return self.add(at, "follow", user)

    def media(self, at: float, user: Any, tokens: int) -> Room:
        return self.add(at, "mediaPurchase", user, media={"id": 1, "name": "set", "type": "photos", "tokens": tokens})
