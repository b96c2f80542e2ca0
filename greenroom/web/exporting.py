"""Export of a table view to CSV or JSON: one helper every table page and API route uses.

Rows are plain mappings; ``columns`` fixes the order (and the CSV header). Values are written as
text the owner's spreadsheet cannot mistake for a formula: a string starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return gets a leading apostrophe (numbers are left alone). Times are
ISO 8601 in UTC. Both formats stream, so a 200k-row export never sits in memory whole.

Below the helper, one function per table view (sessions, people, events, inbox, visitors) that the
view's page and API route call when ``format`` is given; rules in docs/exports.md.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from starlette.responses import StreamingResponse

from greenroom.errors import BadRequest
from greenroom.web.api.schemas import ERROR_RESPONSES, ErrorOut

ExportFormat = Literal["csv", "json"]
FORMATS: tuple[str, ...] = ("csv", "json")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def check_format(value: str | None) -> ExportFormat | None:
    """None for "not an export"; a clear 400 for an unknown format."""
    if value is None or value == "":
        return None
    fmt = value.strip().lower()
    if fmt not in FORMATS:
        raise BadRequest(f"format must be one of {', '.join(FORMATS)}")
    return fmt  # type: ignore[return-value]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    # Nested data (a raw payload) becomes JSON text.
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict | list) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for i, row in enumerate(rows, 1):
        writer.writerow([csv_cell(row.get(c)) for c in columns])
        if i % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Iterator[str]:
    yield "["
    for i, row in enumerate(rows):
        item = {c: _plain(row.get(c)) for c in columns}
        text = json.dumps(item, ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a hostile payload: keep it, escaped
            text = json.dumps(item)
        yield ("," if i else "") + "\n" + text
    yield "\n]\n"


def export_response(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], fmt: ExportFormat,
                    basename: str) -> StreamingResponse:
    """A download of ``rows``: ``<basename>.csv`` (UTF-8 with BOM, for spreadsheets) or ``.json``.

    JSON is a plain array of objects with exactly ``columns`` as keys; times are ISO 8601 UTC
    (``...Z``), nested data (raw payloads) stays nested in JSON and is JSON text in CSV."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in basename)[:80] or "export"
    if fmt == "csv":
        def body() -> Iterator[bytes]:
            yield "\ufeff".encode()
            for chunk in _csv_chunks(rows, columns):
                yield chunk.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode()

        media = "text/csv; charset=utf-8"
    else:
        def body() -> Iterator[bytes]:
            for chunk in _json_chunks(rows, columns):
                yield chunk.encode()

        media = "application/json"
    return StreamingResponse(body(), media_type=media,
                             headers={"Content-Disposition": f'attachment; filename="{safe}.{fmt}"',
                                      "Cache-Control": "no-store"})


# -- the table views ------------------------------------------------------------------------------
#
# Each function below exports exactly what its page or API lists for the same filters, but every
# matching row rather than one page, read in one unit of work and streamed. The first rows are
# read before the response starts, so a bad filter is still a clear 400 and not a broken download.

BATCH = 500
ANONYMOUS = "anonymous"


def _primed(rows: Iterator[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    try:
        first = next(rows)
    except StopIteration:
        return iter(())
    return itertools.chain([first], rows)


def _capped(rows: Iterator[Mapping[str, Any]], limit: int | None) -> Iterator[Mapping[str, Any]]:
    return itertools.islice(rows, limit) if limit is not None else rows


SESSION_STATS = ("duration_seconds", "tokens", "tip_tokens", "media_tokens", "tip_count", "unique_tippers",
                 "biggest_tip", "follows", "unfollows", "net_followers", "fanclub_joins", "unique_visitors",
                 "unique_chatters", "chat_messages", "private_messages", "peak_viewers", "avg_viewers",
                 "avg_watch_seconds", "new_visitors", "returning_visitors", "tokens_per_hour")
SESSION_COLUMNS = ("id", "feed_id", "status", "started_at", "ended_at", "last_event_at", "event_count",
                   *SESSION_STATS, "top_tippers", "tags", "notes")


def export_sessions(database: Any, fmt: ExportFormat, *, status: str | None, start: datetime | None,
                    end: datetime | None, tag: str | None, feed_id: int | None = None,
                    limit: int | None = None) -> StreamingResponse:
    """The sessions list (newest first) for these filters."""
    from greenroom.sessions import queries

    def rows() -> Iterator[dict[str, Any]]:
        with database.read() as db:
            offset = 0
            while True:
                page, _total = queries.list_sessions(db, status=status, start=start, end=end, tag=tag,
                                                     feed_id=feed_id, limit=queries.MAX_LIMIT, offset=offset)
                notes = queries.notes_for(db, [r.id for r in page])
                for row in page:
                    out = queries.session_json(row)
                    stats = out.pop("stats")
                    text, tags = notes.get(row.id, ("", []))
                    out.update({k: stats.get(k) for k in SESSION_STATS})
                    out.update(started_at=row.started_at, ended_at=row.ended_at, last_event_at=row.last_event_at,
                               top_tippers="; ".join(
                                   f"{ANONYMOUS if t.get('anonymous') else t.get('username')} {t.get('tokens')}"
                                   for t in stats.get("top_tippers") or []),
                               tags="; ".join(tags), notes=text)
                    yield out
                if len(page) < queries.MAX_LIMIT:
                    return
                offset += len(page)

    return export_response(_primed(_capped(rows(), limit)), SESSION_COLUMNS, fmt, "sessions")


PEOPLE_COLUMNS = ("username", "display_name", "role", "first_seen", "last_seen", "lifetime_tokens", "tokens_7d",
                  "tokens_30d", "tips", "visits", "chat_messages", "private_messages", "relationship_status",
                  "badges", "latest_note")


def export_people(database: Any, fmt: ExportFormat, *, feed_id: int | None, q: str, filter: str,  # noqa: A002
                  sort: str, status: str, role: str, now: datetime, limit: int | None = None) -> StreamingResponse:
    """The people list in its sort order for these filters."""
    from greenroom.people import queries
    from greenroom.people.cards import cards

    def rows() -> Iterator[dict[str, Any]]:
        if feed_id is None:
            return
        with database.read() as db:
            offset = 0
            while True:
                page = queries.search_people(db, feed_id, q=q, filter=filter, sort=sort, relationship_status=status,
                                             relationship_role=role, limit=queries.MAX_LIMIT, offset=offset, now=now)
                found = cards(db, feed_id, [p.username for p in page.people], now, people=page.people)
                for person in page.people:
                    card = found[person.username]
                    yield {**{k: card[k] for k in ("username", "display_name", "role", "relationship_status",
                                                    "latest_note")},
                           **(card["stats"] or {}), "first_seen": person.first_seen, "last_seen": person.last_seen,
                           "badges": "; ".join(b["label"] for b in card["badges"])}
                if len(page.people) < queries.MAX_LIMIT:
                    return
                offset += len(page.people)

    return export_response(_primed(_capped(rows(), limit)), PEOPLE_COLUMNS, fmt, "people")


EVENT_COLUMNS = ("id", "method", "username", "broadcaster", "event_time", "received_at", "tokens", "is_anon", "text",
                 "payload")


def _event_fields(payload: Any, received_at: datetime) -> tuple[int | None, bool, str]:
    """(tokens, anonymous tip?, text) of a stored payload; a malformed one gives (None, False, "")."""
    from greenroom.events.parse import MalformedEvent, parse_event

    try:
        parsed = parse_event(payload, received_at)
    except (MalformedEvent, ValueError, TypeError, KeyError, AttributeError):
        return None, False, ""
    if parsed.tip is not None:
        return parsed.tip.tokens, parsed.tip.is_anon, parsed.tip.message
    if parsed.media is not None:
        return parsed.media.tokens, False, parsed.media.name
    if parsed.message is not None:
        return None, False, parsed.message.text
    if parsed.subject is not None:
        return None, False, parsed.subject
    return None, False, ""


def export_events(database: Any, fmt: ExportFormat, *, method: str | None, username: str | None,
                  after_id: str | None, include_anonymous: bool, session_id: int | None = None,
                  limit: int | None = None, basename: str = "events", feed_id: int | None = None) -> StreamingResponse:
    """Stored events in store order for these filters.

    Anonymous tips are masked unless ``include_anonymous`` (the owner's private export): the
    username becomes "anonymous" and the tip note and raw payload are left out, because both
    carry the tipper's name or may identify them. With a ``username`` filter a masked export
    leaves anonymous tips out altogether, since the filter itself would name the tipper.
    """
    from sqlalchemy import func, select

    from greenroom.events.models import Event

    def rows() -> Iterator[dict[str, Any]]:
        with database.read() as db:
            query = select(Event)
            if feed_id is not None:
                query = query.where(Event.feed_id == feed_id)
            if after_id:
                after_pk = db.scalar(query.with_only_columns(func.min(Event.id)).where(Event.event_id == after_id))
                if after_pk is None:
                    raise BadRequest(f"after_id {after_id!r} is not a stored event id")
                query = query.where(Event.id > after_pk)
            if method:
                query = query.where(Event.method == method)
            if username:
                query = query.where(Event.username == username.strip().lower())
            if session_id is not None:
                from greenroom.sessions.models import SessionEvent

                query = query.where(Event.id.in_(select(SessionEvent.event_pk)
                                                 .where(SessionEvent.session_id == session_id)))
            last = 0
            while True:
                batch = list(db.execute(query.where(Event.id > last).order_by(Event.id).limit(BATCH)).scalars())
                for e in batch:
                    tokens, anon, text = _event_fields(e.payload, e.received_at)
                    row = {"id": e.event_id, "method": e.method, "username": e.username, "broadcaster": e.broadcaster,
                           "event_time": e.event_time, "received_at": e.received_at, "tokens": tokens,
                           "is_anon": anon if e.method == "tip" else None, "text": text, "payload": e.payload}
                    if anon and not include_anonymous:
                        if username:
                            continue
                        row.update(username=ANONYMOUS, text="", payload=None)
                    yield row
                if len(batch) < BATCH:
                    return
                last = batch[-1].id

    name = f"{basename}-private" if include_anonymous else basename
    response = export_response(_primed(_capped(rows(), limit)), EVENT_COLUMNS, fmt, name)
    if include_anonymous:
        response.headers["X-Export-Private"] = "anonymous tippers named"
    return response


THREAD_COLUMNS = ("username", "messages", "received", "sent", "last_at", "last_direction", "last_text",
                  "has_direct", "has_room", "unread")
MESSAGE_COLUMNS = ("event_pk", "sent_at", "username", "direction", "direct", "text")


def export_threads(database: Any, fmt: ExportFormat, *, feed_id: int | None, filter: str,  # noqa: A002
                   limit: int | None = None) -> StreamingResponse:
    """The inbox's threads, newest first, for this filter."""
    from greenroom.inbox import queries

    def rows() -> Iterator[dict[str, Any]]:
        if feed_id is None:
            return
        with database.read() as db:
            offset = 0
            while True:
                page, _total = queries.list_threads(db, feed_id, filter=filter, limit=200, offset=offset)
                yield from page
                if len(page) < 200:
                    return
                offset += len(page)

    return export_response(_primed(_capped(rows(), limit)), THREAD_COLUMNS, fmt, "inbox-threads")


def _messages(database: Any, where: Any, *, newest_first: bool) -> Iterator[dict[str, Any]]:
    from sqlalchemy import select

    from greenroom.inbox.models import PmMessage
    from greenroom.inbox.queries import message_json

    with database.read() as db:
        last: int | None = None
        order = PmMessage.event_pk.desc() if newest_first else PmMessage.event_pk
        while True:
            query = select(PmMessage).where(*where)
            if last is not None:
                query = query.where(PmMessage.event_pk < last if newest_first else PmMessage.event_pk > last)
            batch = list(db.execute(query.order_by(order).limit(BATCH)).scalars())
            for m in batch:
                yield message_json(m) | {"sent_at": m.sent_at}
            if len(batch) < BATCH:
                return
            last = batch[-1].event_pk


def export_thread(database: Any, fmt: ExportFormat, *, feed_id: int | None, username: str,
                  limit: int | None = None) -> StreamingResponse:
    """Every message of one thread, oldest first (a thread that does not exist is a 404)."""
    from sqlalchemy import select

    from greenroom.errors import NotFound
    from greenroom.inbox.models import PmMessage
    from greenroom.people.queries import normalise

    name = normalise(username)
    if feed_id is None:
        raise NotFound("no feed yet: nobody has been seen")
    with database.read() as db:
        if db.scalar(select(PmMessage.event_pk).where(PmMessage.feed_id == feed_id,
                                                      PmMessage.counterpart == name).limit(1)) is None:
            raise NotFound(f"no messages with {username.strip()!r}")
    rows = _messages(database, [PmMessage.feed_id == feed_id, PmMessage.counterpart == name], newest_first=False)
    return export_response(_primed(_capped(rows, limit)), MESSAGE_COLUMNS, fmt, f"inbox-{name}")


def export_search(database: Any, fmt: ExportFormat, *, feed_id: int | None, q: str,
                  limit: int | None = None) -> StreamingResponse:
    """Every message matching the inbox search (text or counterpart contains ``q``), newest first."""
    from sqlalchemy import func, or_

    from greenroom.inbox.models import PmMessage

    text = q.strip().lower()

    def rows() -> Iterator[dict[str, Any]]:
        if feed_id is None or not text:
            return
        yield from _messages(database, [PmMessage.feed_id == feed_id,
                                        or_(func.lower(PmMessage.body).contains(text, autoescape=True),
                                            PmMessage.counterpart.contains(text, autoescape=True))],
                             newest_first=True)

    return export_response(_primed(_capped(rows(), limit)), MESSAGE_COLUMNS, fmt, "inbox-search")


VISITOR_COLUMNS = ("username", "display_name", "visits", "offline", "last_visit", "lifetime_tokens",
                   "relationship_status", "badges")
VISIT_COLUMNS = ("id", "username", "entered_at", "left_at", "seconds", "live")


def export_visitors(database: Any, fmt: ExportFormat, *, feed_id: int | None, view: str, period: str, sort: str,
                    q: str, offline: bool, now: datetime, limit: int | None = None) -> StreamingResponse:
    """The visitors list (recent in a period, or top all-time), or the visit history."""
    from sqlalchemy import select

    from greenroom.people.cards import cards
    from greenroom.visits import queries
    from greenroom.visits.models import Visit

    if view not in ("recent", "top", "history"):
        raise BadRequest("view is recent, top or history")

    def visits() -> Iterator[dict[str, Any]]:
        if feed_id is None:
            return
        with database.read() as db:
            query = select(Visit).where(Visit.feed_id == feed_id)
            if q:
                query = query.where(Visit.username == q.strip().lower())
            last: tuple[Any, int] | None = None
            while True:
                page = query
                if last is not None:
                    page = page.where((Visit.entered_at < last[0])
                                      | ((Visit.entered_at == last[0]) & (Visit.id < last[1])))
                batch = list(db.execute(page.order_by(Visit.entered_at.desc(), Visit.id.desc())
                                        .limit(BATCH)).scalars())
                for v in batch:
                    yield queries.visit_json(v) | {"entered_at": v.entered_at, "left_at": v.left_at}
                if len(batch) < BATCH:
                    return
                last = (batch[-1].entered_at, batch[-1].id)

    def visitors() -> Iterator[dict[str, Any]]:
        if feed_id is None:
            return
        with database.read() as db:
            offset = 0
            while True:
                if view == "top":
                    page, _total = queries.top_visitors(db, feed_id, limit=200, offset=offset)
                else:
                    page, _total = queries.visitors(db, feed_id, period=period, sort=sort, q=q, offline_only=offline,
                                                    limit=200, offset=offset, now=now)
                found = cards(db, feed_id, [r["username"] for r in page], now)
                for r in page:
                    card = found[r["username"]]
                    yield {"username": r["username"], "display_name": card["display_name"], "visits": r["visits"],
                           "offline": r["offline"], "last_visit": r["last_visit"],
                           "lifetime_tokens": (card["stats"] or {}).get("lifetime_tokens", 0),
                           "relationship_status": card["relationship_status"],
                           "badges": "; ".join(b["label"] for b in card["badges"])}
                if len(page) < 200:
                    return
                offset += len(page)

    if view == "history":
        return export_response(_primed(_capped(visits(), limit)), VISIT_COLUMNS, fmt, "visits")
    return export_response(_primed(_capped(visitors(), limit)), VISITOR_COLUMNS, fmt, f"visitors-{view}")


FORMAT_DESCRIPTION = ("csv or json: download every matching row (paging is ignored) instead of this page; "
                      "JSON is a plain array of row objects.")
# OpenAPI: what a route answers with ``format`` set.
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The page as JSON; with `format`, a download of every matching row.",
          "content": {"text/csv": {"schema": {"type": "string"}},
                      "application/json": {}}},
    400: {"model": ErrorOut, "description": "Unknown format or a bad filter."},
    **ERROR_RESPONSES,
}


def export_query(request: Any) -> dict[str, str]:
    """For a page's "Export CSV / JSON" links: its own URL's query (filters, sort, search) without
    paging, plus ``format``: ``{"csv": "?…&format=csv", "json": "?…&format=json"}``."""
    from urllib.parse import urlencode

    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "format", "size", "export")]
    return {fmt: "?" + urlencode([*kept, ("format", fmt)]) for fmt in FORMATS}
