"""Fixtures for job tests: a registry that forgets test jobs afterwards, and a clock to move by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from greenroom.jobs import registry

START = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jobs() -> Iterator[dict[str, registry.JobDef]]:
    """The registry holding only ``jobs.cleanup`` (other features' jobs are theirs to test); whatever
    a test defines is removed after it. Modules are already imported, so the worker's
    ``load_jobs()`` registers nothing more."""
    registry.load_jobs()
    saved = dict(registry.REGISTRY)
    registry.REGISTRY.clear()
    registry.REGISTRY["jobs.cleanup"] = saved["jobs.cleanup"]
    yield registry.REGISTRY
    registry.REGISTRY.clear()
    registry.REGISTRY.update(saved)
