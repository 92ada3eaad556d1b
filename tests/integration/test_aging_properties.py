"""Property: for any ledger hypothesis can invent, SQL aging on any date equals the rules applied
invoice by invoice, and the buckets add up to the total. Runs on an in-memory SQLite database."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from huikuan.core.company import create_company
from huikuan.core.db import make_engine, session_factory
from huikuan.customers.service import create_customer
from huikuan.ledger import rules, service
from huikuan.ledger.aging import aging_report
from huikuan.ledger.models import Allocation, Invoice
from huikuan.models import metadata
from tests.actors import ACTOR

START = dt.date(2024, 1, 1)
day = st.integers(0, 400).map(lambda n: START + dt.timedelta(days=n))
invoices = st.lists(
    st.tuples(st.integers(0, 2), day, st.integers(0, 120), st.integers(1, 10**9)),
    min_size=1,
    max_size=12,
)
payments = st.lists(
    st.tuples(
        st.integers(0, 2), day, st.integers(1, 2 * 10**9), st.one_of(st.none(), st.integers(0, 60))
    ),
    max_size=10,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invoices, payments, st.lists(day, min_size=1, max_size=4))
def test_sql_aging_equals_the_rules_on_every_date(invoice_specs, payment_specs, dates) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    with session_factory(engine)() as session:
        company = create_company(session, code="p", name="性质测试")
        customers = [
            create_customer(
                session, actor=ACTOR, company_id=company.id, code=f"C{i}", name=f"客户{i}"
            )
            for i in range(3)
        ]
        for n, (who, issued, terms, amount) in enumerate(invoice_specs):
            service.record_invoice(
                session, actor=ACTOR, company_id=company.id, customer=customers[who], number=f"I{n}",
                issue_date=issued, due_date=issued + dt.timedelta(days=terms), amount=amount,
            )  # fmt: skip
        for who, received, amount, reversal in payment_specs:
            payment = service.record_payment(
                session,
                actor=ACTOR,
                company_id=company.id,
                customer=customers[who],
                received_on=received,
                amount=amount,
            )
            if reversal is not None:
                service.reverse_payment(
                    session, actor=ACTOR, company_id=company.id, payment_id=payment.id,
                    reversed_on=received + dt.timedelta(days=reversal),
                )  # fmt: skip
        session.commit()
        assert service.ledger_discrepancies(session, company_id=company.id) == []
        live = defaultdict(list)
        for a in session.scalars(select(Allocation)):
            live[a.invoice_id].append(
                rules.DatedAllocation(a.amount, a.effective_on, a.reversed_on)
            )
        all_invoices = list(session.scalars(select(Invoice)))
        codes = {c.id: c.code for c in customers}
        buckets = rules.aging_buckets()
        # Add the days money moved: that is where an off-by-one in the SQL would show.
        moved = {
            d
            for a in session.scalars(select(Allocation))
            for d in (a.effective_on, a.reversed_on)
            if d
        }
        for as_of in sorted(set(dates) | moved):
            expected: dict[str, dict[str, int]] = defaultdict(lambda: {b.name: 0 for b in buckets})
            for inv in all_invoices:
                balance = rules.open_balance(inv.amount, inv.issue_date, live[inv.id], as_of)
                if balance:
                    bucket = rules.bucket_for(rules.days_overdue(inv.due_date, as_of), buckets)
                    expected[codes[inv.customer_id]][bucket.name] += balance
            report = aging_report(session, company_id=company.id, as_of=as_of, with_dso=False)
            assert {r.key: r.buckets for r in report.rows} == dict(expected)
            assert report.total == sum(report.bucket_totals.values())
    engine.dispose()
