"""Alert rules (owner data) and checking them against a batch on the write path.

A rule fires once per matching event. Checking costs one read of the enabled rules per batch and,
only when a rule about entering exists and someone entered, one read of those people.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest, NotFound
from greenroom.events.parse import Method
from greenroom.events.store import StoredEvent
from greenroom.people.derive import tokens_of
from greenroom.people.models import Person, Relationship
from greenroom.visits.models import ALERT_KINDS, AlertHit, AlertKind, AlertRule

LABELS = {
    AlertKind.BIG_SPENDER_ENTERED: "Big tipper entered",
    AlertKind.FRIEND_ENTERED: "Friend entered",
    AlertKind.TIP_AT_LEAST: "Big tip",
}


def check_alerts(db: Session, feed_id: int, events: Sequence[StoredEvent], now: datetime) -> None:
    rules = list(db.execute(select(AlertRule).where(AlertRule.enabled.is_(True)).order_by(AlertRule.id)).scalars())
    if not rules:
        return
    enters = [e for e in events if e.event.method == Method.USER_ENTER and e.event.username]
    tips = [e for e in events if e.event.tip is not None]
    hits: list[dict[str, Any]] = []
    enter_rules = [r for r in rules if r.kind in (AlertKind.BIG_SPENDER_ENTERED, AlertKind.FRIEND_ENTERED)]
    if enter_rules and enters:
        names = sorted({e.event.username for e in enters if e.event.username})
        spend = dict(db.execute(select(Person.username, Person.lifetime_tokens).where(
            Person.feed_id == feed_id, Person.username.in_(names))).all())
        friends = set(db.execute(select(Relationship.username).where(
            Relationship.feed_id == feed_id, Relationship.username.in_(names), Relationship.is_friend.is_(True)
        )).scalars())
        # The counters already include this whole batch: take back what was spent after each entry,
        # so "entered with N lifetime tokens" means N at the moment they came in.
        later = [(e.pk, e.event.username, tokens_of(e.event)) for e in events if tokens_of(e.event)]
        for stored in enters:
            name = stored.event.username or ""
            shown = stored.event.user.display_name if stored.event.user else name
            at_entry = spend.get(name, 0) - sum(t for pk, who, t in later if who == name and pk > stored.pk)
            for rule in enter_rules:
                if rule.kind == AlertKind.BIG_SPENDER_ENTERED and at_entry >= rule.threshold:
                    text = f"{LABELS[rule.kind]}: {shown} — {at_entry:,} lifetime"
                elif rule.kind == AlertKind.FRIEND_ENTERED and name in friends:
                    text = f"{LABELS[rule.kind]}: {shown}"
                else:
                    continue
                hits.append(_hit(feed_id, rule, name, stored, text))
    for rule in (r for r in rules if r.kind == AlertKind.TIP_AT_LEAST):
        for stored in tips:
            tokens = stored.event.tip.tokens  # type: ignore[union-attr]
            if tokens >= rule.threshold and stored.event.username:
                shown = stored.event.user.display_name if stored.event.user else stored.event.username
                hits.append(_hit(feed_id, rule, stored.event.username, stored, f"Tip of {tokens:,}: {shown}"))
    if hits:
        db.execute(AlertHit.__table__.insert(), hits)


def _hit(feed_id: int, rule: AlertRule, username: str, stored: StoredEvent, message: str) -> dict[str, Any]:
    return {"feed_id": feed_id, "rule_id": rule.id, "kind": rule.kind, "username": username,
            "event_pk": stored.pk, "message": message, "at": stored.event.event_time, "acknowledged_at": None}


def add_rule(db: Session, kind: str, threshold: int, now: datetime, *, sound: bool = False) -> AlertRule:
    if kind not in ALERT_KINDS:
        raise BadRequest(f"kind is one of {', '.join(ALERT_KINDS)}")
    if threshold < 0:
        raise BadRequest("the threshold is 0 or more")
    rule = AlertRule(kind=kind, threshold=threshold, enabled=True, sound=sound, created_at=now)
    db.add(rule)
    db.flush()
    return rule


def set_rule_enabled(db: Session, rule_id: int, enabled: bool) -> None:
    rule = db.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"no alert rule {rule_id}")
    rule.enabled = enabled


def list_rules(db: Session) -> list[AlertRule]:
    return list(db.execute(select(AlertRule).order_by(AlertRule.id)).scalars())


def rule_json(rule: AlertRule) -> dict[str, Any]:
    return {"id": rule.id, "kind": rule.kind, "label": LABELS.get(rule.kind, rule.kind),
            "threshold": rule.threshold, "enabled": rule.enabled, "sound": rule.sound}


def recent_hits(db: Session, feed_id: int, *, limit: int = 20, unacknowledged: bool = True) -> list[AlertHit]:
    query = select(AlertHit).where(AlertHit.feed_id == feed_id)
    if unacknowledged:
        query = query.where(AlertHit.acknowledged_at.is_(None))
    return list(db.execute(query.order_by(AlertHit.id.desc()).limit(limit)).scalars())


def acknowledge(db: Session, feed_id: int, hit_id: int | None, now: datetime) -> None:
    """Acknowledge one hit, or all of the feed's when ``hit_id`` is None."""
    query = update(AlertHit).where(AlertHit.feed_id == feed_id, AlertHit.acknowledged_at.is_(None))
    if hit_id is not None:
        query = query.where(AlertHit.id == hit_id)
    db.execute(query.values(acknowledged_at=now).execution_options(synchronize_session=False))
