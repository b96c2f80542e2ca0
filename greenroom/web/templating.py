"""Templates and what every page shares: navigation, the signed-in owner's CSRF token, the feed
status behind the DEMO label and the failure banner, and the owner's time zone.

Pages call :func:`render`; it adds the shared context so no page can forget the banner or the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from greenroom.web import formatting
from greenroom.web.auth import Principal
from greenroom.web.status import NO_FEED, FeedStatus, active_feed_status

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


def feed_status(request: Request) -> FeedStatus:
    """The active feed's status, read once per request; a failing read never blanks the page."""
    cached = getattr(request.state, "feed_status", None)
    if cached is not None:
        return cached
    try:
        with request.app.state.database.read() as db:
            status = active_feed_status(db, now=now(request))
    except Exception:  # the banner is secondary: the page itself must still render
        status = NO_FEED
    request.state.feed_status = status
    return status


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
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
