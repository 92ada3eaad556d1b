"""When statements are due and which days they cover: every day of the year in exactly one
period, never a period that has not ended, and the examples a credit clerk would check."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.reconciliation.schedule_rules import latest_period, schedule_problem

D = dt.date


def test_examples() -> None:
    monthly = latest_period("monthly", 3, D(2026, 12, 5))
    assert (monthly.due_on, monthly.start, monthly.end) == (D(2026, 12, 3), D(2026, 11, 1), D(2026, 11, 30))  # fmt: skip
    early = latest_period("monthly", 3, D(2026, 12, 2))
    assert (early.due_on, early.start, early.end) == (D(2026, 11, 3), D(2026, 10, 1), D(2026, 10, 31))  # fmt: skip
    quarter = latest_period("quarterly", 10, D(2026, 5, 20))
    assert (quarter.due_on, quarter.start, quarter.end) == (D(2026, 4, 10), D(2026, 1, 1), D(2026, 3, 31))  # fmt: skip
    january = latest_period("quarterly", 10, D(2026, 1, 10))
    assert (january.start, january.end) == (D(2025, 10, 1), D(2025, 12, 31))
    chain = latest_period("settlement", 25, D(2026, 12, 5))
    assert (chain.due_on, chain.start, chain.end) == (D(2026, 11, 25), D(2026, 10, 25), D(2026, 11, 24))  # fmt: skip


@pytest.mark.parametrize(
    ("frequency", "day", "message"),
    [("weekly", 1, "frequency must be"), ("monthly", 0, "1 to 28"), ("monthly", 31, "1 to 28")],
)
def test_bad_schedules_say_why(frequency: str, day: int, message: str) -> None:
    problem = schedule_problem(frequency, day)
    assert problem is not None and message in problem


@given(
    st.sampled_from(["monthly", "quarterly", "settlement"]),
    st.integers(1, 28),
    st.dates(D(2001, 1, 1), D(2099, 12, 31)),
)
def test_periods_are_due_after_they_end_and_follow_each_other_without_gap(
    frequency: str, day: int, on: dt.date
) -> None:
    period = latest_period(frequency, day, on)
    assert period.start <= period.end < period.due_on <= on
    assert period.due_on.day == day
    # The next statement (one month or quarter on) starts the day after this one ends.
    step = dt.timedelta(days=93 if frequency == "quarterly" else 31)
    following = latest_period(frequency, day, period.due_on + step)
    assert following.due_on > period.due_on
    assert following.start == period.end + dt.timedelta(days=1)
