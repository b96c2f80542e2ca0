"""Sessions list and Session detail pages, with the owner's manual controls as plain forms."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from markupsafe import Markup
from sqlalchemy import select
from starlette.responses import RedirectResponse, Response

from greenroom.errors import BadRequest
from greenroom.events.models import Feed
from greenroom.imports.queries import span_income
from greenroom.people.cards import cards
from greenroom.sessions import manual, queries
from greenroom.sessions.chart import timeline_svg
from greenroom.sessions.notes import set_notes
from greenroom.sessions.service import windows_for
from greenroom.sessions.stats import refresh_stats
from greenroom.statsapi.queries import room_viewers, sampled_viewers
from greenroom.web.api.people_common import clock, feed_id_of
from greenroom.web.api.stats import session_sampled
from greenroom.web.exporting import check_format, export_events, export_query, export_sessions
from greenroom.web.formatting import event_view, form_time
from greenroom.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = 20
EVENTS_PAGE = 100
BADGES = {"active": ("Live", "live"), "ended": ("Ended", "ended"), "pending_finalize": ("Finalizing", "finalizing"),
          "finalized": ("Finalized", "finalized")}
EVENT_TYPES = [("tip", "Tips"), ("chatMessage", "Chat"), ("privateMessage", "PMs"), ("userEnter", "Enter"),
               ("userLeave", "Leave"), ("follow", "Follows"), ("unfollow", "Unfollows"), ("fanclubJoin", "Fan club"),
               ("mediaPurchase", "Media"), ("roomSubjectChange", "Subject")]


def duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min"


def _local_bound(value: str | None, tz: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest("dates look like 2026-11-01") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))


CSS = (Path(__file__).resolve().parent.parent / "templates" / "sessions" / "sessions.css").read_text()


@router.get("/sessions/assets/sessions.css")
def sessions_css() -> Response:
    # Served from here (same origin, so the CSP's style-src 'self' allows it) to keep the page
    # styles next to the templates that use them.
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/sessions")
def sessions_list(
    request: Request, status: str | None = Query(default=None), from_: str | None = Query(default=None, alias="from"),
    to: str | None = Query(default=None), tag: str | None = Query(default=None), page: int = Query(default=1, ge=1),
    format: str | None = Query(default=None),  # noqa: A002 (csv or json: export every match)
) -> Response:
    tz = request.app.state.settings.timezone
    start, end = _local_bound(from_, tz), _local_bound(to, tz)
    if end is not None and to and len(to) == 10:
        end += timedelta(days=1)  # a "to" date includes that whole day
    feed_id = feed_id_of(request)
    if fmt := check_format(format):
        return export_sessions(request.app.state.database, fmt, status=status or None, start=start, end=end,
                               tag=tag or None, feed_id=feed_id)
    with request.app.state.database.read() as db:
        rows, total = queries.list_sessions(db, status=status or None, start=start, end=end, tag=tag or None,
                                            feed_id=feed_id, limit=PAGE, offset=(page - 1) * PAGE)
        totals = queries.range_totals(db, status=status or None, start=start, end=end, feed_id=feed_id)
        notes = queries.notes_for(db, [r.id for r in rows])
        names = dict(db.execute(select(Feed.id, Feed.broadcaster)).all())
        moment = clock(request)
        items = [queries.session_json(r) | {
            "row": r, "notes": notes.get(r.id, ("", [])),
            # Viewers sampled from the Stats API (when it is set up), beside the reconstruction.
            "sampled": sampled_viewers(room_viewers(db, r.feed_id, names.get(r.feed_id, ""), r.started_at,
                                                    max(r.started_at, r.ended_at or moment))),
        } for r in rows]
        db.expunge_all()  # the rows outlive this read unit of work (rendered below)
    pages = max(1, -(-total // PAGE))
    zone = ZoneInfo(tz)
    return render(request, "sessions/list.html", {
        "items": items, "total": total, "page": page, "totals": totals, "pages": pages, "badges": BADGES,
        "duration": duration,
        "day": lambda value: f"{value.astimezone(zone):%a} {value.astimezone(zone).day} {value.astimezone(zone):%b %Y}",
        "filters": {"status": status or "", "from": from_ or "", "to": to or "", "tag": tag or ""},
        "export_query": export_query(request),
    }, nav="sessions")


@router.get("/sessions/{session_id}")
def session_page(request: Request, session_id: int, type: str | None = Query(default=None),  # noqa: A002
                 page: int = Query(default=1, ge=1), format: str | None = Query(default=None),  # noqa: A002
                 include_anonymous: bool = Query(default=False)) -> Response:
    tz = request.app.state.settings.timezone
    if fmt := check_format(format):  # the session's event list, every row, with the type filter
        with request.app.state.database.read() as db:
            queries.get_session_row(db, session_id)  # an unknown session is a 404
        return export_events(request.app.state.database, fmt, method=type or None, username=None, after_id=None,
                             include_anonymous=include_anonymous, session_id=session_id,
                             basename=f"session-{session_id}-events")
    methods = [type] if type else None
    with request.app.state.database.read() as db:
        detail = queries.session_detail(db, session_id)
        events, events_total = queries.session_events(db, session_id, methods=methods, limit=EVENTS_PAGE,
                                                      offset=(page - 1) * EVENTS_PAGE)
        rows = [event_view(pk=e.id, event_id=e.event_id, method=e.method, username=e.username,
                           event_time=e.event_time, received_at=e.received_at, payload=e.payload, tz=tz)
                for e in events]
        row = queries.get_session_row(db, session_id)
        latest = queries.neighbours(db, row)[1] is None
        crowd = queries.audience(db, row)
        names = [e.username.lower() for e in rows if e.username]
        names += [t["username"] for t in detail["stats"].get("top_tippers", []) if not t.get("anonymous")]
        names += list(crowd["followers"]) + list(crowd["unfollowers"]) + list(crowd["fanclub_joins"])
        names += [v["username"] for v in crowd["visitors"]]
        people = cards(db, row.feed_id, names, clock(request))  # badges wherever a name appears
        imported = span_income(db, row.feed_id, row.started_at, row.ended_at or clock(request))
        sampled_points, sampled = session_sampled(db, detail, clock(request))  # Stats API, if set
    svg = timeline_svg(detail["timeline"], detail["subjects"], tz, sampled_points)
    chart = Markup(svg)  # noqa: S704 (escaped inside)
    return render(request, "sessions/detail.html", {
        "s": detail, "st": detail["stats"], "events": rows, "events_total": events_total, "type": type or "",
        "page": page, "pages": max(1, -(-events_total // EVENTS_PAGE)), "event_types": EVENT_TYPES,
        "badges": BADGES, "duration": duration, "chart": chart, "is_latest": latest,
        "crowd": crowd, "people": people,
        "imported_income": imported,
        "sampled": sampled, "sampled_points": sampled_points,
        "dt": lambda iso: datetime.fromisoformat(iso) if iso else None,
    }, nav="sessions")


@router.post("/sessions/{session_id}/manage")
def manage(request: Request, session_id: int, action: str = Form(...), at: str = Form(default=""),
           direction: str = Form(default="next"), notes: str | None = Form(default=None),
           tags: str | None = Form(default=None)) -> Response:
    tz = request.app.state.settings.timezone
    now = request.app.state.clock()
    target = session_id
    with request.app.state.database.write() as db:
        windows = windows_for(db, request.app.state.settings)
        if action == "end":
            manual.end_now(db, session_id, now, windows)
        elif action == "finalize":
            manual.finalize_now(db, session_id, now, windows)
        elif action == "reopen":
            manual.reopen(db, session_id, now, windows)
        elif action == "split":
            target = manual.split(db, session_id, form_time(at, tz), now, windows)
        elif action == "merge":
            target = manual.merge(db, session_id, direction, now)
        elif action == "end-time":
            manual.correct_end(db, session_id, form_time(at, tz), now, windows)
        elif action == "recompute":
            queries.get_session_row(db, session_id)
            refresh_stats(db, [session_id], now)
        elif action == "notes":
            tag_list: list[Any] = [t for t in (tags or "").split(",")]
            set_notes(db, queries.get_session_row(db, session_id), now, notes=notes or "", tags=tag_list)
        else:
            raise BadRequest(f"unknown action {action!r}")
    return RedirectResponse(f"/sessions/{target}", status_code=303)
