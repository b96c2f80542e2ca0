from __future__ import annotations

import logging

import pytest

from greenroom.simulator.faults import STATUS_FAULTS, Fault

from .conftest import TOKEN, feed_row, feed_state, served_ids, stored_ids, wait_for


def _all_stored(database, scenario):
    return lambda: len(stored_ids(database)) >= len(scenario.events)


def test_the_ingester_stores_every_served_event_once_and_ends_on_the_last_cursor(
    database, scenario, simulator, start_ingester
):
    running = start_ingester(database, simulator)
    wait_for(_all_stored(database, scenario), what="all events stored")
    running.stop()
    assert stored_ids(database) == [e["id"] for e in simulator.served_events()] == served_ids(simulator)
    feed = feed_row(database)
    assert feed.cursor_event_id == served_ids(simulator)[-1]
    assert feed.events_stored == len(scenario.events)
    assert feed.state == "stopped"


def test_a_restarted_ingester_resumes_from_its_cursor_and_the_backlog_adds_nothing(
    database, scenario, simulator, start_ingester
):
    first = start_ingester(database, simulator)
    wait_for(lambda: len(stored_ids(database)) >= 300, what="some events")
    first.stop()
    requests_before = simulator.request_count
    second = start_ingester(database, simulator)
    wait_for(_all_stored(database, scenario), what="the rest")
    second.stop()
    assert stored_ids(database) == served_ids(simulator)
    assert simulator.request_count > requests_before


TRANSIENT = [k for k in STATUS_FAULTS if k not in ("401", "403", "404")] + [
    "waited_too_long", "slow_body", "duplicate", "stale_next", "truncated", "endless_body", "foreign_next",
    "disconnect",
]


@pytest.mark.parametrize("kind", TRANSIENT)
def test_every_transient_fault_is_survived_with_nothing_lost_or_doubled(
    kind, sqlite_database, scenario, simulator, start_ingester
):
    database = sqlite_database
    seconds = {"slow_body": 1.5, "endless_body": 30.0}.get(kind)
    simulator.add_faults(Fault(kind, at=(2, 4, 5), seconds=seconds))
    running = start_ingester(database, simulator, deadline=4.0)
    wait_for(_all_stored(database, scenario), what=f"recovery from {kind}")
    running.stop()
    assert stored_ids(database) == served_ids(simulator)
    assert [r.kind for r in simulator.fault_log] == [kind] * 3


@pytest.mark.parametrize("status", ["401", "403", "404"])
def test_a_credential_failure_is_a_visible_state_and_recovers_when_fixed(
    status, sqlite_database, scenario, simulator, start_ingester, caplog, capsys
):
    database = sqlite_database
    caplog.set_level(logging.DEBUG)
    simulator.add_faults(Fault(status, next=1000))
    running = start_ingester(database, simulator)
    wait_for(lambda: feed_state(database) == "credentials_rejected", what="credentials_rejected")
    feed = feed_row(database)
    assert feed.last_error.startswith(f"HTTP {status}")
    simulator.clear_faults()
    wait_for(_all_stored(database, scenario), what="recovery")
    wait_for(lambda: feed_state(database) == "polling", what="polling again")
    running.stop()
    assert stored_ids(database) == served_ids(simulator)
    out = capsys.readouterr()
    everything = caplog.text + out.out + out.err + repr(feed.__dict__)
    assert TOKEN not in everything


def test_a_token_revoked_mid_stream_stops_ingest_cleanly_and_a_new_token_resumes(
    sqlite_database, scenario, simulator, start_ingester
):
    database = sqlite_database
    running = start_ingester(database, simulator)
    wait_for(lambda: len(stored_ids(database)) >= 200, what="some events")
    simulator.set_token("a-different-token")
    wait_for(lambda: feed_state(database) == "credentials_rejected", what="credentials_rejected")
    simulator.set_token(TOKEN)
    wait_for(_all_stored(database, scenario), what="resume")
    running.stop()
    assert stored_ids(database) == served_ids(simulator)


def test_a_second_ingester_for_the_same_feed_waits_while_the_first_holds_the_lease(
    database, scenario, simulator, start_ingester
):
    first = start_ingester(database, simulator)
    wait_for(lambda: feed_state(database) == "polling", what="first polling")
    second = start_ingester(database, simulator)
    wait_for(_all_stored(database, scenario), what="all events")
    assert second.ingester.polls == 0
    first.stop()
    # The first released its lease on a clean stop, so the second takes over at once.
    wait_for(lambda: second.ingester.polls > 0, what="takeover")
    second.stop()
    assert stored_ids(database) == served_ids(simulator)
