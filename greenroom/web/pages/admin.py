"""Admin: one page, tabs rendered from ``ADMIN_TABS``.

A feature adds a tab with :func:`register_admin_tab` from its own page module (listed in
``ROUTER_MODULES``): a key for the URL (``/admin?tab=jobs``), a label, a template that fills the
tab's body, and a function returning that template's context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from greenroom.events.models import FeedState
from greenroom.secrets import redact
from greenroom.web.status import database_info, feed_statuses
from greenroom.web.templating import now, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class AdminTab:
    key: str
    label: str
    template: str
    context: Callable[[Request], dict[str, Any]]


def _status_warnings(statuses: list[Any]) -> list[str]:
    warnings = []
    if not statuses:
        warnings.append("No room is followed yet: add one in Admin › Rooms, set GREENROOM_EVENTS_URL, "
                        "or start the demo room.")
    for status in statuses:
        if status.removed or not status.enabled:
            continue  # the owner stopped it on purpose
        if not status.alive:
            warnings.append(f"No ingester is reading {status.broadcaster}'s feed: start `greenroom serve` or "
                            "`greenroom ingest` (or check that every process has the same GREENROOM_SECRET_KEY).")
        elif status.state == FeedState.CREDENTIALS_REJECTED:
            where = ("update GREENROOM_EVENTS_URL" if status.source == "env"
                     else "replace its URL in Admin › Rooms")
            warnings.append(f"The Events API rejected the token for {status.broadcaster}: create a new one "
                            f"on the site's token page and {where}.")
        elif status.state == FeedState.BACKING_OFF:
            warnings.append(f"Polling {status.broadcaster}'s feed is failing and being retried.")
    return warnings


def runtime_facts(runtime: Any) -> list[tuple[str, str]]:
    """What the running process reports: a mapping, a callable returning one, or the runtime object
    itself (its demo flag, feed and threads are read)."""
    if callable(runtime):
        runtime = runtime()
    if isinstance(runtime, Mapping):
        facts = {str(k): str(v) for k, v in runtime.items()}
    else:
        facts = {}
        if hasattr(runtime, "demo"):
            facts["Demo room"] = "yes" if runtime.demo else "no"
        feed = getattr(runtime, "feed", None)
        if feed is not None and hasattr(feed, "masked"):
            facts["Feed"] = feed.masked
        supervisor = getattr(runtime, "supervisor", None)
        if supervisor is not None:
            facts["Rooms followed here"] = ", ".join(supervisor.rooms()) or "none right now"
            facts["Room limit"] = str(supervisor.max_feeds or "no limit")
        threads = getattr(runtime, "threads", None) or []
        facts["Threads"] = ", ".join(
            f"{t.name} ({'running' if t.is_alive() else 'stopped'})" for t in threads
        ) or "none (this process serves pages only)"
    return [(k, redact(v)) for k, v in facts.items()]


def status_context(request: Request) -> dict[str, Any]:
    with request.app.state.database.read() as db:
        statuses = feed_statuses(db, now=now(request))
        info = database_info(db)
    runtime: list[tuple[str, str]] = []
    provider = request.app.state.runtime_status
    if provider is not None:
        try:
            runtime = runtime_facts(provider)
        except Exception as exc:  # a failing region never blanks the page
            runtime = [("error", redact(f"{type(exc).__name__}: {exc}"))]
    return {"statuses": statuses, "db_info": info, "runtime": runtime, "warnings": _status_warnings(statuses)}


ADMIN_TABS: list[AdminTab] = [AdminTab("status", "Status", "admin/status.html", status_context)]


def register_admin_tab(tab: AdminTab, *, after: str | None = None) -> None:
    """Add a tab (at the end, or right after the tab keyed ``after``), or replace the one with the
    same key (so re-importing a module is harmless)."""
    for index, existing in enumerate(ADMIN_TABS):
        if existing.key == tab.key:
            ADMIN_TABS[index] = tab
            return
    position = next((i + 1 for i, t in enumerate(ADMIN_TABS) if t.key == after), len(ADMIN_TABS))
    ADMIN_TABS.insert(position, tab)


@router.get("/admin")
def admin(request: Request, tab: str = "status") -> Response:
    current = next((t for t in ADMIN_TABS if t.key == tab), None)
    if current is None:
        raise HTTPException(404)
    # The tab's context comes first so it cannot replace the page's own names.
    context = {**current.context(request), "tabs": ADMIN_TABS, "tab": current}
    return render(request, "admin/index.html", context, nav="admin")
