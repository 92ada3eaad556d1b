"""Promises to pay judged from the money received: kept, partly kept, broken, with a grace in
working days (over the National Day holiday) and oldest-instalment-first attribution."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from huikuan.collections.promise_rules import (
    Instalment,
    PromiseStatus,
    Received,
    deadline,
    judge,
    overall,
)
from huikuan.core.workdays import WorkCalendar

D = dt.date
# National Day 2026: 10-01 … 10-07 off, Sunday 09-20 and Saturday 10-10 worked.
CAL = WorkCalendar(
    exceptions={D(2026, 10, d): False for d in range(1, 8)}
    | {D(2026, 9, 20): True, D(2026, 10, 10): True},
    known_years=frozenset({2026}),
)
MADE = D(2026, 9, 20)


def verdict(instalments, received, as_of, grace=2):  # type: ignore[no-untyped-def]
    return judge(
        [Instalment(d, a) for d, a in instalments],
        [Received(d, a) for d, a in received],
        made_on=MADE,
        as_of=as_of,
        grace_workdays=grace,
        calendar=CAL,
    )


def test_the_grace_counts_working_days_over_the_holiday() -> None:
    assert deadline(D(2026, 9, 30), 2, CAL) == D(2026, 10, 9)
    assert deadline(D(2026, 10, 3), 0, CAL) == D(2026, 10, 8)  # a day off: the next working day
    assert deadline(D(2026, 10, 9), 1, CAL) == D(2026, 10, 10)  # Saturday 10-10 is worked


def test_open_until_the_deadline_then_broken() -> None:
    due = [(D(2026, 9, 30), 50_000_00)]
    assert verdict(due, [], D(2026, 10, 9)).status is PromiseStatus.OPEN
    assert verdict(due, [], D(2026, 10, 10)).status is PromiseStatus.BROKEN


def test_money_on_the_last_day_of_grace_is_in_time() -> None:
    due = [(D(2026, 9, 30), 50_000_00)]
    assert verdict(due, [(D(2026, 10, 9), 50_000_00)], D(2026, 10, 12)).status is (
        PromiseStatus.KEPT
    )
    late = verdict(due, [(D(2026, 10, 10), 50_000_00)], D(2026, 10, 12))
    assert late.status is PromiseStatus.BROKEN
    assert late.instalments[0].paid == 50_000_00  # received, but late


def test_partly_kept() -> None:
    result = verdict([(D(2026, 9, 30), 50_000_00)], [(D(2026, 10, 8), 20_000_00)], D(2026, 10, 10))
    assert result.status is PromiseStatus.PARTLY
    assert result.instalments[0].paid == 20_000_00


def test_kept_as_soon_as_paid_in_full() -> None:
    result = verdict([(D(2026, 12, 20), 10_000_00)], [(D(2026, 12, 1), 10_000_00)], D(2026, 12, 1))
    assert result.status is PromiseStatus.KEPT


def test_money_before_the_promise_does_not_count() -> None:
    result = verdict([(D(2026, 9, 30), 10_000_00)], [(D(2026, 9, 19), 10_000_00)], D(2026, 10, 10))
    assert result.status is PromiseStatus.BROKEN


def test_oldest_instalment_first_and_the_worst_verdict_wins() -> None:
    instalments = [(D(2026, 11, 10), 500_00), (D(2026, 11, 20), 500_00)]
    paid = [(D(2026, 11, 9), 800_00)]
    on_first = verdict(instalments, paid, D(2026, 11, 13))
    assert [i.status for i in on_first.instalments] == [PromiseStatus.KEPT, PromiseStatus.OPEN]
    assert [i.paid for i in on_first.instalments] == [500_00, 300_00]
    assert on_first.status is PromiseStatus.OPEN
    after = verdict(instalments, paid, D(2026, 11, 30))
    assert after.instalments[1].status is PromiseStatus.PARTLY
    assert after.status is PromiseStatus.PARTLY
    missed_first = verdict(instalments, [(D(2026, 11, 19), 1000_00)], D(2026, 11, 30))
    assert [i.status for i in missed_first.instalments] == [
        PromiseStatus.BROKEN,
        PromiseStatus.KEPT,
    ]
    assert missed_first.status is PromiseStatus.BROKEN


def test_overall() -> None:
    assert overall([]) is PromiseStatus.OPEN
    assert overall([PromiseStatus.KEPT, PromiseStatus.OPEN]) is PromiseStatus.OPEN
    assert overall([PromiseStatus.KEPT, PromiseStatus.KEPT]) is PromiseStatus.KEPT


days = st.integers(min_value=0, max_value=120).map(lambda n: MADE + dt.timedelta(days=n))
instalments_st = st.lists(st.tuples(days, st.integers(1, 1_000_000)), min_size=1, max_size=5)
received_st = st.lists(st.tuples(days, st.integers(1, 1_000_000)), max_size=8)


@settings(max_examples=200, deadline=None)
@given(instalments_st, received_st, days, st.integers(0, 5))
def test_attribution_invariants(instalments, received, as_of, grace) -> None:  # type: ignore[no-untyped-def]
    result = verdict(instalments, received, as_of, grace)
    total_in = sum(a for d, a in received if d <= as_of)
    # No money invented: attributed is what was received, up to what was promised.
    assert result.paid == min(total_in, sum(a for _, a in instalments))
    for judged in result.instalments:
        assert 0 <= judged.paid <= judged.amount
        if judged.status is PromiseStatus.OPEN:
            assert as_of <= judged.deadline
        if judged.status in (PromiseStatus.PARTLY, PromiseStatus.BROKEN):
            assert as_of > judged.deadline
    # Judging later never reopens a verdict (money received later cannot undo a miss).
    later = verdict(instalments, received, as_of + dt.timedelta(days=30), grace)
    if result.status is not PromiseStatus.OPEN:
        assert later.status is not PromiseStatus.OPEN
    for now, then in zip(result.instalments, later.instalments, strict=True):
        if now.status is not PromiseStatus.OPEN:
            assert then.status is now.status


@settings(max_examples=100, deadline=None)
@given(instalments_st, days)
def test_paid_in_full_in_time_is_kept(instalments, as_of) -> None:  # type: ignore[no-untyped-def]
    received = [(d, a) for d, a in instalments]
    result = verdict(instalments, received, max(as_of, max(d for d, _ in instalments)))
    assert result.status is PromiseStatus.KEPT
