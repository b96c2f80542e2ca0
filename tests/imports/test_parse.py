"""Reading token-history CSV variants, and every way a file is malformed (with its line number)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from greenroom.imports.parse import MAX_BYTES, ImportRejected, classify, parse_csv, parse_time, summarize

SAMPLE = Path(__file__).parent / "data" / "token_history.csv"
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
HEADER = "User,Token change,Timestamp,Note,Transaction type\n"


def parse(text: str | bytes, tz: str = "Europe/Berlin"):
    return parse_csv(text.encode() if isinstance(text, str) else text, tz, now=NOW)


def test_the_sample_file_reads_with_categories_occurrences_and_the_owners_zone():
    result = parse(SAMPLE.read_bytes())
    assert result.ok and result.delimiter == ","
    assert [r.category for r in result.rows] == ["tip", "private", "spy", "private", "fanclub", "media", "payout"]
    first = result.rows[0]
    # 21:04 in Berlin (UTC+1 in November) is 20:04 UTC; the display form is kept, the key is lower case.
    assert first.occurred_at == datetime(2026, 11, 20, 20, 4, 11, tzinfo=UTC)
    lurker = result.rows[2]
    assert (lurker.username, lurker.display_name) == ("lurker_42", "Lurker_42")
    # Two identical private-show rows are two transactions: same fingerprint, occurrences 1 and 2.
    assert result.rows[1].fingerprint == result.rows[3].fingerprint
    assert (result.rows[1].occurrence, result.rows[3].occurrence) == (1, 2)
    assert result.rows[5].note == 'Photo set "Sunset, part 2"'  # a quoted comma and doubled quotes
    assert result.rows[6].occurred_at == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # an explicit Z wins
    summary = summarize(result.rows)
    by = {c["category"]: c for c in summary["categories"]}
    assert by["private"]["tokens"] == 1200 and by["private"]["counted"]
    assert not by["tip"]["counted"] and not by["media"]["counted"] and not by["payout"]["counted"]
    assert summary["income_tokens"] == 1200 + 90 + 250


def test_bom_semicolons_crlf_and_aliases_in_any_case():
    text = "\ufeffUSERNAME;Amount;Date;Description;Action\r\nFan;1.000;2026-11-01T20:00:00+00:00;x;Private\r\n"
    # "1.000" could be one thousand or one: it is refused rather than guessed.
    assert "bad number" in parse(text).errors[0]["reason"]
    good = "\ufeffUSERNAME;Amount;Date;Description;Action\r\nFan;1,000;2026-11-01T20:00:00+00:00;a;b;Private\r\n"
    assert parse(good).errors[0]["reason"].startswith("wrong column count")
    ok = parse("\ufeffUSERNAME;Amount;Date;Description;Action\r\nFan;+1,000;2026-11-01T20:00:00+00:00;a;Private\r\n")
    assert ok.ok and ok.delimiter == ";"
    row = ok.rows[0]
    assert (row.username, row.tokens, row.category, row.note) == ("fan", 1000, "private", "a")
    assert ok.columns == {"user": "USERNAME", "tokens": "Amount", "time": "Date", "note": "Description",
                          "type": "Action"}


def test_a_file_without_a_type_column_is_classified_from_the_note():
    result = parse("From,Tokens,Time,Note\nA,50,2026-11-01 20:00,Spy show\nB,60,2026-11-01 20:05,Private show\n"
                   "C,7,2026-11-01 20:06,Tip\nD,8,2026-11-01 20:07,Something new\n")
    assert [r.category for r in result.rows] == ["spy", "private", "tip", "other"]


@pytest.mark.parametrize(("type_text", "category"), [
    ("Tip", "tip"), ("Private show", "private"), ("Spy on private show", "spy"), ("Fan Club", "fanclub"),
    ("Fan club membership", "fanclub"), ("Media purchase", "media"), ("Photo set", "media"),
    ("Chargeback", "chargeback"), ("Payout", "payout"), ("Group show", "private"), ("Bonus", "other"),
])
def test_transaction_types_map_to_categories(type_text, category):
    assert classify(type_text, "") == category


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-01 21:00:00", datetime(2026, 11, 1, 20, 0, tzinfo=UTC)),  # no zone: the owner's (Berlin)
    ("2026-11-01T21:00", datetime(2026, 11, 1, 20, 0, tzinfo=UTC)),
    ("2026-11-01T21:00:00Z", datetime(2026, 11, 1, 21, 0, tzinfo=UTC)),
    ("2026-11-01T21:00:00-05:00", datetime(2026, 11, 2, 2, 0, tzinfo=UTC)),
    ("2026-07-01 21:00:00.250", datetime(2026, 7, 1, 19, 0, 0, 250000, tzinfo=UTC)),  # summer time
    ("11/01/2026 09:00:00 PM", datetime(2026, 11, 1, 20, 0, tzinfo=UTC)),
    ("01.11.2026 21:00", datetime(2026, 11, 1, 20, 0, tzinfo=UTC)),
    ("Nov. 1, 2026, 9 p.m.", datetime(2026, 11, 1, 20, 0, tzinfo=UTC)),
    ("Sept. 3, 2026, 9:30 a.m.", datetime(2026, 9, 3, 7, 30, tzinfo=UTC)),
    ("1793563200", datetime(2026, 11, 1, 20, 0, tzinfo=UTC)),
])
def test_time_formats(text, expected):
    from zoneinfo import ZoneInfo

    assert parse_time(text, ZoneInfo("Europe/Berlin")) == expected


@pytest.mark.parametrize(("text", "line", "reason"), [
    (HEADER + "a,12x,2026-11-01 20:00,,Tip\n", 2, "bad number"),
    (HEADER + "a,1.5,2026-11-01 20:00,,Tip\n", 2, "bad number"),
    (HEADER + "a,12,2026-13-01 20:00,,Tip\n", 2, "bad date"),
    (HEADER + "a,12,yesterday,,Tip\n", 2, "bad date"),
    (HEADER + "a,12,2031-01-01 20:00,,Tip\n", 2, "bad date"),  # in the future
    (HEADER + "a,1,2026-11-01 20:00,,Tip\nb,2,2026-11-01 20:00,Tip\n", 3, "wrong column count"),
    (HEADER + 'a,1,2026-11-01 20:00,"note\nwith a line break",Tip\nb,x,2026-11-01 20:00,,Tip\n', 4, "bad number"),
    (HEADER + "two words,1,2026-11-01 20:00,,Tip\n", 2, "bad user name"),
    ("Name,Tokens,Timestamp\na,1,2026-11-01 20:00\n", 1, "missing column: User"),
    ("Foo,Bar\n1,2\n", 1, "missing column"),
    ("", 1, "the file is empty"),
    ("\n\n  \n", 1, "the file is empty"),
    (HEADER, 2, "no transactions"),
])
def test_malformed_files_name_the_line_and_the_reason(text, line, reason):
    try:
        result = parse(text)
    except ImportRejected as exc:
        assert (exc.line, reason in exc.reason) == (line, True), exc.reason
        return
    assert not result.ok
    assert result.errors[0]["line"] == line and reason in result.errors[0]["reason"], result.errors


def test_binary_non_utf8_and_too_big_files_are_refused():
    with pytest.raises(ImportRejected, match="binary"):
        parse(b"PK\x03\x04\x00\x00zipdata")
    with pytest.raises(ImportRejected, match="UTF-8") as bad:
        parse(HEADER.encode() + b"caf\xe9,1,2026-11-01 20:00,,Tip\n")
    assert bad.value.line == 2
    with pytest.raises(ImportRejected, match="too big"):
        parse(b"x" * (MAX_BYTES + 1))


def test_every_error_is_listed_up_to_a_limit():
    rows = "".join(f"u{i},x,2026-11-01 20:00,,Tip\n" for i in range(80))
    result = parse(HEADER + rows)
    assert len(result.errors) == 50 and result.more_errors
    assert [e["line"] for e in result.errors[:3]] == [2, 3, 4]
