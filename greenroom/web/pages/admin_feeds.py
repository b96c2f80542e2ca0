"""Admin › Rooms: the rooms this installation follows. Add one by pasting its Events API URL (the
token is shown masked from then on, never again), pause and resume it, replace its URL when the
token changes, or remove it (keeping its data or deleting it, confirmed by typing its name); each
room's state, last event, last error and the ingest process following it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from greenroom.errors import BadRequest, GreenroomError
from greenroom.web.api.feeds import add_room, change_room, cipher_of, live_processes, remove_room
from greenroom.web.pages.admin import ADMIN_TABS, AdminTab, register_admin_tab
from greenroom.web.status import feed_statuses
from greenroom.web.templating import now, render

router = APIRouter(include_in_schema=False)


def rooms_context(request: Request, *, error: str = "") -> dict[str, Any]:
    when = now(request)
    with request.app.state.database.read() as db:
        statuses = feed_statuses(db, now=when)
        processes = live_processes(db, when)
    order = {False: 0, True: 1}
    rooms = sorted(statuses, key=lambda s: (order[s.removed], order[s.is_demo], s.broadcaster or ""))
    return {"room_list": rooms, "processes": processes, "error": error,
            "notice": request.query_params.get("notice", "")}


register_admin_tab(AdminTab("rooms", "Rooms", "admin/feeds.html", rooms_context), after="status")


def _back(notice: str) -> Response:
    return RedirectResponse(f"/admin?tab=rooms&notice={quote(notice)}#rooms", status_code=303)


def _failed(request: Request, exc: GreenroomError) -> Response:
    """The tab again with the problem said in it (the pasted URL is never put back in the form)."""
    tab = next(t for t in ADMIN_TABS if t.key == "rooms")
    context = {**rooms_context(request, error=exc.message), "tabs": ADMIN_TABS, "tab": tab}
    return render(request, "admin/index.html", context, nav="admin", status_code=exc.status_code)


@router.post("/admin/rooms")
def add(request: Request, url: str = Form(default=""), paused: str = Form(default="")) -> Response:
    try:
        with request.app.state.database.write() as db:
            feed = add_room(db, cipher_of(request), url, now(request), enabled=paused != "1")
            name, masked = feed.broadcaster, feed.url_masked
    except GreenroomError as exc:
        return _failed(request, exc)
    state = "added paused" if paused == "1" else "added; an ingest process starts following it within seconds"
    return _back(f"{name}'s room ({masked}) {state}.")


@router.post("/admin/rooms/{feed_id}/{action}")
def change(request: Request, feed_id: int, action: str, url: str = Form(default=""),
           data: str = Form(default="keep"), confirm: str = Form(default="")) -> Response:
    when = now(request)
    try:
        with request.app.state.database.write() as db:
            if action in ("pause", "resume"):
                feed = change_room(db, cipher_of(request), feed_id, when, enabled=action == "resume")
                notice = f"{feed.broadcaster}'s room " + (
                    "paused; its ingest process lets it go after the poll in flight." if action == "pause"
                    else "resumed; an ingest process takes it within seconds.")
            elif action == "replace":
                feed = change_room(db, cipher_of(request), feed_id, when, url_text=url)
                notice = f"{feed.broadcaster}'s URL replaced ({feed.url_masked}); the next poll uses it."
            elif action == "remove":
                notice = _remove(db, feed_id, when, data, confirm)
            else:
                raise BadRequest(f"unknown action {action[:40]!r}")
    except GreenroomError as exc:
        return _failed(request, exc)
    return _back(notice)


def _remove(db: Any, feed_id: int, when: Any, data: str, confirm: str) -> str:
    from greenroom.web.api.feeds import _room

    name = _room(db, feed_id).broadcaster
    if data not in ("keep", "delete"):
        raise BadRequest("choose whether to keep or delete the room's data")
    if confirm.strip().lower() != name:
        raise BadRequest(f"type the room's name ({name}) to confirm")
    _kept, rows = remove_room(db, feed_id, when, delete_data=data == "delete")
    if data == "delete":
        return f"{name}'s room removed and its data deleted ({rows:,} rows)."
    return f"{name}'s room is no longer followed; its data stays, under the room switcher."
