"""Taking Stats API samples, and switching the sampling job on and off with the URL.

A sample is idempotent per 5-minute slot: a slot that has its row already is not fetched again,
and the row is inserted with insert-or-ignore on ``(broadcaster, slot)``, so two workers racing
on one slot store one row. The HTTP call happens with no transaction open.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenroom.config import ConfigError, StatsUrl, parse_stats_url
from greenroom.db.engine import Database
from greenroom.db.util import insert_ignore
from greenroom.events.models import Feed
from greenroom.jobs import service as jobs
from greenroom.jobs.models import Job
from greenroom.logs import get_logger
from greenroom.prefs.service import effective
from greenroom.secrets import redact, register_secret
from greenroom.statsapi import client
from greenroom.statsapi.models import StatsSample, StatsSource
from greenroom.statsapi.values import has_known_fields, read_values

log = get_logger("greenroom.statsapi")

SLOT = timedelta(minutes=5)
SAMPLE_JOB = "statsapi.sample"
WATCH_JOB = "statsapi.watch"
NOT_SET = "no Stats API URL is set (GREENROOM_STATS_URL, or Admin › Settings)"


def configured_url(db: Session, settings: Any) -> StatsUrl | None:
    """The Stats API URL in force: the owner's saved one over the environment's, or None."""
    current = effective(db, settings)
    value = getattr(current, "stats_url", None)
    if value is None or not value.get_secret_value().strip():
        return None
    try:
        url = parse_stats_url(value.get_secret_value())
    except ConfigError:
        return None
    register_secret(url.token)
    return url


def slot_of(at: datetime) -> datetime:
    return jobs.slot_start(at, SLOT)


def fingerprint(url: StatsUrl) -> str:
    return hashlib.sha256(url.url.encode()).hexdigest()


def feed_id_for(db: Session, broadcaster: str) -> int | None:
    return db.execute(select(Feed.id).where(Feed.broadcaster == broadcaster.lower())).scalar_one_or_none()


def _source(db: Session, url: StatsUrl) -> StatsSource:
    insert_ignore(db, StatsSource.__table__, [{"broadcaster": url.username, "url_masked": url.masked}],
                  ["broadcaster"])
    row = db.get(StatsSource, url.username, populate_existing=True, with_for_update=True)
    assert row is not None
    row.url_masked = url.masked
    return row


def take_sample(
    database: Database,
    settings: Any,
    now: datetime,
    *,
    attempts: int = 3,
    backoff: float = 2.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Fetch and store the sample of ``now``'s slot. Returns what happened; raises
    :class:`~greenroom.statsapi.client.StatsApiError` (after recording it) when the Stats API
    refused the token, failed, or answered something that is not a Stats API answer."""
    with database.read() as db:
        url = configured_url(db, settings)
        if url is None:
            return {"idle": NOT_SET}
        slot = slot_of(now)
        taken = db.execute(
            select(StatsSample.sampled_at).where(StatsSample.broadcaster == url.username, StatsSample.slot == slot)
        ).scalar_one_or_none()
    if taken is not None:
        return {"skipped": "this 5-minute slot is sampled already", "slot": slot.isoformat(),
                "sampled_at": taken.isoformat()}
    try:
        data = client.fetch(url, attempts=attempts, backoff=backoff, timeout=timeout, sleep=sleep)
        if not has_known_fields(data):
            raise client.MalformedResponse("malformed response (none of the Stats API fields)")
    except client.StatsApiError as exc:
        message = redact(str(exc))
        with database.write() as db:
            source = _source(db, url)
            source.last_attempt_at = now
            source.last_error, source.last_error_at = message, now
        log.warning("stats api sample failed", broadcaster=url.username, error=message)
        raise
    values = read_values(data)
    with database.write() as db:
        feed_id = feed_id_for(db, url.username)
        insert_ignore(db, StatsSample.__table__, [{
            "feed_id": feed_id, "broadcaster": url.username, "slot": slot, "sampled_at": now, "raw": data,
            **values.row(),
        }], ["broadcaster", "slot"])
        if feed_id is not None:  # samples taken before the room's feed existed join it now
            db.execute(update(StatsSample).where(StatsSample.broadcaster == url.username,
                                                 StatsSample.feed_id.is_(None)).values(feed_id=feed_id)
                       .execution_options(synchronize_session=False))
        source = _source(db, url)
        source.last_attempt_at = source.last_success_at = now
    return {"sampled": url.username, "slot": slot.isoformat(), "feed_id": feed_id,
            "num_viewers": values.ints.get("num_viewers"), "num_followers": values.ints.get("num_followers")}


def sync_sampling(db: Session, settings: Any, now: datetime) -> dict[str, Any]:
    """Switch ``statsapi.sample`` on the first time a Stats API URL is in force (a new or changed
    URL counts as first), and off when the URL is removed. In between the owner's own choice on
    Admin › Jobs stands: a sampling job switched off by hand stays off."""
    url = configured_url(db, settings)
    insert_ignore(db, Job.__table__, [{"name": WATCH_JOB, "enabled": True, "forced_off": False, "settings": {},
                                       "updated_at": now}], ["name"])
    watch = db.execute(select(Job).where(Job.name == WATCH_JOB).with_for_update()).scalar_one()
    marker = (watch.settings or {}).get("enabled_for")
    current = fingerprint(url) if url is not None else None
    action = "unchanged"
    if current is not None and marker != current:
        jobs.set_enabled(db, SAMPLE_JOB, True, now=now)
        action = "enabled"
    elif current is None and marker is not None:
        jobs.set_enabled(db, SAMPLE_JOB, False, now=now)
        action = "disabled"
    if marker != current:
        watch.settings = {**(watch.settings or {}), "enabled_for": current}
        watch.updated_at = now
    if url is not None:
        _source(db, url)
    db.flush()
    return {"stats_url": url.masked if url else "not set", "sampling": action}
