"""The statement of account as pure rules: order of lines, running balances, closing balance,
and periods that join up (one statement's closing is the next one's opening)."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.reconciliation.statement_rules import (
    AgingBucket,
    LateFeeLine,
    LineKind,
    Movement,
    Party,
    StatementLine,
    compose_statement,
    in_period,
    opening_balance,
    statement_lines,
)

D = dt.date
PARTY = Party("示例贸易有限公司", "C001", "华东建材有限公司", "CNY")


def test_the_worked_example_of_the_module() -> None:
    movements = [
        Movement(D(2026, 1, 20), LineKind.INVOICE, "INV-1", debit=1_000_00, document_id=1),
        Movement(D(2026, 3, 20), LineKind.REVERSAL, "BANK-77", debit=800_00, document_id=7),
        Movement(D(2026, 3, 10), LineKind.PAYMENT, "BANK-77", credit=800_00, document_id=7),
        Movement(D(2026, 3, 5), LineKind.CREDIT_NOTE, "CN-1", credit=100_00, document_id=1),
        Movement(D(2026, 3, 5), LineKind.INVOICE, "INV-2", debit=500_00, document_id=2),
    ]
    start, end = D(2026, 3, 1), D(2026, 3, 31)
    statement = compose_statement(
        PARTY,
        start=start,
        end=end,
        opening=opening_balance(movements, start),
        movements=in_period(movements, start, end),
    )
    assert statement.opening == 1_000_00
    assert statement.lines == (
        StatementLine(D(2026, 3, 5), LineKind.INVOICE, "INV-2", 500_00, 0, 1_500_00),
        StatementLine(D(2026, 3, 5), LineKind.CREDIT_NOTE, "CN-1", 0, 100_00, 1_400_00),
        StatementLine(D(2026, 3, 10), LineKind.PAYMENT, "BANK-77", 0, 800_00, 600_00),
        StatementLine(D(2026, 3, 20), LineKind.REVERSAL, "BANK-77", 800_00, 0, 1_400_00),
    )
    assert (statement.total_debit, statement.total_credit) == (1_300_00, 900_00)
    assert statement.closing == 1_400_00


def test_on_one_day_invoices_come_first_then_credit_notes_payments_and_reversals() -> None:
    day = D(2026, 5, 8)
    movements = [
        Movement(day, LineKind.REVERSAL, "B-1", debit=30_00, document_id=4),
        Movement(day, LineKind.PAYMENT, "", credit=20_00, document_id=9),
        Movement(day, LineKind.PAYMENT, "", credit=10_00, document_id=3),
        Movement(day, LineKind.PAYMENT, "B-1", credit=30_00, document_id=4),
        Movement(day, LineKind.CREDIT_NOTE, "CN-2", credit=5_00),
        Movement(day, LineKind.INVOICE, "INV-9", debit=100_00),
        Movement(day, LineKind.INVOICE, "INV-10", debit=100_00),
    ]
    lines = statement_lines(0, movements)
    assert [(line.kind, line.reference, line.balance) for line in lines] == [
        (LineKind.INVOICE, "INV-10", 100_00),
        (LineKind.INVOICE, "INV-9", 200_00),
        (LineKind.CREDIT_NOTE, "CN-2", 195_00),
        (LineKind.PAYMENT, "", 185_00),  # entered first (id 3)
        (LineKind.PAYMENT, "", 165_00),
        (LineKind.PAYMENT, "B-1", 135_00),
        (LineKind.REVERSAL, "B-1", 165_00),
    ]


def test_unapplied_money_shows_as_a_negative_aging_line_and_late_fees_apart() -> None:
    fee = LateFeeLine(
        "INV-1", D(2026, 3, 1), D(2026, 3, 31), 31, 70_000_00, "0.0005/day", 605_00, 5_00
    )
    statement = compose_statement(
        PARTY,
        start=D(2026, 3, 1),
        end=D(2026, 3, 31),
        opening=1_000_00,
        movements=[Movement(D(2026, 3, 9), LineKind.PAYMENT, "B", credit=1_200_00)],
        aging=[AgingBucket("current", 0), AgingBucket("1-30", 1_000_00)],
        unapplied=1_200_00,
        late_fees=[fee],
    )
    assert statement.closing == -200_00  # the customer paid more than they owed
    assert statement.aging_total == statement.closing
    assert statement.late_fee_total == 600_00  # charged less waived, not in the balance


def test_a_movement_outside_the_period_is_refused() -> None:
    outside = Movement(D(2026, 4, 1), LineKind.INVOICE, "INV-1", debit=1)
    with pytest.raises(ValueError, match="outside the period"):
        compose_statement(
            PARTY, start=D(2026, 3, 1), end=D(2026, 3, 31), opening=0, movements=[outside]
        )
    with pytest.raises(ValueError, match="ends before it starts"):
        compose_statement(PARTY, start=D(2026, 3, 2), end=D(2026, 3, 1), opening=0, movements=[])


amounts = st.integers(1, 10**12)
movement = st.builds(
    lambda on, kind, ref, amount, ident: Movement(
        on,
        kind,
        ref,
        debit=amount if kind in (LineKind.INVOICE, LineKind.REVERSAL) else 0,
        credit=0 if kind in (LineKind.INVOICE, LineKind.REVERSAL) else amount,
        document_id=ident,
    ),
    st.dates(D(2025, 1, 1), D(2026, 12, 31)),
    st.sampled_from(LineKind),
    st.sampled_from(["", "A-1", "A-2", "B"]),
    amounts,
    st.integers(1, 10**6),
)
movements = st.lists(movement, max_size=40)
periods = st.tuples(st.dates(D(2025, 1, 1), D(2026, 12, 31)), st.integers(0, 700)).map(
    lambda p: (p[0], p[0] + dt.timedelta(days=p[1]))
)


def whole(found: list[Movement], start: dt.date, end: dt.date):  # type: ignore[no-untyped-def]
    return compose_statement(
        PARTY,
        start=start,
        end=end,
        opening=opening_balance(found, start),
        movements=in_period(found, start, end),
    )


@given(movements, periods)
def test_closing_is_opening_plus_debits_less_credits_and_the_last_balance(found, period) -> None:  # type: ignore[no-untyped-def]
    start, end = period
    statement = whole(found, start, end)
    inside = in_period(found, start, end)
    debits = sum(m.debit for m in inside)
    credits = sum(m.credit for m in inside)
    assert statement.closing == statement.opening + debits - credits
    assert statement.closing == opening_balance(found, end + dt.timedelta(days=1))
    last = statement.lines[-1].balance if statement.lines else statement.opening
    assert last == statement.closing
    assert len(statement.lines) == len(inside)
    assert [line.on for line in statement.lines] == sorted(line.on for line in statement.lines)


@given(movements, periods, st.integers(0, 700))
def test_a_period_split_in_two_joins_up(found, period, cut) -> None:  # type: ignore[no-untyped-def]
    start, end = period
    middle = min(start + dt.timedelta(days=cut), end)
    first = whole(found, start, middle)
    if middle == end:
        assert first == whole(found, start, end)
        return
    second = whole(found, middle + dt.timedelta(days=1), end)
    entire = whole(found, start, end)
    assert second.opening == first.closing
    assert first.lines + second.lines == entire.lines
    assert second.closing == entire.closing
