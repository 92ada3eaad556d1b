"""Late-fee arithmetic: exact to the fen, one rounding per invoice and period, the day-count
rule, and properties: splitting a period or a balance neither loses nor invents money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from huikuan.collections.fee_rules import (
    DayCount,
    FeeRate,
    estimated_fee,
    first_fee_day,
    last_closed_month_end,
    late_fee,
    month_periods,
    round_half_up,
)

D = dt.date
DAILY = FeeRate.per_day("0.0005")  # 万分之五 a day


def test_a_constant_balance_over_a_month() -> None:
    history = [(D(2026, 10, 1), 100_000_00)]
    fee = late_fee(
        history, start=D(2026, 11, 1), end=D(2026, 11, 30), first_day=D(2026, 10, 2), rate=DAILY
    )
    assert (fee.days, fee.base, fee.amount) == (30, 100_000_00, 1_500_00)  # 100,000 × 0.05% × 30


def test_the_day_paid_is_charged_and_grace_is_skipped() -> None:
    # Due 11-02, grace 3: the fee runs from 11-06; paid in full on 11-10 (charged that day).
    history = [(D(2026, 10, 1), 10_000_00), (D(2026, 11, 10), 0)]
    first = first_fee_day(D(2026, 11, 2), 3)
    assert first == D(2026, 11, 6)
    fee = late_fee(history, start=D(2026, 11, 1), end=D(2026, 11, 30), first_day=first, rate=DAILY)
    assert fee.days == 5  # 11-06 … 11-10
    assert fee.amount == 25_00  # 10,000 × 0.0005 × 5 = 25 yuan


def test_rounded_half_up_once() -> None:
    history = [(D(2026, 1, 1), 1)]  # one fen
    rate = FeeRate.per_day("0.5")
    fee = late_fee(
        history, start=D(2026, 2, 1), end=D(2026, 2, 1), first_day=D(2026, 1, 2), rate=rate
    )
    assert fee.exact == Fraction(1, 2) and fee.amount == 1
    assert round_half_up(Fraction(149, 100)) == 1
    assert round_half_up(Fraction(-3, 2)) == -2


def test_annual_rates_and_the_day_count() -> None:
    assert FeeRate.per_year("0.0365").daily == Fraction(1, 10_000)
    assert FeeRate.per_year("0.036", day_count=DayCount.ACTUAL_360).daily == Fraction(1, 10_000)
    assert FeeRate.per_year("0.0365").text == "0.0365/year actual/365"
    assert DAILY.text == "0.0005/day"
    history = [(D(2026, 1, 1), 365_000_00)]
    fee = late_fee(
        history,
        start=D(2026, 2, 1),
        end=D(2026, 2, 28),
        first_day=D(2026, 1, 2),
        rate=FeeRate.per_year("0.05"),
    )
    assert fee.exact == Fraction(365_000_00 * 28 * 5, 100 * 365)  # exact: 1,400 yuan
    assert fee.amount == 1_400_00


def test_never_compounding_unless_the_contract_says_so() -> None:
    history = [(D(2026, 1, 1), 100_000_00)]
    kw = {"start": D(2026, 2, 1), "end": D(2026, 2, 10), "first_day": D(2026, 1, 2)}
    simple = late_fee(history, rate=DAILY, unpaid_fees=1_000_00, **kw)  # type: ignore[arg-type]
    compound = late_fee(
        history,
        rate=FeeRate.per_day("0.0005", compound=True),
        unpaid_fees=1_000_00,
        **kw,  # type: ignore[arg-type]
    )
    assert simple.amount == 500_00
    assert compound.amount == 505_00  # (100,000 + 1,000) × 0.0005 × 10


def test_month_periods() -> None:
    assert month_periods(D(2026, 10, 20), D(2026, 12, 31)) == [
        (D(2026, 10, 20), D(2026, 10, 31)),
        (D(2026, 11, 1), D(2026, 11, 30)),
        (D(2026, 12, 1), D(2026, 12, 31)),
    ]
    assert last_closed_month_end(D(2026, 12, 2)) == D(2026, 11, 30)
    assert last_closed_month_end(D(2026, 11, 30)) == D(2026, 11, 30)
    assert last_closed_month_end(D(2024, 3, 1)) == D(2024, 2, 29)


START = D(2026, 1, 1)
offsets = st.integers(min_value=0, max_value=200)
histories = st.lists(
    st.tuples(offsets.map(lambda n: START + dt.timedelta(days=n)), st.integers(0, 10**10)),
    max_size=8,
)
rates = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("0.01"), places=6).map(FeeRate.per_day),
    st.decimals(min_value=0, max_value=Decimal("0.36"), places=4).map(
        lambda r: FeeRate.per_year(r, day_count=DayCount.ACTUAL_365)
    ),
    st.decimals(min_value=0, max_value=Decimal("0.36"), places=4).map(
        lambda r: FeeRate.per_year(r, day_count=DayCount.ACTUAL_360)
    ),
)


@settings(max_examples=200, deadline=None)
@given(histories, rates, offsets, offsets, st.lists(offsets, max_size=5), offsets)
def test_splitting_a_period_loses_and_invents_nothing(history, rate, a, b, cuts, grace) -> None:  # type: ignore[no-untyped-def]
    first, last = sorted((START + dt.timedelta(days=a), START + dt.timedelta(days=b)))
    first_day = START + dt.timedelta(days=grace)
    whole = late_fee(history, start=first, end=last, first_day=first_day, rate=rate)
    inner = sorted({first + dt.timedelta(days=c % ((last - first).days + 1)) for c in cuts})
    bounds = [first, *[d for d in inner if d > first], last + dt.timedelta(days=1)]
    pieces = [
        late_fee(history, start=s, end=e - dt.timedelta(days=1), first_day=first_day, rate=rate)
        for s, e in pairwise(bounds)
        if s < e
    ]
    assert sum(p.exact for p in pieces) == whole.exact  # exact: nothing lost, nothing invented
    assert sum(p.days for p in pieces) == whole.days
    assert abs(sum(p.amount for p in pieces) - whole.exact) <= Fraction(len(pieces), 2)
    assert abs(sum(p.amount for p in pieces) - whole.amount) <= len(pieces)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**10), st.integers(0, 10**10), rates, offsets)
def test_splitting_the_balance_loses_and_invents_nothing(x, y, rate, days) -> None:  # type: ignore[no-untyped-def]
    def fee(balance: int):  # type: ignore[no-untyped-def]
        return late_fee(
            [(START, balance)],
            start=START + dt.timedelta(days=1),
            end=START + dt.timedelta(days=days),
            first_day=START,
            rate=rate,
        )

    assert fee(x).exact + fee(y).exact == fee(x + y).exact
    assert abs(fee(x).amount + fee(y).amount - fee(x + y).amount) <= 1


@settings(max_examples=200, deadline=None)
@given(histories, rates, offsets, offsets)
def test_zero_rate_and_monotone_in_days(history, rate, a, b) -> None:  # type: ignore[no-untyped-def]
    kw = {"start": START, "first_day": START}
    shorter, longer = sorted((a, b))
    short = late_fee(history, end=START + dt.timedelta(days=shorter), rate=rate, **kw)  # type: ignore[arg-type]
    long = late_fee(history, end=START + dt.timedelta(days=longer), rate=rate, **kw)  # type: ignore[arg-type]
    assert 0 <= short.amount <= long.amount
    assert short.exact <= long.exact
    zero = late_fee(history, end=START + dt.timedelta(days=longer), rate=FeeRate.per_day("0"), **kw)  # type: ignore[arg-type]
    assert zero.amount == 0 and zero.exact == 0


def test_estimated_fee_is_simple_interest_on_the_open_amount_after_grace() -> None:
    rate = FeeRate.per_day("0.0005")  # 0.05% a day
    assert estimated_fee(100_000_00, 30, rate=rate, grace_days=0) == 1_500_00
    assert estimated_fee(100_000_00, 30, rate=rate, grace_days=10) == 1_000_00
    assert estimated_fee(100_000_00, 5, rate=rate, grace_days=10) == 0
    assert estimated_fee(333, 1, rate=rate, grace_days=0) == 0  # 0.1665 fen → 0
    assert estimated_fee(1_001, 1, rate=rate, grace_days=0) == 1  # 0.5005 fen → 1


def test_estimated_fee_at_an_annual_rate_uses_the_day_count() -> None:
    # 18.25% a year on ¥100,000.00 for 10 days: actual/365 → exactly 0.05% a day → ¥500.00;
    # actual/360 → 100,000.00 × 0.1825 × 10 / 360 = ¥506.94 (506.944… rounded half up).
    yearly = FeeRate.per_year("0.1825")
    bank = FeeRate.per_year("0.1825", day_count=DayCount.ACTUAL_360)
    assert estimated_fee(100_000_00, 10, rate=yearly, grace_days=0) == 500_00
    assert estimated_fee(100_000_00, 10, rate=bank, grace_days=0) == 506_94


@given(
    st.integers(1, 10**12),
    st.integers(1, 10**12),
    st.integers(0, 3650),
    st.decimals(min_value=0, max_value=Decimal("0.01"), places=6),
)
def test_estimated_fee_on_split_invoices_differs_from_the_whole_by_under_one_fen(
    a: int, b: int, days: int, value: Decimal
) -> None:
    rate = FeeRate.per_day(value)
    whole = estimated_fee(a + b, days, rate=rate, grace_days=0)
    parts = estimated_fee(a, days, rate=rate, grace_days=0) + estimated_fee(
        b, days, rate=rate, grace_days=0
    )
    assert abs(whole - parts) <= 1
    assert whole >= 0
    assert estimated_fee(a + b, days + 1, rate=rate, grace_days=0) >= whole
