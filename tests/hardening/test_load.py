"""A short run of the load benchmark (benchmarks/load.py): a 100× room ingested by `greenroom serve`
while clients read the dashboard and the API. No request fails and no event is lost, doubled or
reordered. Times are reported by the benchmark, never asserted here."""

from __future__ import annotations

import pytest

from benchmarks.load import run_load

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_pages_read_under_a_fast_room_never_fail_and_no_event_is_lost(engine, tmp_path, request):
    if engine == "postgresql":
        request.getfixturevalue("pg_url")  # skips (or fails in CI) like every PostgreSQL test
    result = run_load(seconds=8, clients=4, speed=100, engine=engine, log=tmp_path / "serve.log")
    print(result.markdown())
    assert result.requests > 50
    assert result.errors == []
    assert result.served > 100 and result.stored >= result.served
    assert (result.missing, result.duplicated, result.out_of_order) == (0, 0, False)
