"""Aging in SQL agrees, to the fen, with the ledger rules applied invoice by invoice."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.ledger import rules, service
from huikuan.ledger.aging import AgingBy, aging_report
from huikuan.ledger.models import Allocation, Invoice
from tests.actors import ACTOR

from .ledger_builders import customer, invoice

D = dt.date
TYPES = ["project", "dealer", "industrial", "retail_chain", "other"]


def random_ledger(session: Session, company: Company, seed: int) -> None:
    """Customers with invoices, partial payments, overpayments, credit notes and reversals,
    entered in random order with dates spread over two years."""
    rng = random.Random(seed)
    customers = [
        customer(
            session,
            company,
            f"C{i:03d}",
            f"客户{i}",
            customer_type=rng.choice(TYPES),
            salesperson=rng.choice(["", "王强", "李娜"]),
            collector=rng.choice(["张伟", "刘洋"]),
        )
        for i in range(8)
    ]
    start = D(2023, 1, 1)
    for n in range(60):
        cust = rng.choice(customers)
        issued = start + dt.timedelta(days=rng.randrange(700))
        invoice(
            session,
            company,
            cust,
            f"INV-{n:04d}",
            issued,
            rng.randrange(1, 5_000_000),
            terms=rng.choice([0, 30, 60, 90]),
        )
    for _ in range(45):
        cust = rng.choice(customers)
        received = start + dt.timedelta(days=rng.randrange(760))
        payment = service.record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=cust,
            received_on=received,
            amount=rng.randrange(1, 6_000_000),
        )
        if rng.random() < 0.15:
            later = received + dt.timedelta(days=rng.randrange(0, 40))
            service.reverse_payment(
                session,
                actor=ACTOR,
                company_id=company.id,
                payment_id=payment.id,
                reversed_on=later,
            )
    for n in range(10):
        cust = rng.choice(customers)
        service.record_credit_note(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=cust,
            number=f"CN-{n}",
            issued_on=start + dt.timedelta(days=rng.randrange(760)),
            amount=rng.randrange(1, 500_000),
        )
    session.commit()


def reference_aging(
    session: Session, company: Company, as_of: dt.date, by: str
) -> dict[str, dict[str, int]]:
    """The same report computed the slow, obvious way: every invoice through rules.open_balance."""
    buckets = rules.aging_buckets()
    allocations = defaultdict(list)
    for a in session.scalars(select(Allocation)):
        allocations[a.invoice_id].append(
            rules.DatedAllocation(a.amount, a.effective_on, a.reversed_on)
        )
    result: dict[str, dict[str, int]] = defaultdict(lambda: {b.name: 0 for b in buckets})
    for inv, cust in session.execute(
        select(Invoice, Customer).join(Customer, Customer.id == Invoice.customer_id)
    ):
        if inv.status == "void":
            continue
        balance = rules.open_balance(inv.amount, inv.issue_date, allocations[inv.id], as_of)
        if balance:
            key = cust.code if by == "customer" else getattr(cust, by)
            name = rules.bucket_for(rules.days_overdue(inv.due_date, as_of), buckets).name
            result[key][name] += balance
    return {k: v for k, v in result.items() if sum(v.values())}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_aging_on_any_date_matches_the_ledger_rules(
    session: Session, company: Company, seed: int
) -> None:
    random_ledger(session, company, seed)
    dates = {D(2022, 12, 31), D(2023, 9, 15), D(2026, 1, 1)}
    # The days money moved, and the day before each, are where an off-by-one would show.
    for a in session.scalars(select(Allocation)):
        for day in (a.effective_on, a.reversed_on):
            if day is not None:
                dates |= {day, day - dt.timedelta(days=1)}
    for as_of in sorted(dates):
        for by in AgingBy:
            report = aging_report(session, company_id=company.id, as_of=as_of, by=by)
            got = {row.key: row.buckets for row in report.rows}
            assert got == reference_aging(session, company, as_of, by.value), (as_of, by)
            assert report.total == sum(report.bucket_totals.values())
            for row in report.rows:
                assert row.total == sum(row.buckets.values())


def test_today_uses_kept_open_amounts_and_history_uses_allocations(
    session: Session, company: Company
) -> None:
    random_ledger(session, company, 4)
    assert (
        aging_report(session, company_id=company.id, as_of=D(2026, 1, 1)).exact_from
        == "open_amount"
    )
    assert (
        aging_report(session, company_id=company.id, as_of=D(2024, 1, 1)).exact_from
        == "allocations"
    )


def test_a_payment_dated_after_the_day_does_not_count(session: Session, company: Company) -> None:
    cust = customer(session, company)
    invoice(session, company, cust, "INV-1", D(2024, 1, 1), 100000, terms=30)
    service.record_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=cust,
        received_on=D(2024, 3, 15),
        amount=40000,
    )
    session.commit()
    before = aging_report(session, company_id=company.id, as_of=D(2024, 3, 14))
    after = aging_report(session, company_id=company.id, as_of=D(2024, 3, 15))
    assert before.rows[0].buckets["31-60"] == 100000  # due 01-31, 43 days late
    assert after.rows[0].buckets["31-60"] == 60000
    assert aging_report(session, company_id=company.id, as_of=D(2023, 12, 31)).rows == []


def test_custom_buckets_and_an_invoice_due_today_is_current(
    session: Session, company: Company
) -> None:
    cust = customer(session, company)
    invoice(session, company, cust, "INV-1", D(2024, 1, 1), 12345, terms=0)
    invoice(session, company, cust, "INV-2", D(2023, 12, 1), 67890, terms=0)
    session.commit()
    report = aging_report(session, company_id=company.id, as_of=D(2024, 1, 1), limits=(15, 45))
    assert report.bucket_names == ("current", "1-15", "16-45", "46+")
    assert report.rows[0].buckets == {"current": 12345, "1-15": 0, "16-45": 67890, "46+": 0}


def test_grouping_by_salesperson_names_the_unassigned(session: Session, company: Company) -> None:
    a = customer(session, company, "C1", "甲公司", salesperson="王强")
    b = customer(session, company, "C2", "乙公司")
    invoice(session, company, a, "INV-1", D(2024, 1, 1), 100)
    invoice(session, company, b, "INV-2", D(2024, 1, 1), 250)
    session.commit()
    report = aging_report(
        session, company_id=company.id, as_of=D(2024, 1, 2), by=AgingBy.SALESPERSON
    )
    assert [(r.key, r.name, r.total) for r in report.rows] == [
        ("", "（未分配）", 250),
        ("王强", "王强", 100),
    ]


def test_another_company_never_appears(session: Session, company: Company) -> None:
    from huikuan.core.company import create_company

    other = create_company(session, code="other", name="别家公司")
    cust = customer(session, other, "C1", "别家客户")
    invoice(session, other, cust, "INV-1", D(2024, 1, 1), 999)
    session.commit()
    assert aging_report(session, company_id=company.id, as_of=D(2024, 6, 1)).rows == []
    assert aging_report(session, company_id=other.id, as_of=D(2024, 6, 1)).total == 999


def test_dso_counts_back_through_monthly_sales(session: Session, company: Company) -> None:
    cust = customer(session, company)
    invoice(session, company, cust, "INV-1", D(2024, 3, 10), 100000)
    invoice(session, company, cust, "INV-2", D(2024, 4, 10), 100000)
    service.record_payment(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=cust,
        received_on=D(2024, 4, 20),
        amount=50000,
    )
    session.commit()
    report = aging_report(session, company_id=company.id, as_of=D(2024, 4, 30))
    # 150,000 owed: April's 100,000 covers 30 days, then half of March's sales: 31 × 0.5.
    assert report.total == 150000
    assert report.dso_days == 45.5


def test_the_dso_trend_agrees_with_the_aging_at_every_month_end(
    session: Session, company: Company
) -> None:
    random_ledger(session, company, 5)
    from huikuan.ledger.aging import dso_trend

    trend = dso_trend(session, company_id=company.id, as_of=D(2024, 12, 15), currency="CNY")
    assert [p.month_end for p in trend][:2] == [D(2024, 1, 31), D(2024, 2, 29)]
    assert trend[-1].month_end == D(2024, 12, 15)
    for point in trend:
        report = aging_report(session, company_id=company.id, as_of=point.month_end)
        assert point.receivables == report.total, point.month_end
        assert point.dso_days == report.dso_days, point.month_end


def test_the_most_overdue_view_keeps_the_full_totals(session: Session, company: Company) -> None:
    random_ledger(session, company, 6)
    full = aging_report(session, company_id=company.id, as_of=D(2024, 12, 31))
    top = aging_report(session, company_id=company.id, as_of=D(2024, 12, 31), most_overdue=3)
    overdue = sorted((r.total - r.buckets["current"] for r in full.rows), reverse=True)
    assert [r.total - r.buckets["current"] for r in top.rows] == [o for o in overdue if o > 0][:3]
    assert (top.total, top.bucket_totals, top.row_count) == (
        full.total,
        full.bucket_totals,
        len(full.rows),
    )
    past = aging_report(session, company_id=company.id, as_of=D(2024, 3, 31), most_overdue=2)
    assert past.total == aging_report(session, company_id=company.id, as_of=D(2024, 3, 31)).total


@pytest.mark.parametrize("seed", [7, 8])
def test_day_totals_stay_in_step_with_every_change(
    session: Session, company: Company, seed: int
) -> None:
    from huikuan.ledger import daily_totals
    from tests.actors import ACTOR

    random_ledger(session, company, seed)
    extra = customer(session, company, "V1", "作废测试")
    invoice(session, company, extra, "VOID-1", D(2024, 5, 5), 777)
    service.void_invoice(session, actor=ACTOR, company_id=company.id, number="VOID-1")
    session.commit()
    assert daily_totals.stored_totals(session, company.id) == daily_totals.computed_totals(
        session, company.id
    )
