"""Reading presence and visits: the room now, recent and top visitors, each visit."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest
from greenroom.people.models import Person
from greenroom.visits.models import RoomState, Visit

PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
           "90d": timedelta(days=90)}


def room_state(db: Session, feed_id: int) -> tuple[bool, datetime | None]:
    row = db.execute(select(RoomState.live, RoomState.changed_at).where(RoomState.feed_id == feed_id)).first()
    return (bool(row[0]), row[1]) if row else (False, None)


def in_room(db: Session, feed_id: int) -> list[dict[str, Any]]:
    """Who is in the room now (open visits of the live room), earliest entry first."""
    live, _ = room_state(db, feed_id)
    if not live:
        return []
    rows = db.execute(
        select(Visit.username, Visit.entered_at).where(Visit.feed_id == feed_id, Visit.left_at.is_(None),
                                                       Visit.live.is_(True))
        .order_by(Visit.entered_at, Visit.id)
    ).all()
    return [{"username": name, "entered_at": at} for name, at in rows]


def present_since(db: Session, feed_id: int, username: str) -> datetime | None:
    live, _ = room_state(db, feed_id)
    if not live:
        return None
    return db.scalar(select(Visit.entered_at).where(Visit.feed_id == feed_id, Visit.username == username,
                                                    Visit.left_at.is_(None), Visit.live.is_(True)).limit(1))


def _since(period: str, now: datetime) -> datetime | None:
    if period == "all":
        return None
    if period not in PERIODS:
        raise BadRequest(f"period is one of {', '.join(PERIODS)}, all")
    return now - PERIODS[period]


def visitors(db: Session, feed_id: int, *, period: str = "7d", sort: str = "last_visit", q: str = "",
             offline_only: bool = False, limit: int = 50, offset: int = 0, now: datetime) -> tuple[list[dict], int]:
    """People who visited in the period, with visits and offline visits counted in it."""
    since = _since(period, now)
    offline = func.sum(case((Visit.live.is_(False), 1), else_=0))
    query = select(Visit.username, func.count().label("visits"), offline.label("offline"),
                   func.max(Visit.entered_at).label("last_visit")).where(Visit.feed_id == feed_id)
    if since is not None:
        query = query.where(Visit.entered_at >= since)
    if q.strip():
        query = query.where(Visit.username.startswith(q.strip().lower(), autoescape=True))
    query = query.group_by(Visit.username)
    if offline_only:
        query = query.having(offline > 0)
    sorts = {"last_visit": [func.max(Visit.entered_at).desc()], "visits": [func.count().desc()],
             "offline": [offline.desc()], "name": [Visit.username.asc()]}
    if sort not in sorts:
        raise BadRequest(f"sort is one of {', '.join(sorts)}")
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(query.order_by(*sorts[sort], Visit.username).limit(max(1, min(limit, 200)))
                      .offset(offset)).all()
    return [{"username": r.username, "visits": r.visits, "offline": int(r.offline or 0),
             "last_visit": r.last_visit} for r in rows], total


def top_visitors(db: Session, feed_id: int, *, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """All-time, from the people counters (indexed by visits)."""
    query = select(Person.username, Person.visits, Person.last_seen).where(Person.feed_id == feed_id,
                                                                           Person.visits > 0)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.execute(query.order_by(Person.visits.desc(), Person.id.desc()).limit(limit).offset(offset)).all()
    names = [r.username for r in rows]
    offline = dict(db.execute(
        select(Visit.username, func.count()).where(Visit.feed_id == feed_id, Visit.username.in_(names),
                                                   Visit.live.is_(False)).group_by(Visit.username)).all()
    ) if names else {}
    return [{"username": r.username, "visits": r.visits, "offline": offline.get(r.username, 0),
             "last_visit": r.last_seen} for r in rows], total


def history(db: Session, feed_id: int, *, username: str | None = None, limit: int = 100,
            before: int | None = None) -> list[Visit]:
    query = select(Visit).where(Visit.feed_id == feed_id)
    if username:
        query = query.where(Visit.username == username.strip().lower())
    if before is not None:
        query = query.where(Visit.id < before)
    return list(db.execute(query.order_by(Visit.entered_at.desc(), Visit.id.desc()).limit(limit)).scalars())


def summary(db: Session, feed_id: int, now: datetime) -> dict[str, dict[str, int]]:
    """Visits and unique visitors for today / week / month / all time, with the offline share."""
    out = {}
    for key, since in (("today", now - timedelta(days=1)), ("week", now - timedelta(days=7)),
                       ("month", now - timedelta(days=30)), ("all", None)):
        query = select(func.count(), func.count(func.distinct(Visit.username)),
                       func.sum(case((Visit.live.is_(False), 1), else_=0))).where(Visit.feed_id == feed_id)
        if since is not None:
            query = query.where(Visit.entered_at >= since)
        visits, uniques, offline = db.execute(query).one()
        out[key] = {"visits": visits or 0, "uniques": uniques or 0, "offline": int(offline or 0)}
    return out


def visit_json(v: Visit) -> dict[str, Any]:
    return {"id": v.id, "username": v.username, "entered_at": v.entered_at.isoformat(),
            "left_at": v.left_at.isoformat() if v.left_at else None, "live": v.live,
            "seconds": int((v.left_at - v.entered_at).total_seconds()) if v.left_at else None}
