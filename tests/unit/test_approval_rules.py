"""Order approval rules: every reason, the limit to the fen, line rounding, quantities."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.credit.approval import (
    Reason,
    ReasonCode,
    approval_reasons,
    exposure,
    line_amount,
    order_remainder,
    parse_quantity,
)

FEN = st.integers(min_value=0, max_value=10**13)


def reasons(**overrides: Any) -> list[Reason]:
    facts: dict[str, Any] = {
        "order_amount": 10_000_00,
        "exposure_before": 0,
        "limit": 100_000_00,
        "group": None,
        "oldest_overdue_days": None,
        "max_days_overdue": 30,
        "holds": (),
        "blacklisted": False,
        "prepayment_required": False,
    }
    return approval_reasons(**{**facts, **overrides})


def codes(**overrides: Any) -> list[ReasonCode]:
    return [r.code for r in reasons(**overrides)]


def test_an_order_within_the_limit_with_nothing_against_it_passes() -> None:
    assert reasons() == []


def test_exposure_plus_order_exactly_at_the_limit_passes() -> None:
    assert codes(exposure_before=90_000_00, order_amount=10_000_00) == []


def test_one_fen_over_the_limit_waits_and_says_by_how_much() -> None:
    [reason] = reasons(exposure_before=90_000_00, order_amount=10_000_01)
    assert reason.code is ReasonCode.OVER_LIMIT
    assert dict(reason.amounts) == {
        "exposure": 90_000_00,
        "order": 10_000_01,
        "limit": 100_000_00,
        "excess": 1,
    }
    for figure in ("¥90,000.00", "¥10,000.01", "¥100,000.00", "¥0.01"):
        assert figure in reason.message
    assert " / " in reason.message


def test_a_customer_without_a_limit_waits() -> None:
    assert codes(limit=None) == [ReasonCode.NO_LIMIT]


def test_a_zero_limit_refuses_any_credit() -> None:
    assert codes(limit=0, order_amount=1) == [ReasonCode.OVER_LIMIT]


def test_the_group_limit_is_checked_on_the_group_exposure() -> None:
    assert codes(group=(40_000_00, 50_000_00), order_amount=10_000_00) == []
    [reason] = reasons(group=(40_000_00, 50_000_00), order_amount=10_000_01)
    assert reason.code is ReasonCode.OVER_GROUP_LIMIT
    assert dict(reason.amounts)["excess"] == 1
    assert "集团" in reason.message and "group" in reason.message


def test_overdue_counts_only_beyond_the_policy_days() -> None:
    assert codes(oldest_overdue_days=30) == []
    [reason] = reasons(oldest_overdue_days=31)
    assert reason.code is ReasonCode.OVERDUE
    assert dict(reason.amounts) == {"days_overdue": 31, "max_days_overdue": 30}
    assert codes(oldest_overdue_days=5, max_days_overdue=0) == [ReasonCode.OVERDUE]


def test_holds_blacklist_and_prepayment_each_make_the_order_wait() -> None:
    assert codes(holds=["supply_stop"]) == [ReasonCode.ON_HOLD]
    assert codes(blacklisted=True) == [ReasonCode.BLACKLISTED]
    assert codes(prepayment_required=True) == [ReasonCode.PREPAYMENT_REQUIRED]


def test_every_reason_is_listed_at_once_in_a_fixed_order() -> None:
    found = codes(
        blacklisted=True,
        holds=["credit_hold", "supply_stop"],
        exposure_before=100_000_00,
        group=(0, 1),
        oldest_overdue_days=90,
        prepayment_required=True,
    )
    # no_limit and over_limit exclude each other: without a limit nothing can be over it.
    assert found == [code for code in ReasonCode if code is not ReasonCode.NO_LIMIT]


def test_reasons_survive_a_round_trip_through_json() -> None:
    for reason in reasons(blacklisted=True, exposure_before=100_000_00, oldest_overdue_days=99):
        assert Reason.from_json(reason.to_json()) == reason


@given(before=FEN, smaller=FEN, extra=FEN, limit=FEN)
def test_a_larger_order_never_passes_where_a_smaller_one_failed(
    before: int, smaller: int, extra: int, limit: int
) -> None:
    if ReasonCode.OVER_LIMIT in codes(exposure_before=before, order_amount=smaller, limit=limit):
        larger = codes(exposure_before=before, order_amount=smaller + extra, limit=limit)
        assert ReasonCode.OVER_LIMIT in larger


@given(before=FEN, order=FEN)
def test_the_limit_is_inclusive_to_the_fen(before: int, order: int) -> None:
    limit = before + order
    assert codes(exposure_before=before, order_amount=order, limit=limit) == []
    assert codes(exposure_before=before, order_amount=order + 1, limit=limit) == [
        ReasonCode.OVER_LIMIT
    ]


@pytest.mark.parametrize(
    ("quantity_milli", "unit_price", "expected"),
    [
        (1000, 12345, 12345),  # one unit
        (2500, 1000, 2500),  # 2.5 units at ¥10.00
        (1500, 3, 5),  # 4.5 fen rounds up
        (1005, 1, 1),  # 1.005 fen rounds down
        (1, 499, 0),  # 0.499 fen
        (1, 500, 1),  # exactly half a fen rounds up
        (0, 999, 0),
        (-1500, 3, -5),  # half away from zero for returns
    ],
)
def test_line_amounts_round_half_up_to_the_fen(
    quantity_milli: int, unit_price: int, expected: int
) -> None:
    assert line_amount(quantity_milli, unit_price) == expected


@given(q=st.integers(0, 10**9), p=st.integers(0, 10**9))
def test_a_line_amount_is_within_half_a_fen_of_the_exact_product(q: int, p: int) -> None:
    assert abs(line_amount(q, p) * 1000 - q * p) <= 500


def test_exposure_adds_receivables_and_uninvoiced_remainders() -> None:
    assert order_remainder(10_000, 4_000) == 6_000
    assert order_remainder(10_000, 10_000) == 0
    assert exposure(5_000, [6_000, 1]) == 11_001


@pytest.mark.parametrize(
    ("text", "milli"), [("2.5", 2500), ("1,000", 1_000_000), ("３", 3000), ("0.001", 1)]
)
def test_quantities_are_read_in_thousandths(text: str, milli: int) -> None:
    assert parse_quantity(text) == milli


@pytest.mark.parametrize("text", ["0.0001", "0", "-1", "abc", "", "NaN", "Infinity"])
def test_bad_quantities_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=" / "):
        parse_quantity(text)
