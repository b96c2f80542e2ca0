"""Reading the site's token-history CSV: columns, numbers, times, categories and row identity.

The file is read whole before anything is stored: a single malformed line rejects the file, with
the line number and the reason of every problem found (up to :data:`MAX_ERRORS`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MAX_BYTES = 20 * 1024 * 1024  # a year of a busy room is a few MB
MAX_ERRORS = 50
MAX_NOTE = 2000
MAX_NAME = 64
MAX_TOKENS = 10**9

# Column roles and the header names accepted for each (compared without case, spaces or punctuation).
ALIASES: dict[str, tuple[str, ...]] = {
    "user": ("user", "username", "user name", "from", "from user", "viewer", "member"),
    "tokens": ("token change", "tokens", "amount", "token amount", "tokens change", "change"),
    "time": ("timestamp", "date", "time", "date time", "datetime", "created", "created at"),
    "type": ("transaction type", "type", "action", "transaction", "category", "kind"),
    "note": ("note", "notes", "description", "details", "memo", "comment"),
}
REQUIRED = ("user", "tokens", "time")
COLUMN_TITLES = {"user": "User", "tokens": "Token change", "time": "Timestamp", "type": "Transaction type",
                 "note": "Note"}

# Categories. Tips and media purchases are seen by the Events API; the others are not.
CATEGORY_LABELS: dict[str, str] = {
    "private": "Private shows",
    "spy": "Spy shows",
    "fanclub": "Fan-club payments",
    "chargeback": "Chargebacks",
    "other": "Other",
    "tip": "Tips",
    "media": "Media purchases",
    "payout": "Payouts",
}
INCOME_CATEGORIES = ("private", "spy", "fanclub", "chargeback", "other")
EVENTS_API_CATEGORIES = ("tip", "media")
CATEGORY_ORDER = tuple(CATEGORY_LABELS)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("spy", re.compile(r"\bspy|\bspied\b")),
    ("chargeback", re.compile(r"charge ?back|refund|reversal|reversed|void")),
    ("payout", re.compile(r"payout|pay out|paid out|withdraw|cash ?out|transfer to")),
    ("private", re.compile(r"\bprivate|\bpvt\b|\bgroup show")),
    ("fanclub", re.compile(r"fan ?club|fan-club|membership|subscription")),
    ("media", re.compile(r"\bmedia\b|\bphoto|\bvideo|\bpic(ture)?s?\b|\bpurchase of\b")),
    ("tip", re.compile(r"\btip(s|ped)?\b")),
)


class ImportRejected(Exception):
    """The file as a whole cannot be read (empty, binary, too big, no usable header)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line

    def as_error(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class ParsedRow:
    line: int
    occurred_at: datetime
    username: str  # lower case, "" for none
    display_name: str
    tokens: int
    category: str
    type_label: str
    note: str
    fingerprint: str
    occurrence: int

    def as_staged(self) -> list[Any]:
        return [self.line, self.occurred_at.isoformat(), self.display_name, self.tokens, self.category,
                self.type_label, self.note, self.fingerprint, self.occurrence]

    @classmethod
    def from_staged(cls, item: list[Any]) -> ParsedRow:
        line, at, display, tokens, category, label, note, fingerprint, occurrence = item
        return cls(line=int(line), occurred_at=datetime.fromisoformat(at), username=str(display).lower(),
                   display_name=str(display), tokens=int(tokens), category=str(category), type_label=str(label),
                   note=str(note), fingerprint=str(fingerprint), occurrence=int(occurrence))


@dataclass
class ParseResult:
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # role -> the header as written
    delimiter: str = ","
    timezone: str = "UTC"
    more_errors: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


_ALIAS_INDEX = {_key(alias): role for role, names in ALIASES.items() for alias in names}


def classify(type_text: str, note: str) -> str:
    """The category of a transaction from its type, or from its note when the file has no type."""
    for text in (type_text, note if not type_text.strip() else ""):
        lowered = " ".join(text.lower().split())
        if not lowered:
            continue
        for category, pattern in _RULES:
            if pattern.search(lowered):
                return category
        return "other"
    return "other"


_INT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.0{1,2})?$")


def parse_tokens(text: str) -> int:
    value = text.strip().replace("\u2212", "-").replace(" ", "").replace("\u00a0", "")
    if not _INT.match(value):
        raise ValueError(f"bad number {text.strip()[:40]!r} in the token column (a whole number is expected)")
    number = int(value.split(".")[0].replace(",", ""))
    if abs(number) > MAX_TOKENS:
        raise ValueError(f"bad number {text.strip()[:40]!r}: more than {MAX_TOKENS:,} tokens")
    return number


_TIME_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%b %d, %Y, %I:%M %p", "%b %d, %Y, %I %p", "%B %d, %Y, %I:%M %p", "%B %d, %Y, %I %p",
    "%b %d, %Y %I:%M %p", "%B %d, %Y %I:%M %p", "%b %d, %Y, %H:%M", "%b %d, %Y %H:%M:%S", "%d %b %Y %H:%M:%S",
)


def _readable(text: str) -> str:
    """The site's page style ("Jan. 5, 2026, 9:30 p.m.", "noon") into something strptime reads."""
    value = " ".join(text.split())
    value = re.sub(r"\b(a|p)\.m\.", lambda m: m.group(1).upper() + "M", value, flags=re.IGNORECASE)
    value = re.sub(r"\b(am|pm)\b", lambda m: m.group(1).upper(), value, flags=re.IGNORECASE)
    value = re.sub(r"\bnoon\b", "12 PM", value, flags=re.IGNORECASE)
    value = re.sub(r"\bmidnight\b", "12 AM", value, flags=re.IGNORECASE)
    value = re.sub(r"\bSept\b", "Sep", value)
    return re.sub(r"\b([A-Z][a-z]{2,8})\.", r"\1", value)


def parse_time(text: str, zone: ZoneInfo, *, latest: datetime | None = None) -> datetime:
    """A transaction time as aware UTC. ISO 8601 with or without an offset, the site's own styles,
    US ``MM/DD/YYYY`` and European ``DD.MM.YYYY``; a time without a zone is in ``zone``."""
    raw = text.strip()
    if not raw:
        raise ValueError("bad date: the time is empty")
    parsed: datetime | None = None
    if re.fullmatch(r"\d{9,10}(\.\d+)?", raw):
        parsed = datetime.fromtimestamp(float(raw), UTC)
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(raw.replace(" UTC", "+00:00"))
        except ValueError:
            parsed = None
    if parsed is None:
        readable = _readable(raw)
        for fmt in _TIME_FORMATS:
            try:
                parsed = datetime.strptime(readable, fmt)  # noqa: DTZ007 (the zone is applied below)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(f"bad date {raw[:40]!r} (use ISO 8601, e.g. 2026-11-28 21:15:00)")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    result = parsed.astimezone(UTC)
    if result.year < 2000 or (latest is not None and result > latest):
        raise ValueError(f"bad date {raw[:40]!r}: out of range")
    return result


def fingerprint(occurred_at: datetime, username: str, tokens: int, type_label: str, note: str) -> str:
    """The hash of a row's normalised content: UTC time, lower-case user, tokens, type and note
    with whitespace collapsed and case kept (notes are free text)."""
    parts = [occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"), username.lower(), str(tokens),
             " ".join(type_label.lower().split()), " ".join(note.split())]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def decode(data: bytes) -> str:
    if not data:
        raise ImportRejected("the file is empty", 1)
    if len(data) > MAX_BYTES:
        raise ImportRejected(f"the file is too big: {len(data):,} bytes (the limit is {MAX_BYTES:,})")
    if b"\x00" in data[:65536]:
        raise ImportRejected("this is not a CSV file: it holds binary data", 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected("this is not a UTF-8 CSV file (save it again as CSV UTF-8)", line) from None
    if not text.strip():
        raise ImportRejected("the file is empty", 1)
    return text


def _header_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _map_header(header: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for index, name in enumerate(header):
        role = _ALIAS_INDEX.get(_key(name))
        if role is not None and role not in mapping:
            mapping[role] = index
    return mapping


def sniff_delimiter(text: str) -> str:
    """The delimiter under which the header names the most known columns (ties: the commonest)."""
    first = _header_line(text)
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t"):
        header = next(csv.reader([first], delimiter=delimiter), [])
        score = (len(_map_header(header)), first.count(delimiter))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def parse_csv(data: bytes, timezone: str, *, now: datetime | None = None) -> ParseResult:
    """Parse a whole file. Raises :class:`ImportRejected` for a file that cannot be read at all;
    otherwise returns the rows and every line error found (the caller imports nothing if any)."""
    text = decode(data)
    zone = ZoneInfo(timezone)
    latest = (now or datetime.now(UTC)) + timedelta(days=1)
    result = ParseResult(delimiter=sniff_delimiter(text), timezone=timezone)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=result.delimiter, strict=True)
    header: list[str] | None = None
    seen: Counter[str] = Counter()
    last_line = 0

    def error(line: int, reason: str) -> None:
        if len(result.errors) < MAX_ERRORS:
            result.errors.append({"line": line, "reason": reason})
        else:
            result.more_errors = True

    while True:
        start = last_line + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            error(reader.line_num or start, f"not valid CSV: {exc}")
            break
        last_line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if header is None:
            header = [f.strip() for f in fields]
            mapping = _map_header(header)
            missing = [r for r in REQUIRED if r not in mapping]
            if missing:
                names = "; ".join(f"{COLUMN_TITLES[r]} (or {', '.join(ALIASES[r][:4])})" for r in missing)
                raise ImportRejected(f"missing column: {names}", start)
            result.columns = {role: header[index] for role, index in mapping.items()}
            continue
        if len(fields) != len(header):
            error(start, f"wrong column count: expected {len(header)} columns, found {len(fields)}")
            continue
        try:
            row = _row(fields, mapping, zone, latest, start)
        except ValueError as exc:
            error(start, str(exc))
            continue
        seen[row.fingerprint] += 1
        result.rows.append(_with_occurrence(row, seen[row.fingerprint]))
    if header is None:
        raise ImportRejected("the file is empty", 1)
    if not result.rows and not result.errors:
        raise ImportRejected("the file has a header but no transactions", 2)
    return result


def _with_occurrence(row: ParsedRow, occurrence: int) -> ParsedRow:
    return ParsedRow(row.line, row.occurred_at, row.username, row.display_name, row.tokens, row.category,
                     row.type_label, row.note, row.fingerprint, occurrence)


def _row(fields: list[str], mapping: dict[str, int], zone: ZoneInfo, latest: datetime, line: int) -> ParsedRow:
    def cell(role: str) -> str:
        index = mapping.get(role)
        return fields[index] if index is not None else ""

    display = cell("user").strip()
    if len(display) > MAX_NAME:
        raise ValueError(f"user name longer than {MAX_NAME} characters")
    if any(ch.isspace() for ch in display):
        raise ValueError(f"bad user name {display[:40]!r}: user names have no spaces")
    tokens = parse_tokens(cell("tokens"))
    occurred_at = parse_time(cell("time"), zone, latest=latest)
    type_label = " ".join(cell("type").split())
    if len(type_label) > 100:
        raise ValueError("transaction type longer than 100 characters")
    note = cell("note").strip().replace("\x00", "")
    if len(note) > MAX_NOTE:
        raise ValueError(f"note longer than {MAX_NOTE} characters")
    category = classify(type_label, note)
    return ParsedRow(line=line, occurred_at=occurred_at, username=display.lower(), display_name=display,
                     tokens=tokens, category=category, type_label=type_label, note=note,
                     fingerprint=fingerprint(occurred_at, display, tokens, type_label, note), occurrence=1)


def summarize(rows: list[ParsedRow]) -> dict[str, Any]:
    """Counts and token sums by category, the date range and the people named."""
    by: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by.setdefault(row.category, {"category": row.category, "label": CATEGORY_LABELS[row.category],
                                             "count": 0, "tokens": 0, "counted": row.category in INCOME_CATEGORIES})
        entry["count"] += 1
        entry["tokens"] += row.tokens
    categories = [by[c] for c in CATEGORY_ORDER if c in by]
    times = [row.occurred_at for row in rows]
    return {
        "categories": categories,
        "first_at": min(times).isoformat() if times else None,
        "last_at": max(times).isoformat() if times else None,
        "people": len({row.username for row in rows if row.username}),
        "income_tokens": sum(e["tokens"] for e in categories if e["counted"]),
    }
