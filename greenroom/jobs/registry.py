"""Job definitions, registered in code with ``@job("feature.verb", every=...)``.

A job function takes a :class:`JobContext` and returns a small JSON-able dict saying what it did
(stored on the run row). Jobs open their own units of work through ``ctx.database`` so that slow
calls (an LLM provider) can happen with no transaction open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from greenroom.db.engine import Database


@dataclass
class JobContext:
    database: Database
    now: datetime
    settings: Any  # greenroom.config.Settings
    args: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None


JobFn = Callable[[JobContext], dict[str, Any] | None]


@dataclass(frozen=True)
class JobDef:
    name: str  # "feature.verb"
    fn: JobFn
    every: timedelta | None  # None: runs only when queued or run by hand
    core: bool  # starts with the server and cannot be left off by accident
    description: str
    max_attempts: int = 5
    timeout: timedelta = timedelta(minutes=10)


REGISTRY: dict[str, JobDef] = {}


def job(
    name: str,
    *,
    every: float | timedelta | None = None,
    core: bool = False,
    max_attempts: int = 5,
    timeout: float | timedelta = 600,
) -> Callable[[JobFn], JobFn]:
    if "." not in name:
        raise ValueError(f"job names are 'feature.verb', got {name!r}")

    def decorate(fn: JobFn) -> JobFn:
        interval = timedelta(seconds=every) if isinstance(every, (int, float)) else every
        limit = timedelta(seconds=timeout) if isinstance(timeout, (int, float)) else timeout
        doc = (fn.__doc__ or "").strip().splitlines()
        REGISTRY[name] = JobDef(name, fn, interval, core, doc[0] if doc else name, max_attempts, limit)
        return fn

    return decorate


# Modules that define jobs; imported by the worker and the CLI so the registry is complete.
JOB_MODULES: list[str] = [
    "greenroom.jobs.builtin",
    "greenroom.sessions.jobs",
    "greenroom.summaries.jobs",
    "greenroom.web.datatools",
    "greenroom.imports.jobs",
    "greenroom.statsapi.jobs",
    "greenroom.leaderboards.jobs",
]


def load_jobs() -> dict[str, JobDef]:
    import importlib

    for module in JOB_MODULES:
        importlib.import_module(module)
    return REGISTRY
