"""Week and month boundaries: local midnights of the owner's zone, any first day of the week."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from greenroom.errors import BadRequest
from greenroom.leaderboards.periods import all_time, month_span, week_span

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # Saturday


def test_weeks_start_on_the_chosen_day_at_local_midnight():
    week = week_span(NOW, "Europe/Berlin", "monday", 0)
    assert (week.first_day, week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week.start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC) and week.end == datetime(2026, 11, 29, 23, 0,
                                                                                             tzinfo=UTC)
    assert week_span(NOW, "UTC", "saturday", 0).first_day == date(2026, 11, 28)
    assert week_span(NOW, "UTC", "sunday", 1).first_day == date(2026, 11, 15)
    assert week_span(NOW, "America/Los_Angeles", "Monday", 2).name == "2 weeks ago"
    # late Saturday in UTC is already Sunday in Tokyo: a Sunday week has begun there
    late = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    assert week_span(late, "Asia/Tokyo", "sunday", 0).first_day == date(2026, 11, 29)


def test_a_week_across_a_dst_change_is_a_week_of_local_days():
    spring = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    week = week_span(spring, "Europe/Berlin", "monday", 1)  # 23-29 Mar 2026, clocks change on the 29th
    assert week.start == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert (week.end - week.start).total_seconds() == 7 * 86400 - 3600


def test_months_and_all_time():
    month = month_span(NOW, "Europe/Berlin", 0)
    assert month.label == "November 2026" and month.start == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert month_span(NOW, "UTC", 11).label == "December 2025"
    assert month_span(NOW, "UTC", 1).name == "Last month"
    assert all_time().start is None and all_time().label == "All time"


@pytest.mark.parametrize("call", [lambda: week_span(NOW, "UTC", "funday", 0), lambda: week_span(NOW, "UTC", None, -1),
                                  lambda: month_span(NOW, "UTC", 10_000)])
def test_bad_arguments_are_refused(call):
    with pytest.raises(BadRequest):
        call()
