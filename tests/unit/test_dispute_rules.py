"""Dispute rules without a database: the contract's window counted from the issue date, the
amount that may be disputed, and the ageing buckets."""

from __future__ import annotations

import datetime as dt

import pytest

from huikuan.collections import dispute_rules as rules

D = dt.date
OLD = rules.ContractTerms(D(2024, 1, 1), D(2025, 12, 31), 30)
NEW = rules.ContractTerms(D(2026, 1, 1), None, 15)


def test_the_window_is_the_contract_in_force_on_the_issue_date_in_calendar_days() -> None:
    # Issued 2026-03-01 under the new contract: 15 days, the issue day being day 0.
    assert rules.check_window(D(2026, 3, 1), D(2026, 3, 16), [OLD, NEW]) == rules.WindowCheck(
        D(2026, 3, 16), True
    )
    assert rules.check_window(D(2026, 3, 1), D(2026, 3, 17), [OLD, NEW]) == rules.WindowCheck(
        D(2026, 3, 16), False
    )
    # Issued under the old contract (30 days), raised after the new one was signed.
    assert rules.check_window(D(2025, 12, 20), D(2026, 1, 10), [OLD, NEW]) == rules.WindowCheck(
        D(2026, 1, 19), True
    )


def test_no_contract_in_force_means_no_window() -> None:
    assert rules.check_window(D(2023, 6, 1), D(2023, 6, 2), [OLD, NEW]) == rules.WindowCheck(
        None, None
    )
    assert rules.check_window(D(2026, 6, 1), D(2026, 6, 2), []) == rules.WindowCheck(None, None)


def test_the_latest_signed_contract_wins_when_two_overlap() -> None:
    overlapping = rules.ContractTerms(D(2026, 2, 1), None, 7)
    assert rules.contract_in_force([NEW, overlapping], D(2026, 3, 1)) == overlapping
    assert rules.contract_in_force([NEW, overlapping], D(2026, 1, 20)) == NEW


def test_at_most_the_open_amount_less_other_open_disputes_may_be_disputed() -> None:
    assert rules.disputable(10_000, 2_500) == 7_500
    assert rules.disputable(1_000, 2_500) == 0
    assert rules.amount_problem(7_500, 10_000, 2_500) is None
    assert "7500" in (rules.amount_problem(7_501, 10_000, 2_500) or "")
    assert rules.amount_problem(0, 10_000, 0) is not None


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"),
     (91, "90+"), (400, "90+")],
)  # fmt: skip
def test_ageing_buckets(days: int, bucket: str) -> None:
    assert rules.ageing_bucket(days) == bucket
    as_of = D(2026, 12, 2)
    raised = as_of - dt.timedelta(days=days)
    inside = [
        name
        for name, earliest, latest in rules.raised_bounds(as_of)
        if (earliest is None or raised >= earliest) and raised <= latest
    ]
    assert inside == [bucket]
