"""Export of a table view to CSV or JSON: one helper every table page and API route uses.

Rows are plain mappings; ``columns`` fixes the order (and the CSV header). Values are written as
text the owner's spreadsheet cannot mistake for a formula: a string starting with ``=``, ``+``,
``-``, ``@``, tab or carriage return gets a leading apostrophe (numbers are left alone). Times are
ISO 8601 in UTC. Both formats stream, so a 200k-row export never sits in memory whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal

from starlette.responses import StreamingResponse

from greenroom.errors import BadRequest

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
    if isinstance(value, datetime | date):
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
    text = str(value)
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
        yield ("," if i else "") + "\n" + json.dumps(item, ensure_ascii=False)
    yield "\n]\n"


def export_response(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], fmt: ExportFormat,
                    basename: str) -> StreamingResponse:
    """A download of ``rows``: ``<basename>.csv`` (UTF-8 with BOM, for spreadsheets) or ``.json``."""
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
                             headers={"Content-Disposition": f'attachment; filename="{safe}.{fmt}"'})
