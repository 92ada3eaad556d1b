"""Payment plan rules without a database: schedules that add up to the fen, monthly dates at
month ends, interest on the declining balance, instalments judged with a grace period."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.collections import plan_rules as rules
from huikuan.core.workdays import WorkCalendar

D = dt.date


@given(
    balance=st.integers(min_value=1, max_value=10**13),
    count=st.integers(min_value=1, max_value=60),
    bp=st.integers(min_value=0, max_value=3_000),
    weekly=st.booleans(),
)
def test_the_principal_adds_up_to_the_balance_to_the_fen(
    balance: int, count: int, bp: int, weekly: bool
) -> None:
    if balance < count:
        with pytest.raises(rules.ScheduleError):
            rules.split_equal(balance, count)
        return
    frequency = rules.Frequency.WEEKLY if weekly else rules.Frequency.MONTHLY
    dates = rules.equal_dates(D(2026, 1, 31), count, frequency)
    schedule = rules.build_schedule(
        balance, agreed_on=D(2026, 1, 1), dates=dates, annual_interest_bp=bp
    )
    assert sum(i.amount for i in schedule) == balance
    assert all(i.amount > 0 and i.interest >= 0 for i in schedule)
    # Equal shares; the remainder fen all on the last.
    assert len({i.amount for i in schedule[:-1]}) <= 1
    assert 0 <= schedule[-1].amount - schedule[0].amount < count


def test_monthly_dates_keep_the_day_or_the_months_last_day() -> None:
    assert rules.equal_dates(D(2026, 1, 31), 4, rules.Frequency.MONTHLY) == (
        D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30),
    )  # fmt: skip
    assert rules.equal_dates(D(2026, 12, 31), 2, rules.Frequency.WEEKLY) == (
        D(2026, 12, 31), D(2027, 1, 7),
    )  # fmt: skip


def test_interest_is_simple_on_the_declining_balance_actual_365() -> None:
    schedule = rules.build_schedule(
        300_000_00,
        agreed_on=D(2026, 1, 1),
        dates=(D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1)),
        annual_interest_bp=730,  # 7.3% a year = 0.02% a day
    )
    assert [i.amount for i in schedule] == [100_000_00] * 3
    # 300k × 0.0002 × 31; 200k × 0.0002 × 28; 100k × 0.0002 × 31
    assert [i.interest for i in schedule] == [1_860_00, 1_120_00, 620_00]
    assert rules.interest_for(1, 1, 1) == 0  # rounded half up to the fen


def test_explicit_amounts_must_add_up_and_dates_must_increase() -> None:
    agreed = D(2026, 1, 1)
    with pytest.raises(rules.ScheduleError, match="add up"):
        rules.build_schedule(1000, agreed_on=agreed, dates=(D(2026, 2, 1),), amounts=(999,))
    with pytest.raises(rules.ScheduleError, match="increase"):
        rules.build_schedule(
            1000, agreed_on=agreed, dates=(D(2026, 3, 1), D(2026, 2, 1)), amounts=(500, 500)
        )
    with pytest.raises(rules.ScheduleError, match="before the agreement"):
        rules.build_schedule(1000, agreed_on=agreed, dates=(D(2025, 12, 1),))
    schedule = rules.build_schedule(
        1000, agreed_on=agreed, dates=(D(2026, 2, 1), D(2026, 3, 1)), amounts=(300, 700)
    )
    assert [i.amount for i in schedule] == [300, 700]


PLAN = (
    rules.Instalment(D(2026, 12, 4), 1_000),  # a Friday
    rules.Instalment(D(2027, 1, 4), 1_000),
)


def judge(received: int, as_of: dt.date, grace: int = 2) -> list[str]:
    verdicts = rules.judge(
        PLAN, received, as_of=as_of, calendar=WorkCalendar(), grace_workdays=grace
    )
    return [v.status.value for v in verdicts]


def test_an_instalment_is_missed_only_after_the_grace_working_days() -> None:
    # Due Friday 12-04; two working days of grace end Tuesday 12-08.
    assert judge(0, D(2026, 12, 8)) == ["open", "open"]
    assert judge(0, D(2026, 12, 9)) == ["missed", "open"]
    assert judge(0, D(2026, 12, 7), grace=0) == ["missed", "open"]
    assert judge(999, D(2026, 12, 9)) == ["missed", "open"]


def test_money_pays_the_oldest_instalment_first_and_a_plan_ends_completed_or_defaulted() -> None:
    verdicts = rules.judge(PLAN, 1_500, as_of=D(2026, 12, 9), calendar=WorkCalendar())
    assert [v.paid for v in verdicts] == [1_000, 500]
    assert rules.plan_status(verdicts) is rules.PlanStatus.ACTIVE
    paid = rules.judge(PLAN, 2_000, as_of=D(2026, 12, 9), calendar=WorkCalendar())
    assert rules.plan_status(paid) is rules.PlanStatus.COMPLETED
    missed = rules.judge(PLAN, 1_500, as_of=D(2027, 1, 8), calendar=WorkCalendar())
    assert rules.plan_status(missed) is rules.PlanStatus.DEFAULTED
