"""Leaderboards: who ranks first by tokens, tips, visits, watch time or chat in one period.

Every board is one aggregate query over indexed rows of one feed (definitions in
docs/leaderboards.md):

- tokens, tips, visits, chat: the ``events`` of the period (a session's linked events through
  ``ix_session_events_session``; a week or month through ``ix_events_feed_time``; all time
  through ``ix_events_feed_method``). Tip and media tokens and the anonymous flag are read from
  the stored payload by the database's own JSON functions, following the parser's rules.
- watch time: the ``visits`` rows (enter → leave, closed by the end of the broadcast) that
  overlap the period, clipped to it.

Each contribution carries its time; a row's **reach time** is the latest one (every contribution
is positive, so that is when the final total was reached). Order: total descending, reach time
ascending (earlier reach wins), then name. Excluded users are removed inside the query. In a
shareable board anonymous tips are grouped under one masked row with no name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from greenroom.db.util import insert_ignore
from greenroom.events.models import Event, Feed
from greenroom.leaderboards.models import LeaderboardMark, LeaderboardTotal
from greenroom.people.models import StatExclusion
from greenroom.sessions.models import BroadcastSession, SessionEvent
from greenroom.visits.models import Visit

METRICS = ("tokens", "tips", "visits", "watch_time", "chat")
METRIC_LABELS = {"tokens": "Tokens", "tips": "Tips", "visits": "Visits", "watch_time": "Watch time",
                 "chat": "Chat"}
ANONYMOUS_KEY = ""  # no username is empty, so this key can only be the masked row
MAX_LIMIT = 500
# How far before a period a visit may have begun and still count into it: a visit ends with the
# broadcast at the latest, and no broadcast runs for a week. This keeps the read to the period.
LONGEST_VISIT = timedelta(days=7)


@dataclass(frozen=True)
class Window:
    """What a board covers: ``[start, end)`` in UTC (None = unbounded) or one session."""

    start: datetime | None = None
    end: datetime | None = None
    session_id: int | None = None


@dataclass
class Row:
    rank: int
    username: str | None  # None for the masked anonymous row
    value: int
    reached_at: datetime
    share: float  # of the board's grand total, 0..1
    anon_value: int = 0  # private boards: the part of ``value`` that was anonymous
    anonymous: bool = False  # the masked row of a shareable board


@dataclass
class Board:
    metric: str
    shareable: bool
    rows: list[Row] = field(default_factory=list)
    total_rows: int = 0
    grand_total: int = 0


def _excluded() -> Any:
    return select(StatExclusion.username)


def _owner(db: Session, feed_id: int) -> str:
    """The room's broadcaster: never a person of their own room (docs/people.md)."""
    return (db.execute(select(Feed.broadcaster).where(Feed.id == feed_id)).scalar_one_or_none() or "").lower()


def _is_postgres(db: Session) -> bool:
    return db.get_bind().dialect.name == "postgresql"


# ---- values read from the stored payload -------------------------------------------------------

# PostgreSQL: the payload is read as jsonb once per row (in a subquery the planner keeps, so the
# expressions below do not parse it again). jsonb refuses a NUL escape and lone surrogates anywhere
# in the document (both can arrive in hostile payloads, kept verbatim); they are swapped for another
# control character first, which changes no value read here. Like the parser (Python's json), jsonb
# keeps the last of duplicate keys.
_PG_JSONB = r"CAST(regexp_replace(events.payload, '\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})', '\\u0001', 'g') AS jsonb)"


def _pg_tokens(j: str, method: str) -> str:
    raw = f"(CASE WHEN {method} = 'tip' THEN {j} -> 'tip' ->> 'tokens' ELSE {j} -> 'media' ->> 'tokens' END)"
    return (f"(CASE WHEN length({raw}) <= 18 AND {raw} ~ '^\\s*[0-9]+(\\.0*)?\\s*$' "
            f"THEN CAST(CAST({raw} AS numeric) AS bigint) ELSE 0 END)")


def _pg_anon(j: str, method: str) -> str:
    v = f"({j} -> 'tip' -> 'isAnon')"
    return (
        f"(CASE WHEN {method} <> 'tip' THEN 0 ELSE CASE jsonb_typeof({v}) "
        f"WHEN 'boolean' THEN CASE WHEN {v} = 'true'::jsonb THEN 1 ELSE 0 END "
        f"WHEN 'number' THEN CASE WHEN {v} = '0'::jsonb THEN 0 ELSE 1 END "
        f"WHEN 'string' THEN CASE WHEN lower({v} #>> '{{}}') ~ '^\\s*(true|1|yes)\\s*$' THEN 1 ELSE 0 END "
        f"WHEN 'array' THEN CASE WHEN jsonb_array_length({v}) > 0 THEN 1 ELSE 0 END "
        f"WHEN 'object' THEN CASE WHEN {v} = '{{}}'::jsonb THEN 0 ELSE 1 END "
        f"ELSE 0 END END)")


_SQLITE_TOKENS = ("CAST(json_extract(events.payload, CASE WHEN events.method = 'tip' THEN '$.object.tip.tokens' "
                  "ELSE '$.object.media.tokens' END) AS INTEGER)")
_P = "events.payload, '$.object.tip.isAnon'"
_SQLITE_ANON = (
    f"(CASE WHEN events.method <> 'tip' THEN 0 ELSE CASE json_type({_P}) "
    f"WHEN 'true' THEN 1 "
    f"WHEN 'integer' THEN CASE WHEN json_extract({_P}) <> 0 THEN 1 ELSE 0 END "
    f"WHEN 'real' THEN CASE WHEN json_extract({_P}) <> 0 THEN 1 ELSE 0 END "
    f"WHEN 'text' THEN CASE WHEN lower(trim(json_extract({_P}), ' ' || char(9, 10, 11, 12, 13))) "
    f"IN ('true', '1', 'yes') THEN 1 ELSE 0 END "
    f"WHEN 'array' THEN CASE WHEN json_array_length({_P}) > 0 THEN 1 ELSE 0 END "
    f"WHEN 'object' THEN CASE WHEN json_extract({_P}) <> '{{}}' THEN 1 ELSE 0 END "
    f"ELSE 0 END END)")


# ---- contributions: (username, amount, at, anon) per counted event or visit ---------------------

_EVENT_METRICS = {"tokens": ("tip", "mediaPurchase"), "tips": ("tip",), "visits": ("userEnter",),
                  "chat": ("chatMessage",)}


def _event_contributions(db: Session, feed_id: int, metric: str, window: Window, *, after_pk: int | None = None,
                         upto_pk: int | None = None, filtered: bool = True) -> Select[Any]:
    """Tokens: tip tokens (1 or more, as the parser requires) and media tokens; the anonymous flag
    of tips as the parser reads ``isAnon``: true, a non-zero number, a non-empty list or object,
    or the text true/1/yes (any case, spaces around). ``after_pk``/``upto_pk`` bound the store
    position; ``filtered=False`` keeps excluded people and the broadcaster (the running totals
    keep everyone, and a board filters when it is read)."""
    methods = _EVENT_METRICS[metric]
    reads_payload = metric in ("tokens", "tips")
    pg = _is_postgres(db)
    # ``username || ''``: grouping by the bare column lets SQLite walk ix_events_feed_username for its
    # order, which reads every event of the room; the period's own index is far cheaper.
    columns: list[Any] = [Event.username.concat("").label("username"), Event.event_time.label("at")]
    if reads_payload and pg:
        columns += [Event.method.label("method"), literal_column(_PG_JSONB + " -> 'object'").label("j")]
    elif reads_payload:
        amount = literal_column(_SQLITE_TOKENS, BigInteger) if metric == "tokens" else literal(1, Integer)
        columns += [amount.label("amount"), literal_column(_SQLITE_ANON, Integer).label("anon")]
    else:
        columns += [literal(1, Integer).label("amount"), literal(0, Integer).label("anon")]
    query = select(*columns)
    if window.session_id is not None:
        query = query.join(SessionEvent, SessionEvent.event_pk == Event.id).where(
            SessionEvent.session_id == window.session_id)
    query = query.where(
        Event.feed_id == feed_id,
        Event.method.in_(methods) if len(methods) > 1 else Event.method == methods[0],
        Event.quarantine_reason.is_(None),
        Event.username.is_not(None),
    )
    if filtered:
        query = query.where(Event.username.not_in(_excluded()), Event.username != _owner(db, feed_id))
    if after_pk is not None:
        query = query.where(Event.id > after_pk)
    if upto_pk is not None:
        query = query.where(Event.id <= upto_pk)
    if window.start is not None:
        query = query.where(Event.event_time >= window.start)
    if window.end is not None:
        query = query.where(Event.event_time < window.end)
    if not (reads_payload and pg):
        return query
    inner = query.offset(0).subquery("e")  # OFFSET 0: evaluated once, not inlined into each use of j
    amount_sql = _pg_tokens("e.j", "e.method") if metric == "tokens" else "1"
    return select(inner.c.username, literal_column(amount_sql, BigInteger).label("amount"), inner.c.at,
                  literal_column(_pg_anon("e.j", "e.method"), Integer).label("anon"))


def _seconds_between(db: Session, later: ColumnElement[Any], earlier: ColumnElement[Any]) -> ColumnElement[Any]:
    if _is_postgres(db):
        return cast(func.round(func.date_part("epoch", later - earlier)), BigInteger)
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400), BigInteger)


def _watch_contributions(db: Session, feed_id: int, window: Window, now: datetime) -> Select[Any]:
    """Visits that began while the room was live (the broadcast closes them when it stops),
    clipped to the window; a visit still open counts up to the room's newest event."""
    newest = db.execute(select(Feed.last_event_at).where(Feed.id == feed_id)).scalar_one_or_none()
    cap = min(newest, now) if newest is not None else now
    end_of = func.coalesce(Visit.left_at, cap)
    start: ColumnElement[Any] = Visit.entered_at
    stop: ColumnElement[Any] = end_of
    if window.start is not None:
        start = case((Visit.entered_at < window.start, literal(window.start, Visit.entered_at.type)),
                     else_=Visit.entered_at)
    if window.end is not None:
        stop = case((end_of > window.end, literal(window.end, Visit.entered_at.type)), else_=end_of)
    query = select(Visit.username.concat("").label("username"), _seconds_between(db, stop, start).label("amount"),
                   stop.label("at"), literal(0, Integer).label("anon")).where(
        Visit.feed_id == feed_id, Visit.live == true(), Visit.username.not_in(_excluded()),
        Visit.username != _owner(db, feed_id))
    if window.end is not None:
        query = query.where(Visit.entered_at < window.end)
    if window.start is not None:
        query = query.where(Visit.entered_at >= window.start - LONGEST_VISIT,
                            or_(Visit.left_at.is_(None), Visit.left_at > window.start))
    return query


def _watch_window(db: Session, window: Window, now: datetime) -> Window:
    """A session's watch time is the time present between its start and its end (or its latest
    event while it is still going)."""
    if window.session_id is None:
        return window
    row = db.get(BroadcastSession, window.session_id)
    if row is None:
        return Window(start=now, end=now)
    return Window(start=row.started_at, end=row.ended_at or max(row.last_event_at, row.started_at))


def _mark(db: Session, feed_id: int) -> int:
    return int(db.scalar(select(LeaderboardMark.event_pk).where(LeaderboardMark.feed_id == feed_id)) or 0)


def _all_time_contributions(db: Session, feed_id: int, metric: str) -> Any:
    """The running totals up to the room's mark, plus every counted event stored after it: the
    same board as reading the whole history, from a few rows per person (see models.py)."""
    stored = select(
        LeaderboardTotal.username.concat("").label("username"), LeaderboardTotal.total.label("amount"),
        LeaderboardTotal.reached_at.label("at"), LeaderboardTotal.anon.label("anon"),
    ).where(
        LeaderboardTotal.feed_id == feed_id, LeaderboardTotal.metric == metric,
        LeaderboardTotal.username.not_in(_excluded()), LeaderboardTotal.username != _owner(db, feed_id),
    )
    delta = _event_contributions(db, feed_id, metric, Window(), after_pk=_mark(db, feed_id)).subquery("d")
    # UNION matches columns by position: the delta's are put in the stored rows' order.
    return union_all(stored, select(delta.c.username, delta.c.amount, delta.c.at, delta.c.anon))


def contributions(db: Session, feed_id: int, metric: str, window: Window, now: datetime) -> Any:
    if metric == "watch_time":
        return _watch_contributions(db, feed_id, _watch_window(db, window, now), now)
    if window.start is None and window.end is None and window.session_id is None:
        return _all_time_contributions(db, feed_id, metric)
    return _event_contributions(db, feed_id, metric, window)


TOTAL_METRICS = tuple(_EVENT_METRICS)


def catch_up(db: Session, feed_id: int, now: datetime, *, max_events: int = 200_000) -> int:
    """Fold up to ``max_events`` of the room's events stored after its mark into the running totals
    and move the mark past them; returns how many events were read (0: caught up). Never commits:
    totals and mark move in the caller's transaction, together."""
    mark = _mark(db, feed_id)
    window = select(Event.id).where(Event.feed_id == feed_id, Event.id > mark).order_by(Event.id).limit(max_events)
    span = window.subquery()
    upper, count = db.execute(select(func.max(span.c.id), func.count())).one()
    if upper is None:
        return 0
    table = LeaderboardTotal.__table__
    module: Any = postgresql if _is_postgres(db) else sqlite
    reached_type = LeaderboardTotal.reached_at.type
    for metric in TOTAL_METRICS:
        sub = _event_contributions(db, feed_id, metric, Window(), after_pk=mark, upto_pk=upper,
                                   filtered=False).subquery()
        grouped = db.execute(select(sub.c.username, sub.c.anon, func.sum(sub.c.amount), func.max(sub.c.at))
                             .group_by(sub.c.username, sub.c.anon)).all()
        rows = []
        for username, anon, total, at in grouped:
            if isinstance(at, str):  # SQLite: an aggregate over times may come back as text
                at = reached_type.process_result_value(datetime.fromisoformat(at), None)
            rows.append({"feed_id": feed_id, "metric": metric, "username": username, "anon": int(anon or 0),
                         "total": int(total or 0), "reached_at": at})
        if not rows:
            continue
        stmt = module.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["feed_id", "metric", "username", "anon"],
            set_={"total": table.c.total + stmt.excluded.total,
                  "reached_at": case((stmt.excluded.reached_at > table.c.reached_at, stmt.excluded.reached_at),
                                     else_=table.c.reached_at)},
        )
        for start in range(0, len(rows), 1000):
            db.execute(stmt, rows[start:start + 1000])
    insert_ignore(db, LeaderboardMark.__table__, [{"feed_id": feed_id, "event_pk": 0, "updated_at": now}],
                  ["feed_id"])
    db.execute(LeaderboardMark.__table__.update().where(LeaderboardMark.feed_id == feed_id)
               .values(event_pk=upper, updated_at=now))
    return int(count)


# ---- the board --------------------------------------------------------------------------------

def board(db: Session, feed_id: int, metric: str, window: Window, *, now: datetime, shareable: bool,
          limit: int = 25, offset: int = 0) -> Board:
    """One page of the board (``offset`` rows skipped), with the number of rows and the grand
    total of the whole board."""
    if metric not in METRICS:
        raise ValueError(metric)
    sub = contributions(db, feed_id, metric, window, now).subquery()
    key: ColumnElement[Any] = (case((sub.c.anon == 1, literal(ANONYMOUS_KEY)), else_=sub.c.username)
                               if shareable else sub.c.username)
    grouped = (
        select(key.label("k"), func.sum(sub.c.amount).label("total"), func.max(sub.c.at).label("reached"),
               func.sum(case((sub.c.anon == 1, sub.c.amount), else_=0)).label("anon_total"))
        .group_by(key)
        .subquery()
    )
    positive = grouped.c.total > 0
    rows = db.execute(
        select(grouped.c.k, grouped.c.total, grouped.c.reached, grouped.c.anon_total,
               func.count().over().label("n"), func.sum(grouped.c.total).over().label("grand"))
        .where(positive)
        .order_by(grouped.c.total.desc(), grouped.c.reached.asc(), grouped.c.k.asc())
        .limit(limit).offset(offset)
    ).all()
    result = Board(metric=metric, shareable=shareable)
    if rows:
        result.total_rows, result.grand_total = int(rows[0].n), int(rows[0].grand or 0)
    elif offset:
        n, grand = db.execute(select(func.count(), func.sum(grouped.c.total)).where(positive)).one()
        result.total_rows, result.grand_total = int(n or 0), int(grand or 0)
    reached_type = Visit.entered_at.type
    for i, r in enumerate(rows):
        total = int(r.total)
        masked = shareable and r.k == ANONYMOUS_KEY
        reached = r.reached
        if isinstance(reached, str):  # SQLite: a CASE over times comes back as text
            reached = reached_type.process_result_value(datetime.fromisoformat(reached), None)
        result.rows.append(Row(
            rank=offset + i + 1, username=None if masked else r.k, value=total, reached_at=reached,
            share=total / result.grand_total if result.grand_total else 0.0,
            anon_value=0 if shareable else int(r.anon_total or 0), anonymous=masked,
        ))
    return result


def sessions_for_picker(db: Session, feed_id: int, limit: int = 100) -> list[BroadcastSession]:
    """The room's sessions, newest first (the picker offers these)."""
    return list(db.execute(
        select(BroadcastSession).where(BroadcastSession.feed_id == feed_id)
        .order_by(BroadcastSession.started_at.desc(), BroadcastSession.id.desc()).limit(limit)
    ).scalars())


def latest_session(db: Session, feed_id: int) -> BroadcastSession | None:
    found = sessions_for_picker(db, feed_id, 1)
    return found[0] if found else None


def neighbours(db: Session, row: BroadcastSession) -> tuple[int | None, int | None]:
    """The sessions started just before and just after ``row`` (for earlier/later links)."""
    before = db.execute(select(BroadcastSession.id).where(
        BroadcastSession.feed_id == row.feed_id,
        or_(BroadcastSession.started_at < row.started_at,
            and_(BroadcastSession.started_at == row.started_at, BroadcastSession.id < row.id)))
        .order_by(BroadcastSession.started_at.desc(), BroadcastSession.id.desc()).limit(1)).scalar()
    after = db.execute(select(BroadcastSession.id).where(
        BroadcastSession.feed_id == row.feed_id,
        or_(BroadcastSession.started_at > row.started_at,
            and_(BroadcastSession.started_at == row.started_at, BroadcastSession.id > row.id)))
        .order_by(BroadcastSession.started_at.asc(), BroadcastSession.id.asc()).limit(1)).scalar()
    return before, after
