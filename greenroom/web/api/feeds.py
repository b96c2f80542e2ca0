"""Rooms (feeds): ``GET /api/feeds`` lists each room and its ingest state; ``POST /api/feeds`` adds a
room from its Events API URL; ``PATCH /api/feeds/{id}`` pauses, resumes or replaces the URL (token
rotation); ``DELETE /api/feeds/{id}`` stops following it, keeping or deleting its data.

The URL is stored encrypted (``greenroom.events.feeds.FeedCipher``) and never returned: every
answer carries only the masked form. The same functions serve Admin › Rooms.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from greenroom.db.models import metadata
from greenroom.errors import BadRequest, ConfigError, Conflict, NotFound
from greenroom.events.feeds import FeedCipher, fingerprint, store_feed_url
from greenroom.events.models import Feed, FeedLease, FeedSource, IngestProcess
from greenroom.secrets import FeedUrl, parse_feed_url, register_secret
from greenroom.web.api.schemas import ERROR_RESPONSES, ErrorOut, FeedOut
from greenroom.web.auth import signing_key
from greenroom.web.status import FeedStatus, feed_statuses
from greenroom.web.templating import ROOM_NAME, now

router = APIRouter(prefix="/api", tags=["feeds"])
MAX_URL_LENGTH = 2000
ROOM_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    400: {"model": ErrorOut, "description": "The URL is not an Events API URL (the message never repeats it)."},
    404: {"model": ErrorOut, "description": "No such room."},
    409: {"model": ErrorOut, "description": "The change does not fit the room (already followed, demo, ...)."},
}


class RoomOut(FeedOut):
    enabled: bool = Field(description="False while the room is paused.")
    source: str = Field(description="env (GREENROOM_EVENTS_URL), admin (added in Admin) or demo.")
    removed: bool = Field(description="No longer followed; its data was kept.")
    lease_holder: str | None = Field(description="The ingest process following the room (host:pid:id), if any.")
    lease_expires_at: datetime | None


class IngestProcessOut(BaseModel):
    holder: str
    hostname: str
    pid: int
    max_feeds: int | None = Field(description="Its limit on rooms; null: no limit.")
    feeds_held: int
    started_at: datetime
    heartbeat_at: datetime


class RoomsOut(BaseModel):
    feeds: list[RoomOut]


class ProcessesOut(BaseModel):
    processes: list[IngestProcessOut] = Field(description="Ingest processes that sent a heartbeat recently.")


class RoomIn(BaseModel):
    url: str = Field(description="The Events API URL from the broadcaster's token page (contains the token).")
    enabled: bool = Field(default=True, description="False adds the room paused.")


class RoomPatch(BaseModel):
    enabled: bool | None = Field(default=None, description="Pause (false) or resume (true).")
    url: str | None = Field(default=None, description="A new Events API URL for the same broadcaster.")


class RoomRemoved(BaseModel):
    id: int
    broadcaster: str
    data_deleted: bool
    rows_deleted: int = Field(description="Rows deleted across every table of the room (0 when kept).")


def room_out(status: FeedStatus) -> RoomOut:
    return RoomOut(
        id=status.feed_id or 0, broadcaster=status.broadcaster or "", url_masked=status.url_masked or "",
        is_demo=status.is_demo, state=status.state,  # type: ignore[arg-type]
        reported_state=status.reported_state or "", ingester_alive=status.alive, last_poll_at=status.last_poll_at,
        last_event_at=status.last_event_at, events_stored=status.events_stored,
        events_quarantined=status.events_quarantined, last_error=status.error, last_error_at=status.error_at,
        enabled=status.enabled, source=status.source, removed=status.removed, lease_holder=status.lease_holder,
        lease_expires_at=status.lease_expires_at,
    )


# -- what pages and endpoints share -----------------------------------------------------------------


def cipher_of(request: Request) -> FeedCipher:
    state = request.app.state
    cipher = getattr(state, "feed_cipher", None)
    if cipher is None:
        cipher = state.feed_cipher = FeedCipher(signing_key(getattr(state, "env_settings", state.settings)))
    return cipher


def parse_room_url(text: str) -> FeedUrl:
    """A pasted Events API URL, checked; errors never repeat it (it holds the token)."""
    text = (text or "").strip()
    if not text:
        raise BadRequest("paste the Events API URL from the broadcaster's token page")
    if len(text) > MAX_URL_LENGTH:
        raise BadRequest("that is too long to be an Events API URL")
    try:
        url = parse_feed_url(text)
    except ConfigError as exc:
        raise BadRequest(exc.message) from None
    register_secret(url.token)
    if not ROOM_NAME.match(url.username):
        raise BadRequest("the username in the URL is not a broadcaster's username")
    return url


def add_room(db: Session, cipher: FeedCipher, text: str, when: datetime, *, enabled: bool = True) -> Feed:
    url = parse_room_url(text)
    existing = db.scalar(select(Feed).where(Feed.broadcaster == url.username.lower()))
    if existing is not None:
        if existing.is_demo:
            raise Conflict(f"the demo room is called {existing.broadcaster}; remove it with its data first")
        if existing.removed_at is None and existing.url_encrypted is not None:
            raise Conflict(f"{existing.broadcaster}'s room is already followed; use Replace URL to change its token")
    return store_feed_url(db, cipher, url, source=FeedSource.ADMIN, now=when, enabled=enabled)


def _room(db: Session, feed_id: int) -> Feed:
    feed = db.get(Feed, feed_id)
    if feed is None:
        raise NotFound(f"there is no room {feed_id}")
    return feed


def change_room(db: Session, cipher: FeedCipher, feed_id: int, when: datetime, *, enabled: bool | None = None,
                url_text: str | None = None) -> Feed:
    feed = _room(db, feed_id)
    if enabled is None and url_text is None:
        raise BadRequest("nothing to change: give enabled and/or url")
    if feed.is_demo:
        raise Conflict("the demo room follows the built-in simulator; it cannot be paused or given a URL")
    if feed.removed_at is not None:
        raise Conflict(f"{feed.broadcaster}'s room was removed; add it again with its URL")
    if url_text is not None:
        url = parse_room_url(url_text)
        if url.username.lower() != feed.broadcaster:
            raise BadRequest(f"that URL is for {url.username.lower()}, not {feed.broadcaster}; add it as a new room")
        if feed.source == FeedSource.ENV:
            raise Conflict("this room's URL comes from GREENROOM_EVENTS_URL: change it there and restart")
        feed.url_encrypted = cipher.encrypt(url)
        feed.url_masked = url.masked
        feed.url_fingerprint = fingerprint(url.base)
    if enabled is not None:
        feed.enabled = enabled
    feed.updated_at = when
    db.flush()
    return feed


def remove_room(db: Session, feed_id: int, when: datetime, *, delete_data: bool) -> tuple[Feed | None, int]:
    """Stop following a room. Kept data stays browsable under the room's name; deleted data is
    gone from every table, and an ingester still holding the room loses its lease (its batch in
    flight rolls back). Returns (the room row if kept, rows deleted)."""
    feed = _room(db, feed_id)
    if feed.is_demo:
        holder = db.scalar(select(FeedLease.holder).where(FeedLease.feed_id == feed_id,
                                                           FeedLease.expires_at > when))
        if holder is not None:
            raise Conflict("the demo room is running in this installation; stop `greenroom serve` first")
    if not delete_data:
        feed.enabled = False
        feed.url_encrypted = None
        feed.removed_at = feed.removed_at or when
        feed.updated_at = when
        db.flush()
        return feed, 0
    return None, delete_room_data(db, feed_id)


def delete_room_data(db: Session, feed_id: int) -> int:
    """Delete a room and everything derived from it, in every table that belongs to a room."""
    # The lease first: from here on, an ingester's fencing check fails and its batch rolls back.
    deleted = db.execute(delete(FeedLease).where(FeedLease.feed_id == feed_id)).rowcount or 0
    tables = [t for t in metadata.sorted_tables if t.name not in ("feeds", "feed_leases")]
    by_name = {t.name: t for t in tables}
    sessions = by_name.get("broadcast_sessions")
    # Rows without a feed_id of their own hang off rows that have one: delete them first.
    for table in reversed(tables):
        if "feed_id" in table.c:
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table
            if "feed_id" in parent.c and parent.name != "feeds":
                ids = select(fk.column).where(parent.c.feed_id == feed_id)
                deleted += db.execute(delete(table).where(fk.parent.in_(ids))).rowcount or 0
                break
        else:
            if sessions is not None and "session_id" in table.c:
                ids = select(sessions.c.id).where(sessions.c.feed_id == feed_id)
                deleted += db.execute(delete(table).where(table.c.session_id.in_(ids))).rowcount or 0
    for table in reversed(tables):
        if "feed_id" in table.c:
            deleted += db.execute(delete(table).where(table.c.feed_id == feed_id)).rowcount or 0
    deleted += db.execute(delete(Feed).where(Feed.id == feed_id)).rowcount or 0
    return deleted


def live_processes(db: Session, when: datetime, *, within: float = 30.0) -> list[IngestProcess]:
    return list(db.scalars(select(IngestProcess).where(IngestProcess.heartbeat_at >= when - timedelta(seconds=within))
                           .order_by(IngestProcess.hostname, IngestProcess.pid)))


def status_of(db: Session, feed_id: int, when: datetime) -> FeedStatus:
    return next(s for s in feed_statuses(db, now=when) if s.feed_id == feed_id)


# -- endpoints ----------------------------------------------------------------------------------


@router.get("/feeds", response_model=RoomsOut, summary="Rooms (feeds) and their ingest state",
            responses=ROOM_ERRORS)
def list_feeds(request: Request) -> RoomsOut:
    """Every room: followed, paused, removed with its data kept, and the demo room."""
    when = now(request)
    with request.app.state.database.read() as db:
        statuses = feed_statuses(db, now=when)
    return RoomsOut(feeds=[room_out(s) for s in sorted(statuses, key=lambda s: s.feed_id or 0)])


@router.get("/feeds/processes", response_model=ProcessesOut, summary="Ingest processes sharing the rooms",
            responses=ERROR_RESPONSES)
def list_processes(request: Request) -> ProcessesOut:
    """Each running ingest process (heartbeat in the last 30 s): how many rooms it follows, its limit."""
    when = now(request)
    with request.app.state.database.read() as db:
        rows = [IngestProcessOut.model_validate(p, from_attributes=True) for p in live_processes(db, when)]
    return ProcessesOut(processes=rows)


@router.post("/feeds", response_model=RoomOut, status_code=201, summary="Follow a room (add its Events API URL)",
             responses=ROOM_ERRORS)
def create_feed(request: Request, body: RoomIn) -> RoomOut:
    """The broadcaster comes from the URL. A room removed earlier with its data kept is followed
    again from where it stopped. The URL is stored encrypted and never shown again."""
    when = now(request)
    with request.app.state.database.write() as db:
        feed = add_room(db, cipher_of(request), body.url, when, enabled=body.enabled)
        return room_out(status_of(db, feed.id, when))


@router.patch("/feeds/{feed_id}", response_model=RoomOut, summary="Pause, resume, or replace a room's URL",
              responses=ROOM_ERRORS)
def patch_feed(request: Request, feed_id: int, body: RoomPatch) -> RoomOut:
    """Ingest processes notice the change within seconds: a paused room is given up after the poll
    in flight; a new URL (token rotation) is used from the next poll, keeping the room's position."""
    when = now(request)
    with request.app.state.database.write() as db:
        change_room(db, cipher_of(request), feed_id, when, enabled=body.enabled, url_text=body.url)
        return room_out(status_of(db, feed_id, when))


@router.delete("/feeds/{feed_id}", response_model=RoomRemoved, summary="Stop following a room",
               responses=ROOM_ERRORS)
def delete_feed(
    request: Request, feed_id: int,
    delete_data: bool = Query(default=False, description="Also delete every event, session, person and "
                              "message of the room. Without it the data stays, browsable under its name."),
) -> RoomRemoved:
    when = now(request)
    with request.app.state.database.write() as db:
        name = _room(db, feed_id).broadcaster
        _kept, rows = remove_room(db, feed_id, when, delete_data=delete_data)
    return RoomRemoved(id=feed_id, broadcaster=name, data_deleted=delete_data, rows_deleted=rows)
