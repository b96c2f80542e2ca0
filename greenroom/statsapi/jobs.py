"""Jobs of this feature.

``statsapi.sample`` is optional: ``statsapi.watch`` (core, every minute) switches it on when a Stats
API URL is set (environment or Admin › Settings) and off when the URL is removed. Run by hand with
no URL, the sample job does nothing and says why.
"""

from __future__ import annotations

from typing import Any

from greenroom.jobs.registry import JobContext, job
from greenroom.statsapi.service import sync_sampling, take_sample


def _number(value: Any, default: float, low: float, high: float) -> float:
    try:
        return min(high, max(low, float(value)))
    except (TypeError, ValueError):
        return default


@job("statsapi.sample", every=300, max_attempts=1, timeout=150)
def sample(ctx: JobContext) -> dict[str, Any]:
    """Sample the Stats API every 5 minutes (on while a Stats API URL is set in Admin › Settings or the environment)."""
    return take_sample(
        ctx.database, ctx.settings, ctx.now,
        attempts=int(_number(ctx.args.get("attempts"), 3, 1, 5)),
        backoff=_number(ctx.args.get("backoff"), 2.0, 0.0, 30.0),
        timeout=_number(ctx.args.get("timeout"), 10.0, 0.5, 30.0),
    )


@job("statsapi.watch", every=60, core=True, timeout=60)
def watch(ctx: JobContext) -> dict[str, Any]:
    """Switch Stats API sampling on when a Stats API URL is set, and off when it is removed."""
    with ctx.database.write() as db:
        return sync_sampling(db, ctx.settings, ctx.now)
