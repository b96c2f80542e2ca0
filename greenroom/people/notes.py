"""The owner's notes about a person: timestamped, editable (text and date), deletable."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest, NotFound
from greenroom.people.models import PersonNote
from greenroom.people.queries import normalise

MAX_NOTE = 20_000


def _body(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise BadRequest("a note needs some text")
    if len(body) > MAX_NOTE:
        raise BadRequest(f"a note is at most {MAX_NOTE:,} characters")
    return body


def add_note(db: Session, feed_id: int, username: str, text: str, now: datetime,
             noted_at: datetime | None = None) -> PersonNote:
    note = PersonNote(feed_id=feed_id, username=normalise(username), body=_body(text), noted_at=noted_at or now,
                      created_at=now, updated_at=None)
    db.add(note)
    db.flush()
    return note


def _get(db: Session, feed_id: int, username: str, note_id: int) -> PersonNote:
    note = db.get(PersonNote, note_id)
    if note is None or note.feed_id != feed_id or note.username != normalise(username):
        raise NotFound(f"no note {note_id} about {username!r}")
    return note


def edit_note(db: Session, feed_id: int, username: str, note_id: int, now: datetime, *, text: str | None = None,
              noted_at: datetime | None = None) -> PersonNote:
    note = _get(db, feed_id, username, note_id)
    if text is not None:
        note.body = _body(text)
    if noted_at is not None:
        note.noted_at = noted_at
    note.updated_at = now
    db.flush()
    return note


def delete_note(db: Session, feed_id: int, username: str, note_id: int) -> None:
    db.delete(_get(db, feed_id, username, note_id))
    db.flush()


def list_notes(db: Session, feed_id: int, username: str) -> list[PersonNote]:
    return list(db.execute(
        select(PersonNote).where(PersonNote.feed_id == feed_id, PersonNote.username == normalise(username))
        .order_by(PersonNote.noted_at.desc(), PersonNote.id.desc())
    ).scalars())


def latest_notes(db: Session, feed_id: int, usernames: list[str]) -> dict[str, str]:
    """The newest note per person, for list rows."""
    if not usernames:
        return {}
    result: dict[str, str] = {}
    for name, body in db.execute(
        select(PersonNote.username, PersonNote.body)
        .where(PersonNote.feed_id == feed_id, PersonNote.username.in_(usernames))
        .order_by(PersonNote.noted_at.desc(), PersonNote.id.desc())
    ).all():
        result.setdefault(name, body)
    return result


def note_json(note: PersonNote) -> dict[str, Any]:
    return {"id": note.id, "text": note.body, "noted_at": _iso(note.noted_at), "created_at": _iso(note.created_at),
            "updated_at": _iso(note.updated_at), "edited": note.updated_at is not None}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
