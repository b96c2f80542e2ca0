"""Imports every feature's models so the metadata is complete (for Alembic and create checks)."""

from __future__ import annotations

import importlib

from greenroom.db.base import Base

# Feature model modules, lowest layer first. A module listed here that does not exist yet is a bug.
MODEL_MODULES = [
    "greenroom.prefs.models",
    "greenroom.jobs.models",
    "greenroom.events.models",
    "greenroom.imports.models",
    "greenroom.statsapi.models",
    "greenroom.people.models",
    "greenroom.sessions.models",
    "greenroom.summaries.models",
    "greenroom.inbox.models",
    "greenroom.visits.models",
    "greenroom.leaderboards.models",
    "greenroom.web.models",
]

for _module in MODEL_MODULES:
    importlib.import_module(_module)

metadata = Base.metadata
