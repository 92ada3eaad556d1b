"""Late fees on SQLite and PostgreSQL: monthly charges exact to the fen (payments, disputes,
holiday-adjusted due dates and grace days), charged once however often the run repeats,
waiving plans, waivers with a reason and another approver, letters, and the commands."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import huikuan.cli  # noqa: F401  (the main command loads the command modules in order)
from huikuan.collections.cli_desk_fees import fees_app
from huikuan.collections.late_fees import charge_late_fees, open_late_fees, waive_late_fee
from huikuan.collections.messages import open_items
from huikuan.collections.models import Dispute, LateFeeCharge, PaymentPlan, PaymentPlanInvoice
from huikuan.core.audit import Actor, AuditRecord
from huikuan.core.calendar import load_calendar
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict, Forbidden, InvalidInput
from huikuan.core.models import Company
from huikuan.customers.models import Contract, Customer
from huikuan.ledger import service
from huikuan.ledger.models import Invoice
from huikuan.users.models import User
from tests.actors import ACTOR
from tests.integration.collection_builders import bill, debtor

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date
MGR1 = Actor(name="mgr1", source="pytest", at=dt.datetime(2026, 12, 3, 10, 0))


def setup_ledger(factory: sessionmaker[Session], company: Company) -> None:
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        session.add(
            Contract(
                company_id=company.id, customer_id=c.id, number="HT-1",
                signed_on=D(2026, 1, 1), late_fee_rate_per_day=Decimal("0.0005"), grace_days=5,
            )
        )  # fmt: skip
        # Due on National Day: overdue from 10-08; grace 5 days: the fee runs from 10-14.
        bill(session, company, c, "INV-1", D(2026, 10, 1), 100_000_00)
        planned = bill(session, company, c, "INV-2", D(2026, 10, 15), 50_000_00)
        bill(session, company, c, "INV-3", D(2026, 11, 2), 12_345_67)  # fee runs from 11-08
        session.flush()
        plan = PaymentPlan(
            company_id=company.id, customer_id=c.id, agreed_on=D(2026, 10, 20),
            status="active", waive_late_fees=True,
        )  # fmt: skip
        session.add(plan)
        session.flush()
        session.add(
            PaymentPlanInvoice(plan_id=plan.id, invoice_id=planned.id, company_id=company.id)
        )
        service.record_payment(
            session, actor=ACTOR, company_id=company.id, customer=c,
            received_on=D(2026, 11, 10), amount=40_000_00, invoice_numbers=["INV-1"],
        )  # fmt: skip
        first = session.scalars(select(Invoice).where(Invoice.number == "INV-1")).one()
        session.add(
            Dispute(
                company_id=company.id, customer_id=c.id, invoice_id=first.id, amount=10_000_00,
                reason="quality", raised_on=D(2026, 11, 20),
            )
        )  # fmt: skip
        for username, role in (
            ("mgr1", "credit_manager"),
            ("mgr2", "credit_manager"),
            ("clerk", "collector"),
        ):
            session.add(
                User(
                    company_id=company.id, username=username, display_name=username,
                    role=role, password_hash="-",
                )
            )  # fmt: skip


def charges(session: Session) -> list[tuple[str, dt.date, dt.date, int, int, int, str]]:
    return [
        tuple(row)  # type: ignore[misc]
        for row in session.execute(
            select(
                Invoice.number,
                LateFeeCharge.period_start,
                LateFeeCharge.period_end,
                LateFeeCharge.days,
                LateFeeCharge.base,
                LateFeeCharge.amount,
                LateFeeCharge.rate,
            )
            .join(Invoice, Invoice.id == LateFeeCharge.invoice_id)
            .order_by(Invoice.number, LateFeeCharge.period_end)
        )
    ]


def charge(factory: sessionmaker[Session], company: Company, day: dt.date):  # type: ignore[no-untyped-def]
    with unit_of_work(factory) as session:
        return charge_late_fees(session, company_id=company.id, as_of=day, actor=ACTOR)


def test_monthly_charges_to_the_fen_and_only_once(
    factory: sessionmaker[Session], company: Company
) -> None:
    setup_ledger(factory, company)
    first = charge(factory, company, D(2026, 12, 2))
    assert (first.through, first.invoices, first.charges) == (D(2026, 11, 30), 2, 3)
    with factory() as session:
        assert charges(session) == [
            # 10-14 … 10-31: 18 days × 100,000.00 × 0.05% = 900.00
            ("INV-1", D(2026, 10, 14), D(2026, 10, 31), 18, 100_000_00, 900_00, "0.0005/day"),
            # 11-01 … 11-10 on 100,000 (the day paid is charged), 11-11 … 11-20 on 60,000,
            # 11-21 … 11-30 on 50,000 (10,000 disputed from 11-20): 500 + 300 + 250
            ("INV-1", D(2026, 11, 1), D(2026, 11, 30), 30, 70_000_00, 1_050_00, "0.0005/day"),
            # 12,345.67 × 0.0005 × 23 days = 141.975205: 141.98, rounded half up once
            ("INV-3", D(2026, 11, 8), D(2026, 11, 30), 23, 12_345_67, 141_98, "0.0005/day"),
        ]
    assert first.amount == 900_00 + 1_050_00 + 141_98
    # The same day again, later the same month: nothing more.
    assert charge(factory, company, D(2026, 12, 2)).charges == 0
    assert charge(factory, company, D(2026, 12, 30)).charges == 0
    december = charge(factory, company, D(2026, 12, 31))
    assert december.charges == 2
    with factory() as session:
        rows = charges(session)
        assert rows[2][1:6] == (D(2026, 12, 1), D(2026, 12, 31), 31, 50_000_00, 775_00)
        assert rows[4][1:6] == (D(2026, 12, 1), D(2026, 12, 31), 31, 12_345_67, 191_36)
        assert all(number != "INV-2" for number, *_ in rows)  # the plan waives its fees
        audited = session.scalar(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.entity == "late_fee_charge", AuditRecord.action == "charge")
        )
        assert audited == 5
        customer = session.scalars(select(Customer)).one()
        owed = open_late_fees(session, company_id=company.id, customer_id=customer.id)
        ids = {n: i for n, i in session.execute(select(Invoice.number, Invoice.id)).all()}
        assert owed == {ids["INV-1"]: 900_00 + 1_050_00 + 775_00, ids["INV-3"]: 141_98 + 191_36}


def test_a_settled_invoice_is_charged_up_to_the_day_paid(
    factory: sessionmaker[Session], company: Company
) -> None:
    setup_ledger(factory, company)
    with unit_of_work(factory) as session:
        c = session.scalars(select(Customer)).one()
        service.record_payment(
            session, actor=ACTOR, company_id=company.id, customer=c,
            received_on=D(2026, 11, 12), amount=12_345_67, invoice_numbers=["INV-3"],
        )  # fmt: skip
    charge(factory, company, D(2026, 11, 30))
    charge(factory, company, D(2026, 12, 31))
    with factory() as session:
        third = [row for row in charges(session) if row[0] == "INV-3"]
        # 11-08 … 11-12: 5 days × 6.172835 = 30.864175 → 30.86; nothing in December.
        assert third == [
            ("INV-3", D(2026, 11, 8), D(2026, 11, 30), 5, 12_345_67, 30_86, "0.0005/day")
        ]


def test_waivers_need_a_reason_and_another_approver(
    factory: sessionmaker[Session], company: Company
) -> None:
    setup_ledger(factory, company)
    charge(factory, company, D(2026, 12, 2))
    with unit_of_work(factory) as session:
        target = session.scalars(
            select(LateFeeCharge).order_by(LateFeeCharge.period_end, LateFeeCharge.id)
        ).first()
        assert target is not None and target.amount == 900_00
        kw = {"actor": MGR1, "company_id": company.id, "charge_id": target.id}
        with pytest.raises(InvalidInput, match="reason"):
            waive_late_fee(session, amount=100_00, reason="  ", approved_by="mgr2", **kw)  # type: ignore[arg-type]
        with pytest.raises(Conflict, match="own"):
            waive_late_fee(session, amount=100_00, reason="老客户", approved_by="mgr1", **kw)  # type: ignore[arg-type]
        with pytest.raises(Forbidden):
            waive_late_fee(session, amount=100_00, reason="老客户", approved_by="clerk", **kw)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="exceeds"):
            waive_late_fee(session, amount=900_01, reason="老客户", approved_by="mgr2", **kw)  # type: ignore[arg-type]
        done = waive_late_fee(
            session, amount=400_00, reason="老客户，首次逾期", approved_by="mgr2", **kw
        )  # type: ignore[arg-type]
        assert (done.waived, done.waiver_approved_by) == (400_00, "mgr2")
    with factory() as session:
        customer = session.scalars(select(Customer)).one()
        first = session.scalars(select(Invoice).where(Invoice.number == "INV-1")).one()
        assert open_late_fees(session, company_id=company.id, customer_id=customer.id)[
            first.id
        ] == (900_00 - 400_00 + 1_050_00)
        waived = session.scalars(select(AuditRecord).where(AuditRecord.action == "waive")).one()
        assert waived.actor == "mgr1" and "mgr2" in waived.after
        # Letters show what was charged and not waived, plus the days since the last charge:
        # 12-01 … 12-03 on 50,000 undisputed = 3 × 25.00.
        items = open_items(
            session,
            customer=customer,
            invoice_ids=[first.id],
            as_of=D(2026, 12, 3),
            calendar=load_calendar(session, company_id=company.id),
        )
        assert items[0].late_fee == 500_00 + 1_050_00 + 75_00


def test_fee_commands(factory: sessionmaker[Session], company: Company, database_url: str) -> None:
    setup_ledger(factory, company)
    app = typer.Typer()
    app.add_typer(fees_app, name="fees")
    runner = CliRunner()
    db = ["--db", database_url]
    charged = runner.invoke(app, ["fees", "charge", "--as-of", "2026-12-02", *db])
    assert charged.exit_code == 0, charged.output
    assert "¥2,091.98" in charged.output and "2026-11-30" in charged.output
    again = runner.invoke(app, ["fees", "charge", "--as-of", "2026-12-02", *db])
    assert "¥0.00" in again.output
    with factory() as session:
        first = session.scalars(select(LateFeeCharge).order_by(LateFeeCharge.id)).first()
        assert first is not None
    refused = runner.invoke(
        app, ["fees", "waive", str(first.id), "--amount", "100.00", "--reason", "老客户",
              "--approver", "clerk", *db],
    )  # fmt: skip
    assert refused.exit_code == 1
    waived = runner.invoke(
        app, ["fees", "waive", str(first.id), "--amount", "100.00", "--reason", "老客户",
              "--approver", "mgr2", *db],
    )  # fmt: skip
    assert waived.exit_code == 0, waived.output
    listed = runner.invoke(app, ["fees", "list", "C001", *db])
    assert listed.exit_code == 0, listed.output
    assert "INV-1" in listed.output and "老客户" in listed.output
    assert "¥1,991.98" in listed.output  # owed after the waiver
