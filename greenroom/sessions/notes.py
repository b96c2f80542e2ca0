"""The owner's notes and tags on a session. Owner data: rebuild never touches it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from greenroom.errors import BadRequest
from greenroom.sessions.models import BroadcastSession, SessionNote

MAX_NOTES = 20_000
MAX_TAGS = 30
MAX_TAG = 40


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Trimmed, lower-cased, unique, in the order given."""
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise BadRequest("tags must be text")
        tag = " ".join(tag.split()).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise BadRequest(f"a tag is at most {MAX_TAG} characters")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise BadRequest(f"at most {MAX_TAGS} tags")
    return out


def get_notes(db: Session, session_id: int) -> tuple[str, list[str]]:
    row = db.get(SessionNote, session_id)
    return (row.notes, list(row.tags or [])) if row else ("", [])


def set_notes(db: Session, session: BroadcastSession, now: datetime, *, notes: str | None = None,
              tags: Iterable[str] | None = None) -> tuple[str, list[str]]:
    """Replace the notes and/or the tags (``None`` leaves that part as it is)."""
    if notes is not None and len(notes) > MAX_NOTES:
        raise BadRequest(f"notes are at most {MAX_NOTES} characters")
    row = db.get(SessionNote, session.id)
    if row is None:
        row = SessionNote(session_id=session.id, feed_id=session.feed_id, notes="", tags=[], updated_at=now)
        db.add(row)
    if notes is not None:
        row.notes = notes
    if tags is not None:
        row.tags = clean_tags(tags)
    row.updated_at = now
    db.flush()
    return row.notes, list(row.tags or [])


def merge_notes(db: Session, keep_id: int, gone_id: int, now: datetime) -> None:
    """When two sessions merge, the later one's notes are appended and its tags joined."""
    gone = db.get(SessionNote, gone_id)
    if gone is None:
        return
    keep = db.get(SessionNote, keep_id)
    if keep is None:
        keep = SessionNote(session_id=keep_id, feed_id=gone.feed_id, notes="", tags=[], updated_at=now)
        db.add(keep)
    keep.notes = "\n\n".join(part for part in (keep.notes, gone.notes) if part)
    keep.tags = clean_tags(list(keep.tags or []) + list(gone.tags or []))
    keep.updated_at = now
    db.flush()
    db.execute(delete(SessionNote).where(SessionNote.session_id == gone_id))


def orphaned_note_ids(db: Session) -> list[int]:
    """Notes whose session no longer exists (kept, never deleted; doctor reports them)."""
    ids = select(BroadcastSession.id)
    return list(db.execute(select(SessionNote.session_id).where(SessionNote.session_id.not_in(ids))).scalars())
