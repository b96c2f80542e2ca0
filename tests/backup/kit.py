"""A rich installation to back up, and the API answers that must survive a round trip."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from starlette.testclient import TestClient

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.events.feeds import ensure_feed
from greenroom.events.store import record_batch
from greenroom.ingest.pipeline import load_steps, process_new_events
from greenroom.prefs import service as prefs
from greenroom.sessions.models import BroadcastSession
from greenroom.sessions.service import finalize_due
from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.summaries import service as summaries
from greenroom.summaries.providers.base import SummaryText
from greenroom.web.app import create_app
from greenroom.web.auth import ensure_owner
from tests.conftest import PG_ADMIN_URL, require_pg
from tests.web.web_helpers import PASSWORD, Clock, csrf_of, login

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                       "AAAABJRU5ErkJggg==")
API_KEY = "sk-ant-backup-test-key-0123456789"


def settings_for(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, owner_password=PASSWORD, timezone="Europe/Berlin")


def empty_pg() -> tuple[str, Any]:
    """A brand-new PostgreSQL database with no tables at all, and a function dropping it."""
    require_pg()
    name = f"greenroom_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


def build_installation(database: Database, data_dir: Path, *, seed: int = 3, days: float = 1.0,
                       audience: int = 30, target_events: int | None = None) -> Clock:
    """Simulated broadcasts through the real pipeline, then the owner's own data on top."""
    script = build_script(ScriptConfig(seed=seed, days=days, audience=audience, viewer_pool=200,
                                       broadcasts_per_day=2, target_events=target_events))
    now = script.event_times[-1] + timedelta(minutes=5)
    load_steps()
    with database.write() as db:
        feed_id = ensure_feed(db, broadcaster="alice", url_masked="https://eventsapi.chaturbate.com/events/alice/****/",
                              url_fingerprint="fp", is_demo=False, now=now).id
    for start in range(0, len(script.events), 500):
        with database.write() as db:
            result = record_batch(db, feed_id=feed_id, envelopes=script.events[start:start + 500], cursor="c",
                                  cursor_event_id=None, received_at=now, lease_holder=None)
            process_new_events(db, feed_id, result.new, now)
    with database.write() as db:
        finalize_due(db, now)
    settings = settings_for(data_dir)
    ensure_owner(database, settings)
    clock = Clock(now + timedelta(minutes=1))
    app = create_app(settings, database, clock=clock)
    with TestClient(app) as client:
        assert login(client).status_code == 303
        h = {"X-CSRF-Token": csrf_of(client)}
        people = client.get("/api/people", params={"sort": "tokens", "limit": 3}).json()["people"]
        first = people[0]["username"]
        assert client.post(f"/api/people/{first}/notes", json={"text": "likes jazz — ünïcode"},
                           headers=h).status_code == 201
        assert client.put(f"/api/people/{first}/relationship", json={
            "roles": ["friend"], "custom_label": "Patron", "status": "active", "traits": ["kind"]},
            headers=h).status_code == 200
        assert client.put(f"/api/people/{first}/watchlists/VIPs", headers=h).status_code == 200
        assert client.put(f"/api/people/{people[1]['username']}/names", json={"real_name": "Jon"},
                          headers=h).status_code == 200
        assert client.post(f"/api/people/{first}/images", files={"file": ("a.png", PNG, "image/png")},
                           data={"description": "the avatar"}, headers=h).status_code == 201
        sessions = client.get("/api/sessions", params={"limit": 5}).json()["sessions"]
        assert client.put(f"/api/sessions/{sessions[-1]['id']}/notes", json={"notes": "great night",
                                                                             "tags": ["best"]},
                          headers=h).status_code == 200
    with database.write() as db:
        session_id = db.scalars(select(BroadcastSession.id).order_by(BroadcastSession.id)).first()
        summaries.store(db, session_id, now, text=SummaryText(text="A calm night.", provider="offline",
                                                              model="m"))
        prefs.save(db, {"anthropic_api_key": API_KEY, "merge_window_minutes": 45}, now)
    signing_key_of(settings)
    return clock


def signing_key_of(settings: Settings) -> str:
    from greenroom.web.auth import signing_key

    return signing_key(settings)


def api_answers(database: Database, data_dir: Path, clock: Clock) -> dict[str, Any]:
    """The JSON of many API endpoints, as the app serves them from this installation."""
    app = create_app(settings_for(data_dir), database, clock=clock)
    out: dict[str, Any] = {}
    with TestClient(app) as client:
        assert login(client).status_code == 303

        def get(path: str, **params: Any) -> Any:
            response = client.get(path, params=params)
            assert response.status_code == 200, (path, response.text[:300])
            out[path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else "")] = (
                response.json() if "json" in response.headers["content-type"] else base64.b64encode(
                    response.content).decode())
            return out[list(out)[-1]]

        sessions = get("/api/sessions", limit=100)["sessions"]
        for s in sessions:
            get(f"/api/sessions/{s['id']}")
        get("/api/sessions/current")
        people = get("/api/people", limit=200, sort="tokens")["people"]
        get("/api/people", q="a", limit=200)
        for p in people[:12]:
            profile = get(f"/api/people/{p['username']}")
            get(f"/api/people/{p['username']}/timeline")
            for image in profile.get("images", []):
                get(f"/people/{p['username']}/images/{image['id']}")
        after = None
        while True:
            page = get("/api/events", limit=1000, **({"after_id": after} if after else {}))
            after = page["next_after_id"]
            if after is None:
                break
        get("/api/events", method="tip", limit=1000)
        threads = get("/api/inbox/threads", limit=200)["threads"]
        for t in threads[:10]:
            get(f"/api/inbox/threads/{t['username']}")
        get("/api/inbox/search", q="hi")
        get("/api/visitors")
        get("/api/feeds")
        health = client.get("/api/health").json()
        out["health.events_stored"] = health["ingest"]["events_stored"]
    return out


def table_rows(database: Database) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order, with engine differences taken out (SQLite's
    naive UTC times, PostgreSQL's memoryviews), for comparing two installations."""
    from datetime import UTC, datetime

    from sqlalchemy import MetaData

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, memoryview):
            return bytes(value)
        return value

    out: dict[str, list[tuple]] = {}
    with database.engine.connect() as conn:
        meta = MetaData()
        meta.reflect(conn)
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(plain(v) for v in row) for row in conn.execute(select(table).order_by(*order))]
    return out
