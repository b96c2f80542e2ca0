"""Read side: imported income on a person and in a time span (a session), and past imports.

Computed on every read from ``token_transactions`` (indexed by feed and time, feed and user), so a
rebuild of the derived tables never touches it. Only categories the Events API cannot see count
as imported income; tips and media purchases are already counted from the events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenroom.imports.models import TokenImport, TokenTransaction
from greenroom.imports.parse import CATEGORY_LABELS, CATEGORY_ORDER, INCOME_CATEGORIES

SOURCE_LABEL = "from token history"


def _income(db: Session, *conditions: Any) -> dict[str, Any] | None:
    rows = db.execute(
        select(TokenTransaction.category, func.count(), func.sum(TokenTransaction.tokens),
               func.min(TokenTransaction.occurred_at), func.max(TokenTransaction.occurred_at))
        .where(TokenTransaction.category.in_(INCOME_CATEGORIES), *conditions)
        .group_by(TokenTransaction.category)
    ).all()
    if not rows:
        return None
    by = {category: (count, int(tokens or 0), first, last) for category, count, tokens, first, last in rows}
    categories = [{"category": c, "label": CATEGORY_LABELS[c], "count": by[c][0], "tokens": by[c][1]}
                  for c in CATEGORY_ORDER if c in by]
    firsts = [v[2] for v in by.values() if v[2] is not None]
    lasts = [v[3] for v in by.values() if v[3] is not None]
    return {
        "source": SOURCE_LABEL,
        "total_tokens": sum(c["tokens"] for c in categories),
        "count": sum(c["count"] for c in categories),
        "categories": categories,
        "first_at": min(firsts).isoformat() if firsts else None,
        "last_at": max(lasts).isoformat() if lasts else None,
    }


def person_income(db: Session, feed_id: int, username: str) -> dict[str, Any] | None:
    """Imported income from one person (matched without case), or None when there is none."""
    return _income(db, TokenTransaction.feed_id == feed_id, TokenTransaction.username == username.strip().lower())


def span_income(db: Session, feed_id: int, start: datetime, end: datetime) -> dict[str, Any] | None:
    """Imported income whose time falls in [start, end] (a session's span), or None."""
    return _income(db, TokenTransaction.feed_id == feed_id, TokenTransaction.occurred_at >= start,
                   TokenTransaction.occurred_at <= end)


def import_json(record: TokenImport, *, with_rows: bool = False) -> dict[str, Any]:
    summary = record.summary or {}
    out = {
        "id": record.id, "feed_id": record.feed_id, "filename": record.filename, "source": record.source,
        "status": record.status, "size_bytes": record.size_bytes, "rows_read": record.rows_read,
        "rows_new": record.rows_new, "rows_present": record.rows_present,
        "first_at": record.first_at.isoformat() if record.first_at else None,
        "last_at": record.last_at.isoformat() if record.last_at else None,
        "categories": summary.get("categories", []), "income_tokens": summary.get("income_tokens", 0),
        "people": summary.get("people", 0), "timezone": summary.get("timezone"),
        "columns": summary.get("columns", {}), "errors": record.errors or [],
        "more_errors": bool(summary.get("more_errors")), "run_id": record.run_id, "error": record.error,
        "created_at": record.created_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
    }
    if with_rows:
        out["preview"] = summary.get("preview", [])
    return out


def list_imports(db: Session, feed_id: int, *, limit: int = 20) -> list[TokenImport]:
    return list(db.scalars(select(TokenImport).where(TokenImport.feed_id == feed_id)
                           .order_by(TokenImport.id.desc()).limit(limit)))


def stored_count(db: Session, feed_id: int) -> int:
    return int(db.scalar(select(func.count()).select_from(TokenTransaction)
                         .where(TokenTransaction.feed_id == feed_id)) or 0)
