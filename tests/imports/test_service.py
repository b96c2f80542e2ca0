"""Importing into a real database (SQLite and PostgreSQL): idempotency, rejection, income read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from greenroom.imports import queries, service
from greenroom.imports.models import ImportStatus, TokenImport, TokenTransaction
from greenroom.imports.parse import parse_csv
from tests.sessions.roomkit import T0, make_feed

SAMPLE = Path(__file__).parent / "data" / "token_history.csv"
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
HEADER = "User,Token change,Timestamp,Note,Transaction type\n"


def run_import(database, feed_id, data: bytes, *, dry_run=False):
    with database.write() as db:
        return service.import_now(db, feed_id=feed_id, filename="history.csv", data=data, timezone="Europe/Berlin",
                                  now=NOW, dry_run=dry_run)


def stored(database, feed_id):
    with database.read() as db:
        return db.scalar(select(func.count()).select_from(TokenTransaction).where(TokenTransaction.feed_id == feed_id))


def test_importing_the_same_file_twice_changes_nothing(database):
    feed_id = make_feed(database)
    first = run_import(database, feed_id, SAMPLE.read_bytes())
    assert (first.status, first.rows_read, first.rows_new, first.rows_present) == (ImportStatus.DONE, 7, 7, 0)
    second = run_import(database, feed_id, SAMPLE.read_bytes())
    assert (second.status, second.rows_new, second.rows_present) == (ImportStatus.DONE, 0, 7)
    assert stored(database, feed_id) == 7  # the two identical private-show rows are both there, once each


def test_an_overlapping_later_download_adds_only_the_new_transactions(database):
    feed_id = make_feed(database)
    early = HEADER + "a,10,2026-11-01 20:00,,Private show\nb,20,2026-11-02 20:00,,Spy show\n"
    later = early + "c,30,2026-11-03 20:00,,Fan club\na,10,2026-11-04 20:00,,Private show\n"
    run_import(database, feed_id, early.encode())
    result = run_import(database, feed_id, later.encode())
    assert (result.rows_read, result.rows_new, result.rows_present) == (4, 2, 2)
    assert stored(database, feed_id) == 4


def test_the_same_rows_in_another_room_are_that_rooms_own(database):
    alice, bob = make_feed(database, "alice"), make_feed(database, "bob")
    run_import(database, alice, SAMPLE.read_bytes())
    assert run_import(database, bob, SAMPLE.read_bytes()).rows_new == 7
    assert stored(database, alice) == stored(database, bob) == 7


def test_the_database_itself_refuses_a_duplicate_row(database):
    feed_id = make_feed(database)
    run_import(database, feed_id, SAMPLE.read_bytes())
    with database.read() as db:
        row = db.scalars(select(TokenTransaction).limit(1)).one()
        values = {c.name: getattr(row, c.name) for c in TokenTransaction.__table__.columns if c.name != "id"}
    with pytest.raises(IntegrityError), database.write() as db:
        db.add(TokenTransaction(**values))


def test_a_malformed_file_is_rejected_whole_and_nothing_is_imported(database):
    feed_id = make_feed(database)
    bad = HEADER + "a,10,2026-11-01 20:00,,Private show\nb,ten,2026-11-02 20:00,,Spy show\n"
    result = run_import(database, feed_id, bad.encode())
    assert result.status == ImportStatus.REJECTED
    assert result.errors == [{"line": 3, "reason": "bad number 'ten' in the token column (a whole number is expected)"}]
    assert stored(database, feed_id) == 0
    with database.read() as db:  # the rejection itself is recorded, without any rows
        record = db.get(TokenImport, result.id)
        assert record.status == ImportStatus.REJECTED and record.staged is None


def test_a_dry_run_counts_but_stores_nothing(database):
    feed_id = make_feed(database)
    result = run_import(database, feed_id, SAMPLE.read_bytes(), dry_run=True)
    assert (result.rows_read, result.rows_new) == (7, 7)
    assert stored(database, feed_id) == 0
    with database.read() as db:
        assert db.scalar(select(func.count()).select_from(TokenImport)) == 0


def test_a_staged_preview_is_applied_by_its_job_once(database):
    feed_id = make_feed(database)
    with database.write() as db:
        record = service.stage(db, feed_id=feed_id, filename="h.csv", data=SAMPLE.read_bytes(),
                               timezone="UTC", now=NOW)
        import_id = record.id
    assert record.status == ImportStatus.PREVIEW and stored(database, feed_id) == 0
    steps = []
    with database.write() as db:
        done = service.apply(db, import_id, NOW, lambda phase, d, t: steps.append((phase, d, t)))
        assert done.status == ImportStatus.DONE and done.staged is None
    assert steps[0] == ("importing", 0, 7) and steps[-1] == ("importing", 7, 7)
    with database.write() as db:
        again = service.apply(db, import_id, NOW)
        assert again.rows_new == 7  # the first run's counts stay; nothing is inserted twice
    assert stored(database, feed_id) == 7


def test_income_on_a_person_counts_only_what_the_events_api_cannot_see(database):
    feed_id = make_feed(database)
    text = (HEADER + "Rich_Fan,600,2026-11-01 20:00:00Z,,Private show\nrich_fan,90,2026-11-01 20:40:00Z,,Spy show\n"
            "RICH_FAN,250,2026-11-02 10:00:00Z,,Fan club\nrich_fan,25,2026-11-01 20:10:00Z,,Tip\n"
            "rich_fan,100,2026-11-01 20:20:00Z,,Media purchase\nrich_fan,-600,2026-11-05 10:00:00Z,,Chargeback\n"
            "other,77,2026-11-01 20:00:00Z,,Private show\n")
    run_import(database, feed_id, text.encode())
    with database.read() as db:
        income = queries.person_income(db, feed_id, "RiCh_FaN")
        assert queries.person_income(db, feed_id, "nobody") is None
    by = {c["category"]: c["tokens"] for c in income["categories"]}
    assert by == {"private": 600, "spy": 90, "fanclub": 250, "chargeback": -600}  # no tip, no media
    assert income["total_tokens"] == 340 and income["count"] == 4 and income["source"] == "from token history"


def test_income_in_a_span_counts_transactions_inside_it(database):
    feed_id = make_feed(database)
    start = T0
    text = (HEADER + f"a,600,{(start + timedelta(minutes=5)).isoformat()},,Private show\n"
            f"b,90,{(start + timedelta(minutes=50)).isoformat()},,Spy show\n"
            f"c,25,{(start + timedelta(minutes=10)).isoformat()},,Tip\n"
            f"d,40,{(start - timedelta(minutes=1)).isoformat()},,Private show\n")
    run_import(database, feed_id, text.encode())
    with database.read() as db:
        income = queries.span_income(db, feed_id, start, start + timedelta(hours=1))
        assert queries.span_income(db, feed_id, start + timedelta(hours=2), start + timedelta(hours=3)) is None
    assert income["total_tokens"] == 690 and [c["category"] for c in income["categories"]] == ["private", "spy"]


def test_parsed_rows_survive_staging_unchanged():
    rows = parse_csv(SAMPLE.read_bytes(), "Europe/Berlin", now=NOW).rows
    from greenroom.imports.parse import ParsedRow

    assert [ParsedRow.from_staged(r.as_staged()) for r in rows] == rows
