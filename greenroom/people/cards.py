"""People as pages and the API show them: badges, image, stats, in a few set-based reads.

``cards`` serves any list of names (People, Live, Visitors, Inbox): whatever the page size, it
costs a fixed number of queries, never one per row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenroom.people import images as image_service
from greenroom.people.exclusions import excluded_among
from greenroom.people.images import current_image_ids, image_url, placeholder_data_url
from greenroom.people.models import Person, PersonProfile, Relationship, Role
from greenroom.people.notes import latest_notes, list_notes, note_json
from greenroom.people.profile import get_profile, names_json, watchlists_of
from greenroom.people.queries import get_person, stats_of, window_tokens
from greenroom.people.relationships import (
    ROLE_LABELS,
    STATUS_LABELS,
    get_relationship,
    history,
    relationship_json,
)

# Badge keys double as CSS classes (PAGES.md: one colour, one meaning, always with a word).
BADGE_ORDER = ("model", "friend", "sub", "dom", "custom", "status", "fanclub", "mod", "follower", "watchlist",
               "excluded")


def role_of(person: Person | None, profile: PersonProfile | None) -> str:
    seen = bool(person and person.seen_broadcasting)
    return Role.MODEL if seen or (profile is not None and profile.marked_model) else Role.VIEWER


def badges(person: Person | None, *, role: str, relationship: Relationship | None, watchlists: list[str],
           excluded: bool) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if role == Role.MODEL:
        out.append({"key": "model", "label": "Model"})
    if relationship is not None:
        for r in relationship.roles or []:
            label = relationship.custom_label if r == "custom" else ROLE_LABELS.get(r, r)
            out.append({"key": r, "label": label or "Custom"})
        status = relationship.status
        out.append({"key": f"status-{status}", "label": STATUS_LABELS.get(status, status)})
    if person is not None:
        attrs = person.attributes or {}
        if person.in_fanclub:
            out.append({"key": "fanclub", "label": "Fan club"})
        if str(attrs.get("isMod", "")).lower() in ("true", "1"):
            out.append({"key": "mod", "label": "Mod"})
        if person.follower:
            out.append({"key": "follower", "label": "Follows you"})
    if watchlists:
        out.append({"key": "watchlist", "label": ", ".join(watchlists)})
    if excluded:
        out.append({"key": "excluded", "label": "Excluded"})
    return out


def cards(db: Session, feed_id: int, usernames: list[str], now: datetime, *,
          people: list[Person] | None = None) -> dict[str, dict[str, Any]]:
    """Everything a list row needs per name; names never seen get a minimal card."""
    names = list(dict.fromkeys(usernames))
    if people is None:
        people = list(db.execute(select(Person).where(Person.feed_id == feed_id, Person.username.in_(names)))
                      .scalars()) if names else []
    by_name = {p.username: p for p in people}
    profiles = {p.username: p for p in db.execute(select(PersonProfile).where(
        PersonProfile.feed_id == feed_id, PersonProfile.username.in_(names))).scalars()} if names else {}
    rels = {r.username: r for r in db.execute(select(Relationship).where(
        Relationship.feed_id == feed_id, Relationship.username.in_(names))).scalars()} if names else {}
    lists = watchlists_of(db, feed_id, names)
    excluded = excluded_among(db, names)
    images = current_image_ids(db, feed_id, names)
    windows = window_tokens(db, feed_id, names, now)
    notes = latest_notes(db, feed_id, names)
    result: dict[str, dict[str, Any]] = {}
    for name in names:
        person = by_name.get(name)
        role = role_of(person, profiles.get(name))
        rel = rels.get(name)
        image_id = images.get(name)
        result[name] = {
            "username": name,
            "display_name": person.display_name if person else name,
            "role": str(role),
            "first_seen": person.first_seen.isoformat() if person else None,
            "last_seen": person.last_seen.isoformat() if person else None,
            "stats": stats_of(person, windows.get(name, (0, 0))) if person else None,
            "image_url": image_url(name, image_id) if image_id else placeholder_data_url(role),
            "has_image": image_id is not None,
            "badges": badges(person, role=role, relationship=rel, watchlists=lists.get(name, []),
                             excluded=name in excluded),
            "relationship_status": rel.status if rel else None,
            "latest_note": notes.get(name, ""),
        }
    return result


def person_json(db: Session, feed_id: int, username: str, now: datetime) -> dict[str, Any]:
    """One person as ``GET /api/people/{username}`` answers (NotFound when never seen)."""
    person = get_person(db, feed_id, username)
    card = cards(db, feed_id, [person.username], now, people=[person])[person.username]
    return {
        "username": person.username,
        "display_name": person.display_name,
        "role": card["role"],
        "first_seen": card["first_seen"],
        "last_seen": card["last_seen"],
        "attributes": dict(person.attributes or {}),
        "stats": card["stats"],
        "image_url": card["image_url"],
        "badges": card["badges"],
        "relationship": relationship_json(get_relationship(db, feed_id, person.username),
                                          history(db, feed_id, person.username)),
        "notes": [note_json(n) for n in list_notes(db, feed_id, person.username)],
        "names": names_json(get_profile(db, feed_id, person.username)),
        "images": [_image_json(person.username, i) for i in image_service.list_images(db, feed_id, person.username)],
        "watchlists": watchlists_of(db, feed_id, [person.username]).get(person.username, []),
        "excluded": bool(excluded_among(db, [person.username])),
        "follower": person.follower,
        "in_fanclub": person.in_fanclub,
        "followed_at": person.followed_at.isoformat() if person.followed_at else None,
        "unfollowed_at": person.unfollowed_at.isoformat() if person.unfollowed_at else None,
        "tip_tokens": person.tip_tokens,
        "media_purchases": person.media_purchases,
    }


def _image_json(username: str, row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "url": image_url(username, row["id"]), "content_type": row["content_type"],
            "size": row["size"], "source": row["source"], "description": row["description"],
            "taken_on": row["taken_on"].isoformat() if row["taken_on"] else None, "current": row["is_current"],
            "created_at": row["created_at"].isoformat()}
