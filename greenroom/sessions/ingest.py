"""Registers the sessions step of the ingest pipeline (order 200: after people, before inbox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from greenroom.config import get_settings
from greenroom.events.store import StoredEvent
from greenroom.sessions.service import apply_events, windows_for

STEP_ORDER = 200
STEP_NAME = "sessions"


def sessions_step(db: Session, feed_id: int, events: Sequence[StoredEvent], now: datetime) -> None:
    # The owner's saved settings (Admin › Settings) over the environment's: one small read per batch.
    apply_events(db, feed_id, events, now, windows_for(db, get_settings()))


# (order, name, function): what the pipeline needs to call this step.
STEP = (STEP_ORDER, STEP_NAME, sessions_step)


def _register() -> None:
    # Sessions sit below ingest in the layers, so this module must not import the pipeline
    # statically; the pipeline imports this module (load_steps), which is the only time this runs,
    # and the registry it hands the step to is the already-loaded pipeline module.
    from importlib import import_module

    import_module("greenroom.ingest.pipeline").register_step(*STEP)


_register()
