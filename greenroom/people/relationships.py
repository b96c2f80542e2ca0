"""The unified relationship record and its automatic change history.

Every save compares the new record with the stored one field by field and writes one history row
per field that changed (what, from, to, when), so the history never depends on the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest
from greenroom.people.models import RELATIONSHIP_ROLES, Relationship, RelationshipChange, RelationshipStatus
from greenroom.people.queries import normalise

STATUS_LABELS = {
    "potential": "Potential", "occasional": "Occasional", "active": "Active", "on_hold": "On hold",
    "inactive": "Inactive", "decommissioned": "Decommissioned", "banished": "Banished",
}
ROLE_LABELS = {"friend": "Friend", "sub": "Sub", "dom": "Dom", "custom": "Custom"}
FIELD_LABELS = {"roles": "Roles", "custom_label": "Custom label", "status": "Status", "traits": "Traits",
                "since": "Since", "until": "Until", "notes": "Notes"}


@dataclass
class RelationshipIn:
    roles: list[str] = field(default_factory=list)
    custom_label: str = ""
    status: str = RelationshipStatus.POTENTIAL
    traits: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None
    notes: str = ""


def _clean(data: RelationshipIn) -> dict[str, Any]:
    roles = sorted({r.strip().lower() for r in data.roles if r.strip()})
    for role in roles:
        if role not in RELATIONSHIP_ROLES:
            raise BadRequest(f"roles are among {', '.join(RELATIONSHIP_ROLES)}")
    status = (data.status or "").strip().lower().replace(" ", "_")
    if status not in STATUS_LABELS:
        raise BadRequest(f"status is one of {', '.join(STATUS_LABELS)}")
    label = data.custom_label.strip()[:60]
    if "custom" in roles and not label:
        raise BadRequest("a custom role needs a label")
    traits = sorted({t.strip()[:40] for t in data.traits if t.strip()})[:30]
    if data.since and data.until and data.until < data.since:
        raise BadRequest("'until' is before 'since'")
    return {"roles": roles, "custom_label": label if "custom" in roles else "", "status": status,
            "traits": traits, "since": data.since, "until": data.until, "notes": data.notes.strip()[:20_000]}


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def get_relationship(db: Session, feed_id: int, username: str) -> Relationship | None:
    return db.get(Relationship, (feed_id, normalise(username)))


def save_relationship(db: Session, feed_id: int, username: str, data: RelationshipIn, now: datetime) -> Relationship:
    """Create or replace the relationship; returns it after recording what changed."""
    name = normalise(username)
    values = _clean(data)
    row = db.get(Relationship, (feed_id, name))
    old: dict[str, Any] = {k: getattr(row, k) for k in values} if row is not None else {
        "roles": [], "custom_label": "", "status": "", "traits": [], "since": None, "until": None, "notes": ""}
    if row is None:
        row = Relationship(feed_id=feed_id, username=name, updated_at=now, **values)
        db.add(row)
    for key, value in values.items():
        if _shown(old[key]) != _shown(value):
            db.add(RelationshipChange(feed_id=feed_id, username=name, field=key, old_value=_shown(old[key]),
                                      new_value=_shown(value), changed_at=now))
        setattr(row, key, value)
    row.is_friend = "friend" in values["roles"]
    row.updated_at = now
    db.flush()
    return row


def history(db: Session, feed_id: int, username: str, *, fields: list[str] | None = None,
            since: datetime | None = None) -> list[RelationshipChange]:
    query = select(RelationshipChange).where(RelationshipChange.feed_id == feed_id,
                                             RelationshipChange.username == normalise(username))
    if fields:
        query = query.where(RelationshipChange.field.in_(fields))
    if since is not None:
        query = query.where(RelationshipChange.changed_at >= since)
    return list(db.execute(query.order_by(RelationshipChange.changed_at.desc(), RelationshipChange.id.desc()))
                .scalars())


def relationship_json(row: Relationship | None,
                      changes: list[RelationshipChange] | None = None) -> dict[str, Any] | None:
    if row is None:
        return None
    out: dict[str, Any] = {
        "roles": list(row.roles or []), "custom_label": row.custom_label, "status": row.status,
        "traits": list(row.traits or []), "since": row.since.isoformat() if row.since else None,
        "until": row.until.isoformat() if row.until else None, "notes": row.notes,
        "updated_at": row.updated_at.isoformat(),
    }
    if changes is not None:
        out["history"] = [change_json(c) for c in changes]
    return out


def change_json(change: RelationshipChange) -> dict[str, Any]:
    return {"field": change.field, "from": change.old_value, "to": change.new_value,
            "changed_at": change.changed_at.isoformat()}
