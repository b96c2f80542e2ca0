"""What a summary is written from: the session's stored stats, top tippers, a few notable chat
lines and PMs, subject changes and marked people who came. Built in one short read; nothing here
calls out.

Chat, PMs and subjects are hostile text: they are truncated here and handed to providers as JSON
data, never spliced into instructions. Excluded users appear nowhere; anonymous tips stay
"anonymous".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenroom.errors import NotFound
from greenroom.events.models import Event
from greenroom.events.parse import MalformedEvent, parse_event
from greenroom.sessions.models import BroadcastSession, SessionEvent
from greenroom.sessions.rollups import empty_stats
from greenroom.sessions.stats import excluded_users

MAX_LINE = 200
MAX_CHAT_LINES = 15
MAX_PMS = 8
MAX_SUBJECTS = 10
MAX_SCAN = 20_000  # messages read per session at most; a long show has far fewer


@dataclass(frozen=True)
class Line:
    at: str  # local "HH:MM"
    user: str
    text: str


@dataclass
class SummaryInput:
    session_id: int
    status: str
    started_at: datetime
    ended_at: datetime | None
    timezone: str
    stats: dict[str, Any]
    chat: list[Line] = field(default_factory=list)
    pms: list[Line] = field(default_factory=list)
    subjects: list[Line] = field(default_factory=list)
    marked_people: list[str] = field(default_factory=list)

    def local(self, at: datetime | None) -> datetime | None:
        return at.astimezone(ZoneInfo(self.timezone)) if at else None

    def as_data(self) -> dict[str, Any]:
        """The JSON document a provider receives."""
        start, end = self.local(self.started_at), self.local(self.ended_at)
        return {
            "date": start.strftime("%Y-%m-%d") if start else None,
            "start": start.strftime("%H:%M") if start else None,
            "end": end.strftime("%H:%M") if end else None,
            "time_zone": self.timezone,
            "stats": self.stats,
            "subject_changes": [{"at": s.at, "subject": s.text} for s in self.subjects],
            "marked_people_who_came": self.marked_people,
            "notable_chat": [{"at": c.at, "user": c.user, "text": c.text} for c in self.chat],
            "notable_private_messages": [{"at": p.at, "user": p.user, "text": p.text} for p in self.pms],
        }


def _clip(text: str) -> str:
    text = " ".join(text.split())  # newlines in chat could imitate prompt structure
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def build_input(db: Session, session_id: int, timezone: str) -> SummaryInput:
    row = db.get(BroadcastSession, session_id, populate_existing=True)
    if row is None:
        raise NotFound(f"no session {session_id}")
    stats = empty_stats()
    stats.update(row.stats or {})
    excluded = excluded_users(db)
    tz = ZoneInfo(timezone)

    def hhmm(at: datetime) -> str:
        return at.astimezone(tz).strftime("%H:%M")

    top = {t["username"] for t in stats.get("top_tippers", []) if not t.get("anonymous")}
    chat: list[tuple[int, int, int, Line]] = []
    pms: list[tuple[int, int, int, Line]] = []
    rows = db.execute(
        select(Event.id, Event.username, Event.event_time, Event.received_at, Event.payload, Event.method)
        .join(SessionEvent, SessionEvent.event_pk == Event.id)
        .where(SessionEvent.session_id == session_id, Event.method.in_(("chatMessage", "privateMessage")))
        .order_by(Event.id).limit(MAX_SCAN)
    ).all()
    for pk, username, at, received_at, payload, method in rows:
        if username and username in excluded:
            continue
        try:
            parsed = parse_event(payload, received_at)
        except MalformedEvent:
            continue
        if parsed.message is None or not parsed.message.text.strip():
            continue
        who = parsed.user.display_name if parsed.user else (username or "unknown")
        if method == "privateMessage" and parsed.message.to_user and parsed.message.to_user in excluded:
            continue
        line = Line(hhmm(at), who, _clip(parsed.message.text))
        # Notable: lines by top tippers first, then the longest (they say the most), then the oldest.
        rank = (0 if username in top else 1, -len(line.text))
        (pms if method == "privateMessage" else chat).append((*rank, pk, line))
    subjects = [Line(hhmm(datetime.fromisoformat(s["at"])), "", _clip(s.get("subject") or ""))
                for s in (row.subjects or [])][:MAX_SUBJECTS]
    return SummaryInput(
        session_id=row.id, status=row.status, started_at=row.started_at, ended_at=row.ended_at, timezone=timezone,
        stats=stats, chat=_pick(chat, MAX_CHAT_LINES), pms=_pick(pms, MAX_PMS), subjects=subjects,
        marked_people=[],
    )


def _pick(items: list[Any], limit: int) -> list[Line]:
    chosen = sorted(items, key=lambda item: item[:3])[:limit]
    return [item[3] for item in sorted(chosen, key=lambda item: item[2])]  # back in time order
