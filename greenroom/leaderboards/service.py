"""A leaderboard as pages, the API and exports show it: the period resolved in the owner's time
zone and week start, one page of rows with names, badges and shares.

The masked row of a shareable board carries no username, link, image or badge, and a shareable
board shows only the badges the Events API itself reports (none of the owner's private marks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from greenroom.errors import BadRequest, NotFound
from greenroom.leaderboards import periods, queries
from greenroom.leaderboards.periods import Span
from greenroom.people.cards import cards
from greenroom.sessions.models import BroadcastSession

DEFAULT_LIMIT = 25
PUBLIC_BADGES = frozenset({"model", "fanclub", "mod", "follower"})
ANONYMOUS_NAME = "Anonymous"
EXPORT_COLUMNS = ("rank", "username", "display_name", "anonymous", "value", "share", "reached_at")
PRIVATE_EXPORT_COLUMNS = (*EXPORT_COLUMNS, "anon_value")
TIE_BREAK = ("Equal totals: whoever reached the total first ranks higher (the time of the event that "
             "brought them to it; then by name).")


@dataclass
class Query:
    period: str = "session"
    metric: str = "tokens"
    session_id: int | None = None
    offset: int = 0  # weeks or months back
    page: int = 1
    limit: int = DEFAULT_LIMIT
    shareable: bool = False

    def check(self) -> Query:
        if self.period not in periods.PERIODS:
            raise BadRequest(f"period must be one of {', '.join(periods.PERIODS)}")
        if self.metric not in queries.METRICS:
            raise BadRequest(f"metric must be one of {', '.join(queries.METRICS)}")
        if not 1 <= self.limit <= queries.MAX_LIMIT:
            raise BadRequest(f"limit must be between 1 and {queries.MAX_LIMIT}")
        if not 1 <= self.page <= 1_000_000:
            raise BadRequest("page must be between 1 and 1000000")
        if self.session_id is not None and not 1 <= self.session_id <= 2**62:
            raise BadRequest("session_id must be a positive whole number")
        return self


@dataclass
class View:
    query: Query
    span: Span | None  # None for a session board
    session: BroadcastSession | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    total_rows: int = 0
    grand_total: int = 0
    no_session: bool = False  # a session board, but the room has had no session yet
    previous_session: int | None = None
    next_session: int | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_rows // self.query.limit))


def parse_shareable(value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise BadRequest("shareable must be 1 or 0")


def format_value(metric: str, value: int) -> str:
    if metric == "watch_time":
        hours, rest = divmod(value, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours:
            return f"{hours} h {minutes:02d} min"
        return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
    return f"{value:,}"


def resolve_span(q: Query, now: datetime, tz: str, week_start: str) -> Span | None:
    if q.period == "week":
        return periods.week_span(now, tz, week_start, q.offset)
    if q.period == "month":
        return periods.month_span(now, tz, q.offset)
    if q.period == "all":
        return periods.all_time()
    return None


def build(db: Session, feed_id: int | None, q: Query, *, now: datetime, tz: str, week_start: str) -> View:
    """The board ``q`` asks for. NotFound for a session id the room does not have."""
    q.check()
    span = resolve_span(q, now, tz, week_start)
    session = None
    if q.period == "session" and feed_id is not None:
        if q.session_id is not None:
            session = db.get(BroadcastSession, q.session_id)
            if session is None or session.feed_id != feed_id:
                raise NotFound(f"no session {q.session_id}")
        else:
            session = queries.latest_session(db, feed_id)
    view = View(query=q, span=span, session=session)
    if feed_id is None:
        view.no_session = q.period == "session"
        return view
    if q.period == "session":
        if session is None:
            view.no_session = True
            return view
        window = queries.Window(session_id=session.id)
        view.previous_session, view.next_session = queries.neighbours(db, session)
    else:
        assert span is not None
        window = queries.Window(start=span.start, end=span.end)
    found = queries.board(db, feed_id, q.metric, window, now=now, shareable=q.shareable, limit=q.limit,
                          offset=(q.page - 1) * q.limit)
    view.total_rows, view.grand_total = found.total_rows, found.grand_total
    names = [r.username for r in found.rows if r.username is not None]
    info = cards(db, feed_id, names, now) if names else {}
    for r in found.rows:
        view.rows.append(_row(r, info.get(r.username or ""), q))
    return view


def _row(r: queries.Row, card: dict[str, Any] | None, q: Query) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rank": r.rank, "anonymous": r.anonymous, "value": r.value,
        "value_text": format_value(q.metric, r.value), "share": round(r.share, 4),
        "share_text": f"{r.share * 100:.1f}%", "reached_at": r.reached_at,
    }
    if r.anonymous or card is None:
        row.update({"username": None, "display_name": ANONYMOUS_NAME, "badges": [], "image_url": None,
                    "profile_url": None})
    else:
        badges = card["badges"]
        if q.shareable:
            badges = [b for b in badges if b["key"] in PUBLIC_BADGES]
        row.update({"username": card["username"], "display_name": card["display_name"], "badges": badges,
                    "image_url": None if q.shareable else card["image_url"],
                    "profile_url": f"/people/{card['username']}"})
    if not q.shareable:
        row["anon_value"] = r.anon_value
    return row


def export_rows(view: View) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Exactly the rows on screen, as the export writes them."""
    columns = EXPORT_COLUMNS if view.query.shareable else PRIVATE_EXPORT_COLUMNS
    rows = [{**{c: r.get(c) for c in columns}, "username": r["username"] or ""} for r in view.rows]
    return rows, columns


def export_basename(view: View) -> str:
    q = view.query
    if q.period == "session":
        where = f"session-{view.session.id}" if view.session else "session"
    elif view.span is not None and view.span.first_day is not None:
        where = f"{q.period}-{view.span.first_day.isoformat()}"
    else:
        where = "all-time"
    return f"leaderboard-{q.metric}-{where}{'-shareable' if q.shareable else ''}"


def describe(view: View) -> dict[str, Any]:
    """The period as the API and pages name it."""
    if view.query.period == "session":
        s = view.session
        return {"label": f"Session {s.id}" if s else "No session yet", "start": s.started_at if s else None,
                "end": (s.ended_at if s else None), "session_id": s.id if s else None}
    assert view.span is not None
    return {"label": view.span.label, "name": view.span.name, "start": view.span.start, "end": view.span.end,
            "session_id": None}


def top_tippers(db: Session, feed_id: int | None, *, now: datetime, tz: str, week_start: str,
                limit: int = 5) -> dict[str, View]:
    """The Dashboard card: top spenders of the current (or latest) session and of this week."""
    return {
        "session": build(db, feed_id, Query(period="session", metric="tokens", limit=limit), now=now, tz=tz,
                         week_start=week_start),
        "week": build(db, feed_id, Query(period="week", metric="tokens", limit=limit), now=now, tz=tz,
                      week_start=week_start),
    }
