"""Pure ledger rules: allocation, open balances on a date, aging buckets, DSO."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.ledger import rules
from huikuan.ledger.rules import Application, DatedAllocation, OpenItem, OverAllocation

D = dt.date


def item(invoice_id: int, due: dt.date, amount: int, number: str | None = None) -> OpenItem:
    return OpenItem(
        invoice_id, number or f"INV-{invoice_id}", due - dt.timedelta(days=30), due, amount
    )


def test_a_payment_pays_the_oldest_invoice_first_and_keeps_the_rest_as_credit() -> None:
    items = [item(2, D(2024, 4, 1), 50000), item(1, D(2024, 3, 1), 30000)]
    plan = rules.allocate_oldest_first(90000, items)
    assert plan.applications == (Application(1, 30000), Application(2, 50000))
    assert plan.unapplied == 10000


def test_a_partial_payment_leaves_the_newer_invoice_partly_open() -> None:
    items = [item(1, D(2024, 3, 1), 30000), item(2, D(2024, 4, 1), 50000)]
    plan = rules.allocate_oldest_first(60000, items)
    assert plan.applications == (Application(1, 30000), Application(2, 30000))
    assert plan.unapplied == 0


def test_named_invoices_are_paid_in_the_order_the_customer_gave() -> None:
    items = [item(2, D(2024, 4, 1), 50000), item(1, D(2024, 3, 1), 30000)]
    plan = rules.allocate_to_named(60000, items)
    assert plan.applications == (Application(2, 50000), Application(1, 10000))


def test_an_allocation_above_the_open_balance_is_refused() -> None:
    items = [item(1, D(2024, 3, 1), 30000)]
    with pytest.raises(OverAllocation, match="exceeds its open balance"):
        rules.allocate_to_named(50000, items, [Application(1, 30001)])


def test_allocations_above_the_payment_are_refused() -> None:
    items = [item(1, D(2024, 3, 1), 30000), item(2, D(2024, 4, 1), 30000)]
    with pytest.raises(OverAllocation, match="exceed the payment"):
        rules.allocate_to_named(50000, items, [Application(1, 30000), Application(2, 30000)])


open_items = st.lists(
    st.tuples(st.dates(D(2020, 1, 1), D(2026, 12, 31)), st.integers(1, 10**9)),
    max_size=30,
).map(lambda rows: [item(i + 1, due, amount) for i, (due, amount) in enumerate(rows)])


@given(st.integers(0, 10**10), open_items)
def test_allocation_conserves_every_fen_and_never_overpays_an_invoice(amount, items) -> None:  # type: ignore[no-untyped-def]
    plan = rules.allocate_oldest_first(amount, items)
    assert plan.applied + plan.unapplied == amount
    open_by_id = {i.invoice_id: i.open_amount for i in items}
    for application in plan.applications:
        assert 0 < application.amount <= open_by_id[application.invoice_id]
    assert plan.unapplied == max(0, amount - sum(open_by_id.values()))


@given(st.integers(0, 10**10), open_items)
def test_no_newer_invoice_is_paid_while_an_older_one_stays_open(amount, items) -> None:  # type: ignore[no-untyped-def]
    plan = rules.allocate_oldest_first(amount, items)
    paid = {a.invoice_id: a.amount for a in plan.applications}
    ordered = rules.oldest_first(items)
    fully_paid = [paid.get(i.invoice_id, 0) == i.open_amount for i in ordered]
    touched = [i.invoice_id in paid for i in ordered]
    # Once an invoice is not fully paid, no later one receives anything.
    for k, full in enumerate(fully_paid):
        if not full:
            assert not any(touched[k + 1 :])
            break


@given(st.integers(0, 10**10), open_items, st.data())
def test_named_allocation_with_amounts_conserves_money(amount, items, data) -> None:  # type: ignore[no-untyped-def]
    requested = [Application(i.invoice_id, data.draw(st.integers(1, i.open_amount))) for i in items]
    total = sum(a.amount for a in requested)
    if total > amount:
        with pytest.raises(OverAllocation):
            rules.allocate_to_named(amount, items, requested)
    else:
        plan = rules.allocate_to_named(amount, items, requested)
        assert plan.unapplied == amount - total


def test_open_balance_ignores_money_dated_after_the_day() -> None:
    allocations = [
        DatedAllocation(30000, D(2024, 3, 10)),
        DatedAllocation(20000, D(2024, 4, 10)),
    ]
    assert rules.open_balance(100000, D(2024, 1, 1), allocations, D(2023, 12, 31)) == 0
    assert rules.open_balance(100000, D(2024, 1, 1), allocations, D(2024, 3, 9)) == 100000
    assert rules.open_balance(100000, D(2024, 1, 1), allocations, D(2024, 3, 10)) == 70000
    assert rules.open_balance(100000, D(2024, 1, 1), allocations, D(2024, 4, 30)) == 50000


def test_a_reversed_payment_counts_until_the_reversal_date() -> None:
    allocations = [DatedAllocation(100000, D(2024, 3, 10), reversed_on=D(2024, 3, 20))]
    assert rules.open_balance(100000, D(2024, 1, 1), allocations, D(2024, 3, 15)) == 0
    assert rules.open_balance(100000, D(2024, 1, 1), allocations, D(2024, 3, 20)) == 100000
    assert rules.settled_on(100000, allocations) is None


def test_settled_on_is_the_day_the_last_fen_arrived() -> None:
    allocations = [DatedAllocation(60000, D(2024, 5, 1)), DatedAllocation(40000, D(2024, 3, 1))]
    assert rules.settled_on(100000, allocations) == D(2024, 5, 1)
    assert rules.settled_on(100001, allocations) is None


def test_money_cannot_settle_an_invoice_before_it_exists() -> None:
    assert rules.effective_date(D(2024, 1, 1), D(2024, 2, 1)) == D(2024, 2, 1)
    assert rules.effective_date(D(2024, 3, 1), D(2024, 2, 1)) == D(2024, 3, 1)


@given(
    st.integers(1, 10**9),
    st.lists(
        st.tuples(
            st.integers(1, 10**8),
            st.dates(D(2024, 1, 1), D(2024, 12, 31)),
            st.one_of(st.none(), st.integers(0, 60)),
        ),
        max_size=10,
    ),
    st.dates(D(2023, 12, 1), D(2025, 3, 1)),
)
def test_settled_on_never_hides_a_day_the_invoice_was_open(amount, raw, as_of) -> None:  # type: ignore[no-untyped-def]
    """Historical aging skips invoices settled before the day; that must never skip one open
    on that day."""
    allocations = [
        DatedAllocation(a, eff, None if rev is None else eff + dt.timedelta(days=rev))
        for a, eff, rev in raw
    ]
    live_total = sum(a.amount for a in allocations if a.reversed_on is None)
    if live_total > amount:
        return  # the ledger never allows over-allocation
    settled = rules.settled_on(amount, allocations)
    if settled is not None and settled <= as_of:
        assert rules.open_balance(amount, D(2023, 12, 1), allocations, as_of) == 0


def test_default_buckets_and_their_names() -> None:
    names = [b.name for b in rules.aging_buckets()]
    assert names == ["current", "1-30", "31-60", "61-90", "91-180", "181-365", "366+"]


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-10, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (365, "181-365"),
        (366, "366+"),
    ],
)
def test_bucket_edges(days: int, bucket: str) -> None:
    assert rules.bucket_for(days, rules.aging_buckets()).name == bucket


@pytest.mark.parametrize("text", ["", "30,30", "60,30", "0,30", "a,b", "-5"])
def test_bad_bucket_limits_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        rules.parse_bucket_limits(text)


@given(
    st.lists(st.integers(1, 2000), min_size=1, max_size=8, unique=True).map(sorted),
    st.dates(D(2020, 1, 1), D(2030, 1, 1)),
    st.dates(D(2015, 1, 1), D(2035, 1, 1)),
)
def test_due_date_bounds_agree_with_day_counting(limits, as_of, due) -> None:  # type: ignore[no-untyped-def]
    """SQL buckets by comparing due dates with bounds; that must match counting days."""
    buckets = rules.aging_buckets(limits)
    expected = rules.bucket_for(rules.days_overdue(due, as_of), buckets)
    matching = []
    for bucket in buckets:
        earliest, latest = rules.due_date_bounds(bucket, as_of)
        if (earliest is None or due >= earliest) and (latest is None or due <= latest):
            matching.append(bucket)
    assert matching == [expected]


def test_dso_countback_worked_example() -> None:
    periods = [
        rules.PeriodSales(D(2024, 4, 1), D(2024, 4, 30), 10000),
        rules.PeriodSales(D(2024, 3, 1), D(2024, 3, 31), 10000),
    ]
    assert rules.dso_countback(15000, periods) == 45.5
    assert rules.dso_countback(0, periods) == 0.0
    assert rules.dso_countback(30000, periods) == 61.0
    assert rules.dso_countback(100, []) is None


def test_month_periods_end_on_the_as_of_day() -> None:
    periods = rules.month_periods(D(2024, 3, 15), 3)
    assert periods == [
        (D(2024, 3, 1), D(2024, 3, 15)),
        (D(2024, 2, 1), D(2024, 2, 29)),
        (D(2024, 1, 1), D(2024, 1, 31)),
    ]


def test_bucket_limits_stop_at_a_hundred_years() -> None:
    assert rules.parse_bucket_limits("30,36500")[-1] == 36500
    with pytest.raises(ValueError, match="36500"):
        rules.parse_bucket_limits("30,36501")
