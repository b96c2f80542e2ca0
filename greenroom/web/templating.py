"""Templates and what every page shares: navigation, the signed-in owner's CSRF token, the room
being looked at (the switcher, the DEMO label and the failure banner), and the owner's time zone.

The room: ``?room=NAME`` on any page or API call (links stay shareable), else the
``greenroom_room`` cookie a page sets when it is opened with ``?room=``, else the default room
(see ``default_room``). An unknown name is a 404, a malformed one a 400.

Pages call :func:`render`; it adds the shared context so no page can forget the banner or the token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from greenroom.errors import BadRequest, GreenroomError, NotFound
from greenroom.web import formatting
from greenroom.web.auth import Principal
from greenroom.web.status import NO_FEED, FeedStatus, default_room, feed_statuses, find_room

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    path: str


# The top bar, in order. A page marks itself current by passing ``nav=<key>`` to render().
NAV = [
    NavItem("dashboard", "Dashboard", "/"),
    NavItem("live", "Live", "/live"),
    NavItem("sessions", "Sessions", "/sessions"),
    NavItem("inbox", "Inbox", "/inbox"),
    NavItem("people", "People", "/people"),
    NavItem("leaderboards", "Leaderboards", "/leaderboards"),
    NavItem("visitors", "Visitors", "/visitors"),
    NavItem("admin", "Admin", "/admin"),
]

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _tz(request: Request) -> str:
    return request.app.state.settings.timezone


def now(request: Request) -> datetime:
    return request.app.state.clock()


def current_principal(request: Request) -> Principal | None:
    """The principal the auth gate attached to this request (None only on the open pages)."""
    return getattr(request.state, "principal", None)


ROOM_COOKIE = "greenroom_room"
ROOM_PARAM = "room"
ROOM_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _resolve_rooms(request: Request) -> None:
    """Read every room once per request and pick the one being looked at."""
    if hasattr(request.state, "rooms"):
        return
    request.state.rooms = []
    request.state.feed_status = NO_FEED
    request.state.room_error = None
    request.state.room_from_query = None
    try:
        with request.app.state.database.read() as db:
            statuses = feed_statuses(db, now=now(request))
    except Exception:  # the banner is secondary: the page itself must still render
        return
    request.state.rooms = statuses
    fallback = default_room(statuses, now=now(request))
    asked = request.query_params.get(ROOM_PARAM)
    if asked is not None and asked.strip():
        asked = asked.strip()
        error: GreenroomError | None = None
        if not ROOM_NAME.match(asked):
            error = BadRequest("room must be a broadcaster's username (letters, digits, _ . -)")
        elif (found := find_room(statuses, asked)) is None:
            error = NotFound(f"there is no room named {asked!r}")
        else:
            request.state.feed_status = found
            request.state.room_from_query = found.broadcaster
            return
        request.state.room_error = error
        request.state.feed_status = fallback
        return
    cookie = request.cookies.get(ROOM_COOKIE)
    chosen = find_room(statuses, cookie) if cookie and ROOM_NAME.match(cookie) else None
    request.state.feed_status = chosen or fallback


def feed_status(request: Request) -> FeedStatus:
    """The status of the room being looked at, read once per request; a failing read never blanks
    the page. Raises (once) a 404/400 when ``?room=`` names no room; after that, the default room."""
    _resolve_rooms(request)
    error = request.state.room_error
    if error is not None:
        request.state.room_error = None  # the error page itself renders with the default room
        raise error
    return request.state.feed_status


def room_statuses(request: Request) -> list[FeedStatus]:
    """Every room (followed, paused, removed with its data kept, demo), by name."""
    _resolve_rooms(request)
    return list(request.state.rooms)


def switch_path(nav: str | None) -> str:
    """Where the switcher goes: the current section's list, since a page deeper in (a session, a
    person) belongs to the room being left."""
    return next((item.path for item in NAV if item.key == nav), "/")


def time_tag(request: Request, value: datetime | None, *, relative: bool = True) -> dict[str, str]:
    """Parts of a <time> element: shown text, exact local time for the title, ISO for the script."""
    tz = _tz(request)
    return {
        "text": formatting.format_relative(value, now(request)) if relative else formatting.format_time(value, tz),
        "title": formatting.format_datetime(value, tz),
        "iso": formatting.iso_utc(value) or "",
    }


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, nav: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = current_principal(request)
    feed = feed_status(request) if principal else NO_FEED
    ctx: dict[str, Any] = {
        "nav_items": NAV,
        "nav_current": nav,
        "principal": principal,
        "csrf_token": principal.csrf_token if principal else None,
        "feed": feed,
        "feed_banner": formatting.feed_banner(feed.state, feed.last_event_at, _tz(request)) if feed.failing else "",
        "state_label": formatting.state_label,
        "tz": _tz(request),
        "time_tag": lambda value, relative=True: time_tag(request, value, relative=relative),
        "fmt_time": lambda value, seconds=False: formatting.format_time(value, _tz(request), seconds=seconds),
        "fmt_datetime": lambda value: formatting.format_datetime(value, _tz(request)),
        "fmt_bytes": formatting.format_bytes,
    }
    ctx["rooms"] = room_statuses(request) if principal else []
    ctx["room_switch_path"] = switch_path(nav)
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    chosen = getattr(request.state, "room_from_query", None)
    if principal and chosen and request.cookies.get(ROOM_COOKIE) != chosen:
        # The room picked by ?room= (the switcher, a shared link) stays picked on the next pages.
        response.set_cookie(ROOM_COOKIE, chosen, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    return response
