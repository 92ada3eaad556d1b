"""The demo company is realistic, consistent and the same for the same seed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from huikuan.core.models import Company
from huikuan.customers.models import Contact, Customer
from huikuan.customers.service import create_customer
from huikuan.demo.generator import DemoSpec, build_demo
from huikuan.ledger import daily_totals
from huikuan.ledger.aging import aging_report
from huikuan.ledger.models import Allocation, CreditNote, Invoice, Payment
from huikuan.ledger.service import ledger_discrepancies
from tests.actors import ACTOR

AS_OF = dt.date(2026, 6, 30)
SPEC = DemoSpec(as_of=AS_OF, customers=80, years=2, seed=11)


def build(engine: Engine, company: Company, spec: DemoSpec = SPEC) -> None:
    with engine.begin() as conn:
        build_demo(conn, company_id=company.id, spec=spec)


def test_the_demo_ledger_is_consistent_and_covers_every_bucket(
    engine: Engine, session: Session, company: Company
) -> None:
    build(engine, company)
    assert ledger_discrepancies(session, company_id=company.id) == []
    assert daily_totals.stored_totals(session, company.id) == daily_totals.computed_totals(
        session, company.id
    )
    types = set(session.scalars(select(Customer.customer_type).distinct()))
    assert types == {"project", "dealer", "industrial", "retail_chain", "other"}
    report = aging_report(session, company_id=company.id, as_of=AS_OF)
    assert all(amount > 0 for amount in report.bucket_totals.values()), report.bucket_totals
    assert report.total == sum(report.bucket_totals.values())
    # Partial payments, overpayments kept as credit, returns and changed contacts all occur.
    assert session.scalar(
        select(func.count()).where(Invoice.open_amount > 0, Invoice.open_amount < Invoice.amount)
    )
    assert session.scalar(select(func.count()).where(Payment.unapplied_amount > 0))
    assert session.scalar(select(func.count()).select_from(CreditNote))
    assert session.scalar(select(func.count()).where(Contact.valid_to.is_not(None)))
    # Rows added after the demo get fresh ids (PostgreSQL sequences were moved past the demo's).
    added = create_customer(
        session, actor=ACTOR, company_id=company.id, code="NEW-1", name="新客户"
    )
    session.commit()
    assert added.id > session.scalar(select(func.max(Customer.id)).where(Customer.code != "NEW-1"))


def test_no_money_is_applied_before_it_arrived_or_after_the_as_of_date(
    engine: Engine, session: Session, company: Company
) -> None:
    build(engine, company)
    latest = session.scalar(select(func.max(Allocation.effective_on)))
    assert latest is not None and latest <= AS_OF
    early = session.scalar(
        select(func.count())
        .select_from(Allocation)
        .join(Payment, Payment.id == Allocation.payment_id)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(
            (Allocation.effective_on < Payment.received_on)
            | (Allocation.effective_on < Invoice.issue_date)
        )
    )
    assert early == 0


def fingerprint(session: Session) -> list[tuple[object, ...]]:
    return [
        tuple(row)
        for row in session.execute(
            select(Invoice.number, Invoice.amount, Invoice.open_amount, Invoice.due_date).order_by(
                Invoice.number
            )
        )
    ]


def empty_company(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (
            "allocation",
            "credit_note",
            "payment",
            "invoice",
            "sales_order",
            "contract",
            "contact",
            "customer",
        ):
            conn.exec_driver_sql(f"DELETE FROM {table}")


def test_the_same_seed_gives_the_same_company(
    engine: Engine, session: Session, company: Company
) -> None:
    build(engine, company)
    first = fingerprint(session)
    session.close()
    empty_company(engine)
    build(engine, company)
    assert fingerprint(session) == first
    other = DemoSpec(as_of=AS_OF, customers=80, years=2, seed=12)
    empty_company(engine)
    build(engine, company, other)
    assert fingerprint(session) != first


def test_the_demo_command_refuses_to_build_twice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from huikuan.cli import app

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo", "--db", url, "--customers", "20", "--as-of", "2026-06-30"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "20 customers" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "already has 20 customers" in again.output
    quiet = runner.invoke(app, [*args, "--if-empty"])
    assert quiet.exit_code == 0
    assert "demo skipped" in quiet.output


def test_the_demo_command_shows_every_grade_a_held_customer_and_an_order_waiting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What a credit manager looks for on the first day: the whole range of grades, holds, and
    the approvals queue not empty."""
    from typer.testing import CliRunner

    from huikuan.cli import app
    from huikuan.core.db import make_engine
    from huikuan.credit.models import CreditHold, CreditScore
    from huikuan.ledger.models import SalesOrder

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    done = CliRunner().invoke(app, ["demo", "--db", url, "--as-of", "2026-11-20"])
    assert done.exit_code == 0, done.output
    assert "300 assessed and scored, 3 open orders, 2 customers on hold" in done.output
    with Session(make_engine(url)) as session:
        grades = set(session.scalars(select(CreditScore.grade)))
        assert grades == {"AAA", "AA", "A", "BBB", "BB", "B", "C"}
        kinds = {h.kind for h in session.scalars(select(CreditHold))}
        assert kinds == {"supply_stop", "credit_hold"}
        approvals = {
            o.number: o.approval
            for o in session.scalars(select(SalesOrder).where(SalesOrder.status == "open"))
        }
        assert approvals == {
            "SO-DEMO-001": "approved",
            "SO-DEMO-002": "pending",
            "SO-DEMO-003": "pending",
        }
        _the_desk_has_a_history(session)


def _the_desk_has_a_history(session: Session) -> None:
    """What a collector looks for: promises kept, partly kept and broken, the classic excuses
    on the timeline with what they started, a dispute and a plan approved by the credit manager."""
    from huikuan.collections.models import ContactLog, Dispute, FollowUp, PaymentPlan, PromiseToPay
    from huikuan.core.audit import AuditRecord

    statuses = set(session.scalars(select(PromiseToPay.status)))
    assert {"kept", "partly", "broken"} <= statuses
    excuses = set(session.scalars(select(ContactLog.excuse).where(ContactLog.excuse != "")))
    assert len(excuses) >= 6
    assert {"already_paid", "financial_difficulty", "quality_problem"} <= excuses
    kinds = set(session.scalars(select(FollowUp.kind)))
    assert {"verify_payment", "debt_acknowledgment", "credit_review", "limit_review"} <= kinds
    claim = session.scalars(select(FollowUp).where(FollowUp.kind == "verify_payment")).one()
    assert claim.status == "done" and "not found" in claim.result  # nothing like it arrived
    assert session.scalar(select(func.count()).select_from(Dispute)) >= 2
    approvers = set(session.scalars(select(PaymentPlan.approved_by)))
    assert approvers == {"credit"}
    # the desk's plan: proposed by the collector, approved by the credit manager as themself
    proposed_by = session.execute(select(PaymentPlan.recorded_by, PaymentPlan.status)).all()
    assert ("collector", "proposed") not in proposed_by
    assert any(who == "collector" for who, _ in proposed_by)
    decided = session.scalars(
        select(AuditRecord.actor).where(
            AuditRecord.entity == "payment_plan", AuditRecord.action == "approve"
        )
    ).all()
    assert list(decided) == ["credit"]
