"""The Profile page and its forms (plain POSTs with the CSRF token, redirecting back)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import anyio
from fastapi import APIRouter, Form, Query, Request
from markupsafe import Markup
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from greenroom.errors import BadRequest, NotFound
from greenroom.imports.queries import person_income
from greenroom.people import images, notes, profile, queries
from greenroom.people.cards import person_json
from greenroom.people.models import RELATIONSHIP_ROLES
from greenroom.people.relationships import (
    FIELD_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    RelationshipIn,
    get_relationship,
    history,
    save_relationship,
)
from greenroom.sessions.exclusions import set_excluded
from greenroom.visits.queries import present_since
from greenroom.web.api.people_common import clock, require_feed, timeline_rows
from greenroom.web.formatting import form_time, local
from greenroom.web.pages import profile_views as views
from greenroom.web.templating import render

router = APIRouter(include_in_schema=False)
TIMELINE_PAGE = 50
TABS = [("timeline", "Timeline"), ("messages", "Messages"), ("tips", "Tips"), ("sessions", "Sessions"),
        ("images", "Images")]
TYPE_CHIPS = [("tip", "Tips"), ("chatMessage", "Chat"), ("privateMessage", "PMs"), ("userEnter", "Enter"),
              ("userLeave", "Leave"), ("follow", "Follows"), ("unfollow", "Unfollows"), ("fanclubJoin", "Fan club"),
              ("mediaPurchase", "Media")]
HISTORY_RANGES = {"7d": 7, "30d": 30, "all": None}


def _back(username: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/people/{queries.normalise(username)}{anchor}", status_code=303)


def _date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest("dates look like 2026-11-01") from None


def _local_time(value: str, tz: str) -> datetime | None:
    return form_time(value, tz) if value else None


@router.get("/people/{username}")
def profile_page(request: Request, username: str, tab: str = Query(default="timeline"),
                 type: str = Query(default=""), before: int | None = Query(default=None),  # noqa: A002
                 hfield: str = Query(default=""), hrange: str = Query(default="all"),
                 crange: str = Query(default="90d")) -> Response:
    feed_id = require_feed(request)
    now = clock(request)
    tz = request.app.state.settings.timezone
    tab = tab if tab in dict(TABS) else "timeline"
    with request.app.state.database.read() as db:
        try:
            person = person_json(db, feed_id, username, now)
        except NotFound:
            return render(request, "people/unknown.html", {"name": username}, nav="people", status_code=404)
        name = person["username"]
        types = {"messages": ["chatMessage", "privateMessage"], "tips": ["tip", "mediaPurchase"]}.get(tab)
        if tab == "timeline" and type:
            types = [type]
        events = queries.timeline(db, feed_id, name, types=types, limit=TIMELINE_PAGE, before=before) \
            if tab not in ("images", "sessions") else []
        attended = views.sessions_attended(db, feed_id, name) if tab == "sessions" else []
        crange = crange if crange in views.CHART_RANGES else "90d"
        spend = views.spend_by_day(db, feed_id, name, now, views.CHART_RANGES[crange])
        first_day = views.local(datetime.fromisoformat(person["first_seen"]), "UTC").date()
        start = now.date() - timedelta(days=views.CHART_RANGES[crange] - 1) if views.CHART_RANGES[crange] \
            else min([first_day] + [d for d, _ in spend])
        charts = {"tokens": Markup(views.tokens_svg(spend, start, now.date())),  # noqa: S704 (built escaped)
                  "hours": Markup(views.hours_svg(views.usual_hours(db, feed_id, name, tz))),  # noqa: S704
                  "spend": spend, "range": crange}
        rows = timeline_rows(db, events, tz)
        days = HISTORY_RANGES.get(hrange)
        changes = history(db, feed_id, name, fields=[hfield] if hfield else None,
                          since=now - timedelta(days=days) if days else None)
        rel = get_relationship(db, feed_id, name)
        since = present_since(db, feed_id, name)
        imported = person_income(db, feed_id, name)
    return render(request, "people/profile.html", {
        "p": person, "rel": rel, "changes": changes, "rows": rows, "tab": tab, "tabs": TABS, "type": type,
        "type_chips": TYPE_CHIPS, "next_before": rows[-1]["pk"] if len(rows) == TIMELINE_PAGE else None,
        "statuses": STATUS_LABELS, "roles": [(r, ROLE_LABELS[r]) for r in RELATIONSHIP_ROLES],
        "field_labels": FIELD_LABELS, "hfield": hfield, "hrange": hrange, "present_since": since,
        "dt": lambda iso: datetime.fromisoformat(iso) if iso else None,
        "short_dt": lambda value: local(value, tz).strftime("%-d %b %Y %H:%M %Z"),
        "attended": attended, "charts": charts, "chart_ranges": list(views.CHART_RANGES),
        "imported_income": imported,
    }, nav="people")


@router.post("/people/{username}/notes")
def add_note(request: Request, username: str, text: str = Form(...), noted_at: str = Form(default="")) -> Response:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        person = queries.get_person(db, feed_id, username)
        notes.add_note(db, feed_id, person.username, text, clock(request),
                       _local_time(noted_at, request.app.state.settings.timezone))
    return _back(username, "#notes")


@router.post("/people/{username}/notes/{note_id}")
def change_note(request: Request, username: str, note_id: int, action: str = Form(...),
                text: str = Form(default=""), noted_at: str = Form(default="")) -> Response:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        if action == "delete":
            notes.delete_note(db, feed_id, username, note_id)
        elif action == "edit":
            notes.edit_note(db, feed_id, username, note_id, clock(request), text=text,
                            noted_at=_local_time(noted_at, request.app.state.settings.timezone))
        else:
            raise BadRequest(f"unknown action {action!r}")
    return _back(username, "#notes")


@router.post("/people/{username}/relationship")
def relationship(request: Request, username: str, roles: list[str] = Form(default=[]),  # noqa: B006
                 custom_label: str = Form(default=""), status: str = Form(default="potential"),
                 traits: str = Form(default=""), since: str = Form(default=""), until: str = Form(default=""),
                 rel_notes: str = Form(default="")) -> Response:
    feed_id = require_feed(request)
    data = RelationshipIn(roles=roles, custom_label=custom_label, status=status,
                          traits=[t for t in traits.split(",")], since=_date(since), until=_date(until),
                          notes=rel_notes)
    with request.app.state.database.write() as db:
        person = queries.get_person(db, feed_id, username)
        save_relationship(db, feed_id, person.username, data, clock(request))
    return _back(username, "#relationship")


@router.post("/people/{username}/names")
def names(request: Request, username: str, real_name: str = Form(default=""), display_name: str = Form(default=""),
          address_terms: str = Form(default="")) -> Response:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        person = queries.get_person(db, feed_id, username)
        profile.set_names(db, feed_id, person.username, clock(request), real_name=real_name,
                          display_name=display_name, address_terms=address_terms.split(","))
    return _back(username, "#names")


@router.post("/people/{username}/flags")
def flags(request: Request, username: str, flag: str = Form(...), value: str = Form(...),
          list_name: str = Form(default="")) -> Response:
    feed_id = require_feed(request)
    on = value == "on"
    now = clock(request)
    with request.app.state.database.write() as db:
        person = queries.get_person(db, feed_id, username)
        if flag == "watchlist":
            action: Any = profile.add_to_watchlist if on else profile.remove_from_watchlist
            if on:
                action(db, feed_id, person.username, now, list_name or None)
            else:
                action(db, feed_id, person.username, list_name or None)
        elif flag == "excluded":
            set_excluded(db, person.username, on, now)  # also marks their sessions' stats stale
        elif flag == "model":
            profile.set_marked_model(db, feed_id, person.username, on, now)
        else:
            raise BadRequest(f"unknown flag {flag!r}")
    return _back(username, "#flags")


@router.post("/people/{username}/images")
async def upload(request: Request, username: str) -> Response:
    form = await request.form()  # already parsed (and cached) by the CSRF check
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not files:
        raise BadRequest("choose one or more images")
    payloads = [await f.read(images.MAX_BYTES + 1) for f in files]
    source, description = str(form.get("source") or ""), str(form.get("description") or "")
    taken_on = _date(str(form.get("taken_on") or ""))

    def save() -> None:
        feed_id = require_feed(request)
        with request.app.state.database.write() as db:
            person = queries.get_person(db, feed_id, username)
            for data in payloads:
                images.add_image(db, feed_id, person.username, data, clock(request), source=source,
                                 description=description, taken_on=taken_on)

    await anyio.to_thread.run_sync(save)
    return RedirectResponse(f"/people/{queries.normalise(username)}?tab=images", status_code=303)


@router.post("/people/{username}/images/{image_id}")
def change_image(request: Request, username: str, image_id: int, action: str = Form(...)) -> Response:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        if action == "current":
            images.set_current(db, feed_id, username, image_id)
        elif action == "delete":
            images.delete_image(db, feed_id, username, image_id)
        else:
            raise BadRequest(f"unknown action {action!r}")
    return RedirectResponse(f"/people/{queries.normalise(username)}?tab=images", status_code=303)
