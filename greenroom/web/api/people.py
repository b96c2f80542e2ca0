"""People JSON API: search, one person, the timeline, and the owner's writes.

Usernames in paths are matched case-insensitively. Writes answer with the person as
``GET /api/people/{username}`` shows it. Writing about someone never seen is a 404: viewing or
writing creates no one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import AwareDatetime, BaseModel, Field

from greenroom.imports.queries import person_income
from greenroom.people import images, notes, profile, queries
from greenroom.people.cards import cards, person_json
from greenroom.people.relationships import RelationshipIn, save_relationship
from greenroom.sessions.exclusions import set_excluded
from greenroom.web.api.people_common import clock, feed_id_of, require_feed, room_param, timeline_rows
from greenroom.web.exporting import EXPORT_RESPONSES, FORMAT_DESCRIPTION, check_format, export_people

router = APIRouter(prefix="/api/people", tags=["people"], dependencies=[Depends(room_param)])


class NoteIn(BaseModel):
    text: str = Field(max_length=notes.MAX_NOTE)
    noted_at: AwareDatetime | None = None


class NoteEditIn(BaseModel):
    text: str | None = Field(default=None, max_length=notes.MAX_NOTE)
    noted_at: AwareDatetime | None = None


class RelationshipBody(BaseModel):
    roles: list[str] = Field(default_factory=list, description="friend, sub, dom, custom")
    custom_label: str = Field(default="", max_length=60)
    status: str = Field(default="potential", description="potential, occasional, active, on_hold, inactive, "
                                                         "decommissioned, banished")
    traits: list[str] = Field(default_factory=list)
    since: date | None = None
    until: date | None = None
    notes: str = Field(default="", max_length=20_000)


class NamesIn(BaseModel):
    real_name: str | None = Field(default=None, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    address_terms: list[str] | None = None
    marked_model: bool | None = None


class ExcludedIn(BaseModel):
    excluded: bool


@router.get("", summary="Search people by name prefix, filter, sort and page (format=csv|json exports)",
            responses=EXPORT_RESPONSES)
def list_people(
    request: Request,
    format: str | None = Query(default=None, description=FORMAT_DESCRIPTION),  # noqa: A002
    q: str = Query(default="", max_length=64, description="Name prefix (case-insensitive)."),
    filter: str = Query(default="all", description=", ".join(queries.FILTERS)),  # noqa: A002
    sort: str = Query(default="last_seen", description=", ".join(queries.SORTS)),
    status: str = Query(default="", description="Relationship status."),
    role: str = Query(default="", description="Relationship role."),
    limit: int = Query(default=50, ge=1, le=queries.MAX_LIMIT),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    feed_id = feed_id_of(request)
    if fmt := check_format(format):
        return export_people(request.app.state.database, fmt, feed_id=feed_id, q=q, filter=filter,  # type: ignore[return-value]
                             sort=sort, status=status, role=role, now=clock(request))
    if feed_id is None:
        return {"people": [], "total": 0}
    now = clock(request)
    with request.app.state.database.read() as db:
        page = queries.search_people(db, feed_id, q=q, filter=filter, sort=sort, relationship_status=status,
                                     relationship_role=role, limit=limit, offset=offset, now=now)
        found = cards(db, feed_id, [p.username for p in page.people], now, people=page.people)
        return {"people": [found[p.username] for p in page.people], "total": page.total}


@router.get("/suggest", summary="Up to 8 names starting with q, for the top-bar search")
def suggest(request: Request, q: str = Query(default="", max_length=64)) -> dict[str, Any]:
    feed_id = feed_id_of(request)
    if feed_id is None:
        return {"people": []}
    with request.app.state.database.read() as db:
        found = queries.suggest(db, feed_id, q)
        return {"people": [{"username": p.username, "display_name": p.display_name} for p in found]}


@router.get("/{username}", summary="One person: stats, attributes, badges, relationship, notes")
def get_person(request: Request, username: str) -> dict[str, Any]:
    feed_id = require_feed(request)
    with request.app.state.database.read() as db:
        out = person_json(db, feed_id, username, clock(request))
        # Income the Events API cannot see, from imported token history (None when there is none).
        out["imported_income"] = person_income(db, feed_id, out["username"])
        return out


@router.get("/{username}/timeline", summary="Every interaction, newest first, each linked to its session")
def get_timeline(request: Request, username: str, type: str = Query(default="", description="Comma-separated "  # noqa: A002
                 "event types"), limit: int = Query(default=50, ge=1, le=queries.MAX_LIMIT),
                 before: int | None = Query(default=None, description="Event id: entries older than it.")) -> dict:
    feed_id = require_feed(request)
    types = [t for t in type.split(",") if t]
    with request.app.state.database.read() as db:
        person = queries.get_person(db, feed_id, username)
        events = queries.timeline(db, feed_id, person.username, types=types, limit=limit, before=before)
        items = timeline_rows(db, events, request.app.state.settings.timezone)
    return {"items": items, "next_before": items[-1]["pk"] if len(items) == limit else None}


def _write(request: Request, username: str, action: Any) -> dict[str, Any]:
    feed_id = require_feed(request)
    now = clock(request)
    with request.app.state.database.write() as db:
        person = queries.get_person(db, feed_id, username)
        action(db, feed_id, person.username, now)
    with request.app.state.database.read() as db:
        return person_json(db, feed_id, username, now)


@router.post("/{username}/notes", summary="Add a note", status_code=201)
def add_note(request: Request, username: str, body: NoteIn) -> dict[str, Any]:
    return _write(request, username, lambda db, f, u, now: notes.add_note(db, f, u, body.text, now, body.noted_at))


@router.patch("/{username}/notes/{note_id}", summary="Edit a note's text and/or date")
def edit_note(request: Request, username: str, note_id: int, body: NoteEditIn) -> dict[str, Any]:
    return _write(request, username, lambda db, f, u, now: notes.edit_note(
        db, f, u, note_id, now, text=body.text, noted_at=body.noted_at))


@router.delete("/{username}/notes/{note_id}", summary="Delete a note")
def delete_note(request: Request, username: str, note_id: int) -> dict[str, Any]:
    return _write(request, username, lambda db, f, u, now: notes.delete_note(db, f, u, note_id))


@router.put("/{username}/relationship", summary="Set the relationship; changes are recorded in its history")
def put_relationship(request: Request, username: str, body: RelationshipBody) -> dict[str, Any]:
    data = RelationshipIn(**body.model_dump())
    return _write(request, username, lambda db, f, u, now: save_relationship(db, f, u, data, now))


@router.put("/{username}/names", summary="Set real name (private), display name, address terms, model mark")
def put_names(request: Request, username: str, body: NamesIn) -> dict[str, Any]:
    def action(db: Any, feed_id: int, name: str, now: Any) -> None:
        profile.set_names(db, feed_id, name, now, real_name=body.real_name, display_name=body.display_name,
                          address_terms=body.address_terms)
        if body.marked_model is not None:
            profile.set_marked_model(db, feed_id, name, body.marked_model, now)

    return _write(request, username, action)


@router.put("/{username}/watchlists/{list_name}", summary="Put the person on a watchlist")
def watch(request: Request, username: str, list_name: str) -> dict[str, Any]:
    return _write(request, username, lambda db, f, u, now: profile.add_to_watchlist(db, f, u, now, list_name))


@router.delete("/{username}/watchlists/{list_name}", summary="Take the person off a watchlist")
def unwatch(request: Request, username: str, list_name: str) -> dict[str, Any]:
    return _write(request, username, lambda db, f, u, now: profile.remove_from_watchlist(db, f, u, list_name))


@router.put("/{username}/excluded", summary="Exclude from (or include again in) every stat and summary")
def put_excluded(request: Request, username: str, body: ExcludedIn) -> dict[str, Any]:
    return _write(request, username, lambda db, f, u, now: set_excluded(db, u, body.excluded, now))


@router.post("/{username}/images", summary="Upload an image (PNG, JPEG, GIF, WebP; at most 10 MB)",
             status_code=201)
def upload_image(request: Request, username: str, file: UploadFile = File(...), source: str = Form(default=""),
                 description: str = Form(default=""), taken_on: date | None = Form(default=None),
                 current: bool | None = Form(default=None)) -> dict[str, Any]:
    data = file.file.read(images.MAX_BYTES + 1)
    return _write(request, username, lambda db, f, u, now: images.add_image(
        db, f, u, data, now, source=source, description=description, taken_on=taken_on, make_current=current))


@router.post("/{username}/images/{image_id}/current", summary="Make an image the current one")
def make_current(request: Request, username: str, image_id: int) -> dict[str, Any]:
    return _write(request, username, lambda db, f, u, now: images.set_current(db, f, u, image_id))


@router.delete("/{username}/images/{image_id}", summary="Delete an image")
def delete_image(request: Request, username: str, image_id: int) -> dict[str, Any]:
    return _write(request, username, lambda db, f, u, now: images.delete_image(db, f, u, image_id))
