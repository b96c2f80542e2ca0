"""Live room, visitors and alert rules, as JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from greenroom.people.cards import cards
from greenroom.sessions.queries import current_session, session_json
from greenroom.visits import alerts, queries
from greenroom.web.api.people_common import clock, feed_id_of, require_feed, room_param
from greenroom.web.exporting import EXPORT_RESPONSES, FORMAT_DESCRIPTION, check_format, export_visitors

router = APIRouter(prefix="/api", tags=["live and visitors"], dependencies=[Depends(room_param)])


class RuleIn(BaseModel):
    kind: str = Field(description="big_spender_entered, friend_entered or tip_at_least")
    threshold: int = Field(default=0, ge=0)
    sound: bool = False


class RuleToggleIn(BaseModel):
    enabled: bool


def live_payload(request: Request) -> dict[str, Any]:
    feed_id = feed_id_of(request)
    if feed_id is None:
        return {"live": False, "since": None, "people": [], "alerts": [], "session": None}
    now = clock(request)
    with request.app.state.database.read() as db:
        live, since = queries.room_state(db, feed_id)
        present = queries.in_room(db, feed_id)
        found = cards(db, feed_id, [p["username"] for p in present], now)
        people = [found[p["username"]] | {"entered_at": p["entered_at"].isoformat()} for p in present]
        hits = [hit_json(h) for h in alerts.recent_hits(db, feed_id)]
        current = current_session(db, feed_id)
        session = None
        if current is not None:
            stats = session_json(current)["stats"]
            session = {"id": current.id, "status": current.status, "started_at": current.started_at.isoformat(),
                       "tokens": stats.get("tokens", 0), "net_followers": stats.get("net_followers", 0)}
    return {"live": live, "since": since.isoformat() if since else None, "people": people, "alerts": hits,
            "session": session}


def hit_json(hit: Any) -> dict[str, Any]:
    return {"id": hit.id, "kind": hit.kind, "username": hit.username, "message": hit.message,
            "at": hit.at.isoformat(), "acknowledged": hit.acknowledged_at is not None}


@router.get("/live", summary="Who is in the room now (while live), with badges; unacknowledged alerts")
def live(request: Request) -> dict[str, Any]:
    return live_payload(request)


@router.get("/visitors", summary="Recent or top visitors with visits and offline visits (format=csv|json exports)",
            responses=EXPORT_RESPONSES)
def visitors(request: Request, view: str = Query(default="recent", description="recent, top or history"),
             period: str = Query(default="7d", description="24h, 7d, 30d, 90d, all"),
             sort: str = Query(default="last_visit"), q: str = Query(default="", max_length=64),
             offline: bool = False, limit: int = Query(default=50, ge=1, le=200),
             offset: int = Query(default=0, ge=0),
             format: str | None = Query(default=None, description=FORMAT_DESCRIPTION)) -> dict[str, Any]:  # noqa: A002
    feed_id = feed_id_of(request)
    if fmt := check_format(format):
        return export_visitors(request.app.state.database, fmt, feed_id=feed_id, view=view,  # type: ignore[return-value]
                               period=period, sort=sort, q=q, offline=offline, now=clock(request))
    if feed_id is None:
        return {"visitors": [], "total": 0}
    now = clock(request)
    with request.app.state.database.read() as db:
        if view == "history":
            rows = queries.history(db, feed_id, username=q or None, limit=limit)
            return {"visits": [queries.visit_json(v) for v in rows]}
        if view == "top":
            rows, total = queries.top_visitors(db, feed_id, limit=limit, offset=offset)
        else:
            rows, total = queries.visitors(db, feed_id, period=period, sort=sort, q=q, offline_only=offline,
                                           limit=limit, offset=offset, now=now)
        found = cards(db, feed_id, [r["username"] for r in rows], now)
        return {"visitors": [found[r["username"]] | {"visits_in_period": r["visits"], "offline": r["offline"],
                                                     "last_visit": r["last_visit"].isoformat()} for r in rows],
                "total": total}


@router.get("/alerts/rules", summary="Alert rules")
def rules(request: Request) -> dict[str, Any]:
    with request.app.state.database.read() as db:
        return {"rules": [alerts.rule_json(r) for r in alerts.list_rules(db)]}


@router.post("/alerts/rules", summary="Add an alert rule", status_code=201)
def add_rule(request: Request, body: RuleIn) -> dict[str, Any]:
    with request.app.state.database.write() as db:
        return alerts.rule_json(alerts.add_rule(db, body.kind, body.threshold, clock(request), sound=body.sound))


@router.put("/alerts/rules/{rule_id}", summary="Enable or disable an alert rule")
def toggle_rule(request: Request, rule_id: int, body: RuleToggleIn) -> dict[str, Any]:
    with request.app.state.database.write() as db:
        alerts.set_rule_enabled(db, rule_id, body.enabled)
    return {"ok": True}


@router.post("/alerts/{hit_id}/ack", summary="Acknowledge an alert")
def ack(request: Request, hit_id: int) -> dict[str, Any]:
    feed_id = require_feed(request)
    with request.app.state.database.write() as db:
        alerts.acknowledge(db, feed_id, hit_id, clock(request))
    return {"ok": True}
