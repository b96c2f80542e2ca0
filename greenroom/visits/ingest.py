"""The visits step of the ingest pipeline (order 400, after people counters are updated) and its
rebuild. Presence comes from enter/leave; a broadcastStop empties the room.

Per batch: one read of the room state and of the open visits of the people in the batch, bulk
inserts and updates, and (only when the batch stops the broadcast) one UPDATE closing every open
visit. Alert rules are checked here because the people counters they read are already current.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from greenroom.db.util import insert_ignore
from greenroom.events.parse import Method
from greenroom.events.store import StoredEvent
from greenroom.people.ingest import feed_owner
from greenroom.people.replay import replay
from greenroom.visits.alerts import check_alerts
from greenroom.visits.models import RoomState, Visit

STEP_ORDER = 400
STEP_NAME = "visits"
_V = Visit.__table__
_ROOM_METHODS = (Method.BROADCAST_START, Method.BROADCAST_STOP, Method.USER_ENTER, Method.USER_LEAVE)


class _Pending:
    def __init__(self) -> None:
        self.inserts: list[dict[str, Any]] = []
        self.closes: list[dict[str, Any]] = []

    def flush(self, db: Session) -> None:
        if self.inserts:
            db.execute(_V.insert(), self.inserts)
        if self.closes:
            db.execute(update(_V).where(_V.c.id == bindparam("_id")).values(left_at=bindparam("left_at")),
                       self.closes, execution_options={"synchronize_session": False})
        self.inserts, self.closes = [], []


def apply_visits(db: Session, feed_id: int, events: Sequence[StoredEvent], now: datetime, *,
                 alerts: bool = True) -> None:
    room = [e for e in events if e.event.method in _ROOM_METHODS]
    if room:
        _apply_room(db, feed_id, room)
    if alerts:
        check_alerts(db, feed_id, events, now)


def _apply_room(db: Session, feed_id: int, events: Sequence[StoredEvent]) -> None:
    owner = feed_owner(db, feed_id)
    state = db.execute(select(RoomState.live, RoomState.changed_at).where(RoomState.feed_id == feed_id)).first()
    live = bool(state and state[0])
    changed_at = state[1] if state else None
    names = sorted({e.event.username for e in events if e.event.username and e.event.username != owner})
    # username -> open visit: {"id": pk} for stored rows, or the pending insert dict itself.
    open_visits: dict[str, dict[str, Any]] = {}
    if names:
        for vid, name in db.execute(select(_V.c.id, _V.c.username).where(
                _V.c.feed_id == feed_id, _V.c.left_at.is_(None), _V.c.username.in_(names))):
            open_visits[name] = {"id": vid}
    pending = _Pending()

    def close(name: str, at: datetime) -> None:
        visit = open_visits.pop(name, None)
        if visit is None:
            return
        if "id" in visit:
            pending.closes.append({"_id": visit["id"], "left_at": at})
        else:
            visit["left_at"] = at

    for stored in events:
        event = stored.event
        at = event.event_time
        if event.method == Method.BROADCAST_START:
            live, changed_at = True, at
        elif event.method == Method.BROADCAST_STOP:
            live, changed_at = False, at
            # Everyone leaves when the broadcast stops: write what is pending, then close the rest.
            for visit in open_visits.values():
                if "id" not in visit:
                    visit["left_at"] = at
            pending.flush(db)
            open_visits.clear()
            db.execute(update(_V).where(_V.c.feed_id == feed_id, _V.c.left_at.is_(None)).values(left_at=at)
                       .execution_options(synchronize_session=False))
        elif event.username and event.username != owner:
            name = event.username
            close(name, at)  # a second enter without a leave closes the first visit
            if event.method == Method.USER_ENTER:
                visit = {"feed_id": feed_id, "username": name, "enter_pk": stored.pk, "entered_at": at,
                         "left_at": None, "live": live}
                pending.inserts.append(visit)
                open_visits[name] = visit
    pending.flush(db)
    if state is None:
        insert_ignore(db, RoomState.__table__, [{"feed_id": feed_id, "live": live, "changed_at": changed_at}],
                      ["feed_id"])
    elif (live, changed_at) != (bool(state[0]), state[1]):
        db.execute(update(RoomState).where(RoomState.feed_id == feed_id).values(live=live, changed_at=changed_at)
                   .execution_options(synchronize_session=False))


def rebuild_visits(db: Session, feed_id: int, now: datetime, *, progress: Callable[[int], None] | None = None,
                   chunk: int = 5000) -> int:
    """Recompute room state and visits through the live code path. Alert rules are not re-run:
    the hits already shown stay as they were and old events do not fire again."""
    db.execute(delete(Visit).where(Visit.feed_id == feed_id))
    db.execute(delete(RoomState).where(RoomState.feed_id == feed_id))
    return replay(db, feed_id, lambda part: apply_visits(db, feed_id, part, now, alerts=False), chunk=chunk,
                  progress=progress)


STEP = (STEP_ORDER, STEP_NAME, apply_visits)


def _register() -> None:
    # Below ingest in the layers: hand the step to the already-loaded pipeline (see load_steps).
    from importlib import import_module

    import_module("greenroom.ingest.pipeline").register_step(*STEP)


_register()
