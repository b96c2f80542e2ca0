"""Schemathesis against the JSON API's own OpenAPI document, signed in with a bearer token, on a
database holding a real room, so lookups hit real rows as well as misses. Every operation gets
valid and invalid requests; whatever arrives, the API answers with a status it chose: never 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import select

from greenroom.config import Settings
from greenroom.db.engine import Database
from greenroom.people.models import Person
from greenroom.simulator.script import ScriptConfig, build_script
from greenroom.web.app import create_app
from greenroom.web.auth import create_api_token, ensure_owner
from tests.web.web_helpers import PASSWORD

from .helpers import ingest

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
EXAMPLES = 25  # per operation, valid and invalid mixed: the whole run stays near half a minute

# The schema is read from the app as it is now, so an operation added later is fuzzed too.
SCHEMA = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None), Database("sqlite://")).openapi())
OPERATIONS = {f"{r.ok().method.upper()} {r.ok().path}": r.ok() for r in SCHEMA.get_all_operations()}


@pytest.fixture
def room_app(sqlite_database, tmp_path, monkeypatch):
    """(app, headers, known path values) on a database holding a day of a simulated room."""
    monkeypatch.setattr("greenroom.web.auth._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    script = build_script(ScriptConfig(seed=9, days=1.0, audience=20, viewer_pool=60, broadcasts_per_day=2))
    ingest(sqlite_database, [script.events], NOW)
    settings_ = Settings(_env_file=None, data_dir=tmp_path / "data", owner_password=PASSWORD)
    ensure_owner(sqlite_database, settings_)
    with sqlite_database.write() as db:
        token = create_api_token(db, "fuzz", now=NOW)
        person = db.scalars(select(Person.username).order_by(Person.id)).first()
    app = create_app(settings_, sqlite_database, clock=lambda: NOW, stream_seconds=0.5)
    known = {"session_id": 1, "username": person, "note_id": 1, "image_id": 1, "rule_id": 1, "hit_id": 1,
             "run_id": 1, "list_name": "favourites"}
    return app, {"Authorization": f"Bearer {token}"}, known


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_request_the_schema_allows_or_almost_allows_makes_the_api_fail(label, room_app):
    app, headers, known = room_app
    operation = OPERATIONS[label]
    operation.schema.app = app
    names = {p.name for p in operation.path_parameters}
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if names and names <= set(known):
        # The same requests aimed at rows that exist.
        strategies.append(operation.as_strategy(path_parameters={n: known[n] for n in names}))
    failures: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(strategies))
    def run(case):
        response = case.call(headers=headers, app=app)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} for {case.as_curl_command()}: {response.text[:300]}")

    run()
    assert failures == [], failures[:3]
