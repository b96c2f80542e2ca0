"""``leaderboards.totals``: keeps the running all-time totals caught up with the event store (a
core job, every minute). An all-time board is exact without it, only slower: it adds whatever
the totals have not folded in yet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from greenroom.events.models import Feed
from greenroom.jobs.registry import JobContext, job
from greenroom.leaderboards.queries import catch_up

CHUNK = 200_000  # events per transaction: a long backlog is folded in several short ones


@job("leaderboards.totals", every=60, core=True, timeout=1800)
def totals_job(ctx: JobContext) -> dict[str, Any]:
    """Fold newly stored events into the running all-time leaderboard totals."""
    with ctx.database.read() as db:
        feeds = list(db.execute(select(Feed.id).order_by(Feed.id)).scalars())
    folded = 0
    for feed_id in feeds:
        while True:
            with ctx.database.write() as db:
                done = catch_up(db, feed_id, ctx.now, max_events=CHUNK)
            folded += done
            if done < CHUNK:
                break
    return {"events_folded": folded, "rooms": len(feeds)}
