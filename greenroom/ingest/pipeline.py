"""What happens to newly stored events, inside the same transaction as the store.

Features are called in dependency order. Each step receives only the events that were new in this
batch, so a re-delivered event can never be counted twice downstream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from greenroom.events.store import StoredEvent

Step = Callable[[Session, int, Sequence[StoredEvent], datetime], None]

_steps: list[tuple[int, str, Step]] = []


def register_step(order: int, name: str, step: Step) -> None:
    """Add a derivation step (people=100, sessions=200, inbox=300, visits=400)."""
    if any(existing == name for _, existing, _ in _steps):
        return
    _steps.append((order, name, step))
    _steps.sort(key=lambda item: item[0])


def load_steps() -> None:
    """Import the feature modules that register steps (kept here so import order is explicit)."""
    import importlib

    for module in ("greenroom.people.ingest", "greenroom.sessions.ingest", "greenroom.inbox.ingest",
                   "greenroom.visits.ingest"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def process_new_events(db: Session, feed_id: int, events: Sequence[StoredEvent], now: datetime) -> None:
    if not events:
        return
    for _, _, step in _steps:
        step(db, feed_id, events, now)
