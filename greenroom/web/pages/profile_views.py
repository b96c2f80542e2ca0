"""What the Profile page shows beyond the person's record: charts (own small SVG, numbers in each
bar's title and as a table) and the sessions the person attended."""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from greenroom.events.models import Event
from greenroom.people.models import PersonDay, PersonEvent
from greenroom.sessions.models import BroadcastSession, SessionEvent
from greenroom.visits.models import Visit
from greenroom.web.formatting import local

CHART_RANGES = {"30d": 30, "90d": 90, "365d": 365, "all": None}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def spend_by_day(db: Session, feed_id: int, username: str, now: datetime, days: int | None) -> list[tuple[date, int]]:
    query = select(PersonDay.day, PersonDay.tokens).where(PersonDay.feed_id == feed_id, PersonDay.username == username)
    if days:
        query = query.where(PersonDay.day > now.date() - timedelta(days=days))
    return [(d, int(t)) for d, t in db.execute(query.order_by(PersonDay.day)).all()]


def tokens_svg(points: list[tuple[date, int]], start: date, end: date) -> str:
    """Bars per day (gold: tokens), each with its number as a tooltip."""
    width, height = 640, 120
    span = max(1, (end - start).days + 1)
    top = max((t for _, t in points), default=0) or 1
    bar = max(1.0, width / span - 1)
    parts = [f'<svg class="chart-svg" viewBox="0 0 {width} {height + 16}" role="img" '
             f'aria-label="Tokens per day">',
             f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#e2e5eb"/>']
    for day, tokens in points:
        x = (day - start).days * width / span
        h = max(1.0, tokens / top * (height - 4))
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#ca8a04">'
                     f'<title>{escape(day.isoformat())}: {tokens:,} tokens</title></rect>')
    parts.append(f'<text x="0" y="{height + 13}" font-size="11" fill="#5d6576">{start.isoformat()}</text>')
    parts.append(f'<text x="{width}" y="{height + 13}" font-size="11" fill="#5d6576" text-anchor="end">'
                 f'{end.isoformat()}</text></svg>')
    return "".join(parts)


def usual_hours(db: Session, feed_id: int, username: str, tz: str) -> list[list[int]]:
    """Visits per weekday (rows, Monday first) and hour (columns), in the owner's time zone."""
    grid = [[0] * 24 for _ in range(7)]
    for (at,) in db.execute(select(Visit.entered_at).where(Visit.feed_id == feed_id, Visit.username == username)
                            .order_by(Visit.entered_at.desc()).limit(5000)):
        shown = local(at, tz)
        grid[shown.weekday()][shown.hour] += 1
    return grid


def hours_svg(grid: list[list[int]]) -> str:
    cell, left, top_pad = 22, 34, 14
    top = max((v for row in grid for v in row), default=0) or 1
    parts = [f'<svg class="chart-svg" viewBox="0 0 {left + 24 * cell} {top_pad + 7 * cell}" role="img" '
             'aria-label="Usual visiting hours">']
    for hour in range(0, 24, 3):
        parts.append(f'<text x="{left + hour * cell + 2}" y="10" font-size="10" fill="#5d6576">{hour:02d}</text>')
    for d, row in enumerate(grid):
        y = top_pad + d * cell
        parts.append(f'<text x="0" y="{y + 15}" font-size="11" fill="#5d6576">{WEEKDAYS[d]}</text>')
        for h, value in enumerate(row):
            opacity = 0.08 if value == 0 else 0.2 + 0.8 * value / top
            parts.append(f'<rect x="{left + h * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" rx="3" '
                         f'fill="#7e22ce" fill-opacity="{opacity:.2f}"><title>{WEEKDAYS[d]} {h:02d}:00: '
                         f'{value} visits</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def sessions_attended(db: Session, feed_id: int, username: str, limit: int = 100) -> list[dict[str, Any]]:
    """Per session the person was part of: tokens, messages and time in the room, newest first."""
    spent = case((PersonEvent.method.in_(("tip", "mediaPurchase")), Event.payload), else_=None)
    rows = db.execute(
        select(SessionEvent.session_id, PersonEvent.method, spent)
        .join(SessionEvent, SessionEvent.event_pk == PersonEvent.event_pk)
        .join(Event, Event.id == PersonEvent.event_pk)
        .where(PersonEvent.feed_id == feed_id, PersonEvent.username == username)
    ).all()
    per: dict[int, dict[str, Any]] = defaultdict(lambda: {"tokens": 0, "messages": 0, "seconds": 0})
    for session_id, method, payload in rows:
        item = per[session_id]
        if method in ("chatMessage", "privateMessage"):
            item["messages"] += 1
        obj = payload.get("object") if isinstance(payload, dict) else None
        for key in ("tip", "media"):
            value = obj.get(key) if isinstance(obj, dict) else None
            if isinstance(value, dict):
                with suppress(TypeError, ValueError):  # a garbled amount counts as nothing here
                    item["tokens"] += int(value.get("tokens") or 0)
    for session_id, entered, left in db.execute(
        select(SessionEvent.session_id, Visit.entered_at, Visit.left_at)
        .join(SessionEvent, SessionEvent.event_pk == Visit.enter_pk)
        .where(Visit.feed_id == feed_id, Visit.username == username, Visit.left_at.is_not(None))
    ).all():
        per[session_id]["seconds"] += int((left - entered).total_seconds())
    if not per:
        return []
    starts = dict(db.execute(select(BroadcastSession.id, BroadcastSession.started_at)
                             .where(BroadcastSession.id.in_(list(per)))).all())
    out = [{"session_id": sid, "started_at": starts.get(sid), **v} for sid, v in per.items() if sid in starts]
    out.sort(key=lambda r: r["started_at"], reverse=True)
    return out[:limit]
