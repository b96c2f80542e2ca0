"""Reading samples: the Account card, the samples of a time range, the viewers sampled during a
session. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from greenroom.statsapi.models import INT_METRICS, StatsSample, StatsSource
from greenroom.statsapi.service import configured_url

MAX_LIMIT = 5000
COLUMNS = ("sampled_at", "broadcaster", "feed_id", *INT_METRICS, "satisfaction_score", "time_online_minutes",
           "last_broadcast")


def sample_json(row: StatsSample) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(row, name) for name in COLUMNS}
    out["online"] = row.time_online_minutes is not None
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def latest(db: Session, broadcaster: str) -> StatsSample | None:
    return db.execute(
        select(StatsSample).where(StatsSample.broadcaster == broadcaster)
        .order_by(StatsSample.sampled_at.desc()).limit(1)
    ).scalar_one_or_none()


def account(db: Session, settings: Any) -> dict[str, Any] | None:
    """The Account card: None when no Stats API URL is in force; else the latest sample (or
    None yet) and the last error when the last attempt failed."""
    url = configured_url(db, settings)
    if url is None:
        return None
    row = latest(db, url.username)
    source = db.get(StatsSource, url.username)
    error = None
    if source is not None and source.last_error_at is not None and (
            source.last_success_at is None or source.last_error_at > source.last_success_at):
        error = {"message": source.last_error, "at": source.last_error_at}
    return {"username": url.username, "url_masked": url.masked, "sample": row, "error": error}


def account_json(view: dict[str, Any] | None) -> dict[str, Any]:
    if view is None:
        return {"configured": False, "username": None, "url_masked": None, "sample": None, "error": None}
    error = view["error"]
    return {
        "configured": True, "username": view["username"], "url_masked": view["url_masked"],
        "sample": sample_json(view["sample"]) if view["sample"] is not None else None,
        "error": {"message": error["message"], "at": _iso(error["at"])} if error else None,
    }


def _range(query: Any, start: datetime | None, end: datetime | None, broadcaster: str | None) -> Any:
    if start is not None:
        query = query.where(StatsSample.sampled_at >= start)
    if end is not None:
        query = query.where(StatsSample.sampled_at < end)
    if broadcaster:
        query = query.where(StatsSample.broadcaster == broadcaster.strip().lower())
    return query


def samples(db: Session, *, start: datetime | None, end: datetime | None, broadcaster: str | None = None,
            limit: int = 500, offset: int = 0, with_total: bool = True) -> tuple[list[StatsSample], int]:
    """Samples in ``[start, end)``, oldest first, and how many there are in all (0 unless asked)."""
    total = 0
    if with_total:
        total = db.scalar(_range(select(func.count()).select_from(StatsSample), start, end, broadcaster)) or 0
    rows = db.execute(
        _range(select(StatsSample), start, end, broadcaster)
        .order_by(StatsSample.sampled_at, StatsSample.id).limit(limit).offset(offset)
    ).scalars().all()
    return list(rows), int(total)


def room_viewers(db: Session, feed_id: int, broadcaster: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """``num_viewers`` of the room's samples in ``[start, end]``, oldest first. Samples not yet
    linked to the feed (taken before it existed) count by the broadcaster's name."""
    rows = db.execute(
        select(StatsSample.sampled_at, StatsSample.num_viewers)
        .where(or_(StatsSample.feed_id == feed_id,
                   and_(StatsSample.feed_id.is_(None), StatsSample.broadcaster == broadcaster.lower())))
        .where(StatsSample.sampled_at >= start, StatsSample.sampled_at <= end, StatsSample.num_viewers.is_not(None))
        .order_by(StatsSample.sampled_at)
    ).all()
    return [{"at": at, "viewers": int(viewers)} for at, viewers in rows]


def sampled_viewers(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Peak, average and count of sampled viewers; None without samples."""
    if not points:
        return None
    values = [p["viewers"] for p in points]
    return {
        "peak": max(values), "average": round(sum(values) / len(values), 1), "samples": len(values),
        "first_at": points[0]["at"].isoformat(), "last_at": points[-1]["at"].isoformat(),
        "source": "viewers sampled from the Stats API every 5 minutes (guests included)",
    }
