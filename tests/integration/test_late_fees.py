"""Late fees on SQLite and PostgreSQL: monthly charges exact to the fen (payments, disputes,
holiday-adjusted due dates and grace days), charged once however often the run repeats,
waiving plans (once approved), waivers asked for with a reason and approved by another person
(never more than the charge, even approved at once), letters, and the commands."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import huikuan.cli  # noqa: F401  (the main command loads the command modules in order)
from huikuan.collections.cli_desk_fees import fees_app
from huikuan.collections.late_fees import (
    charge_late_fees,
    decide_waiver,
    open_late_fees,
    request_waiver,
)
from huikuan.collections.messages import open_items
from huikuan.collections.models import (
    Dispute,
    LateFeeCharge,
    LateFeeWaiver,
    PaymentPlan,
    PaymentPlanInvoice,
)
from huikuan.core.audit import Actor, AuditRecord
from huikuan.core.calendar import load_calendar
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict, InvalidInput
from huikuan.core.models import Company
from huikuan.customers.models import Contract, Customer
from huikuan.ledger import service
from huikuan.ledger.models import Invoice
from huikuan.users.models import User
from tests.actors import ACTOR
from tests.integration.collection_builders import bill, debtor
from tests.integration.test_orders import run_together

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date
MGR1 = Actor(name="mgr1", source="pytest", at=dt.datetime(2026, 12, 3, 10, 0))
MGR2 = Actor(name="mgr2", source="pytest", at=dt.datetime(2026, 12, 3, 11, 0))
CLERK = Actor(name="clerk", source="pytest", at=dt.datetime(2026, 12, 3, 9, 0))


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


def first_charge(session: Session) -> LateFeeCharge:
    """INV-1's October charge: ¥900.00."""
    found = session.scalars(
        select(LateFeeCharge).order_by(LateFeeCharge.period_end, LateFeeCharge.id)
    ).first()
    assert found is not None and found.amount == 900_00
    return found


def test_a_waiver_is_a_request_until_another_person_approves_it(
    factory: sessionmaker[Session], company: Company
) -> None:
    setup_ledger(factory, company)
    charge(factory, company, D(2026, 12, 2))
    with unit_of_work(factory) as session:
        target = first_charge(session)
        customer = session.scalars(select(Customer)).one()
        owed_before = open_late_fees(session, company_id=company.id, customer_id=customer.id)

        def ask(
            actor: Actor, amount: int | None, reason: str = "老客户，首次逾期"
        ) -> LateFeeWaiver:
            return request_waiver(
                session, actor=actor, company_id=company.id, charge_id=target.id,
                amount=amount, reason=reason,
            )  # fmt: skip

        def decide(actor: Actor, waiver: LateFeeWaiver, approve: bool, note: str = "") -> LateFeeWaiver:  # fmt: skip
            return decide_waiver(
                session, actor=actor, company_id=company.id, waiver_id=waiver.id,
                approve=approve, note=note,
            )  # fmt: skip

        with pytest.raises(InvalidInput, match="reason"):
            ask(CLERK, 100_00, reason="  ")
        with pytest.raises(InvalidInput, match="exceeds"):
            ask(CLERK, 900_01)
        asked = ask(CLERK, 400_00)
        assert (asked.status, asked.requested_by, target.waived) == ("pending", "clerk", 0)
        assert open_late_fees(session, company_id=company.id, customer_id=customer.id) == owed_before  # fmt: skip
        with pytest.raises(InvalidInput, match="exceeds"):  # 400.00 is already asked for
            ask(MGR1, 500_01)
        with pytest.raises(Conflict, match="your own"):
            decide(CLERK, asked, approve=True)
        with pytest.raises(Conflict, match="your own"):  # the same person on the command line
            decide(Actor("cli:clerk", "cli", CLERK.at), asked, approve=True)
        rest = ask(MGR1, None)  # all that may still be asked for
        assert rest.amount == 500_00
        with pytest.raises(Conflict, match="nothing is left"):
            ask(CLERK, None)
        with pytest.raises(Conflict, match="your own"):
            decide(MGR1, rest, approve=True)

        rejected = decide(MGR2, rest, approve=False, note="不符合减免政策")
        assert (rejected.status, rejected.decided_by, rejected.note) == ("rejected", "mgr2", "不符合减免政策")  # fmt: skip
        assert (target.waived, target.waiver_reason, target.waiver_approved_by) == (0, "", "")
        assert open_late_fees(session, company_id=company.id, customer_id=customer.id) == owed_before  # fmt: skip

        approved = decide(MGR1, asked, approve=True)
        assert (approved.status, approved.decided_by, approved.decided_at) == ("approved", "mgr1", MGR1.at)  # fmt: skip
        assert (target.waived, target.waiver_reason, target.waiver_approved_by) == (
            400_00, "老客户，首次逾期", "mgr1",
        )  # fmt: skip
        with pytest.raises(Conflict, match="already decided"):
            decide(MGR2, asked, approve=True)
        with pytest.raises(Conflict, match="already decided"):
            decide(MGR2, rest, approve=True)
    with factory() as session:
        first = session.scalars(select(Invoice).where(Invoice.number == "INV-1")).one()
        owed = open_late_fees(session, company_id=company.id, customer_id=customer.id)
        assert owed[first.id] == owed_before[first.id] - 400_00 == 900_00 - 400_00 + 1_050_00
        trail = session.execute(
            select(AuditRecord.entity, AuditRecord.action, AuditRecord.actor, AuditRecord.before,
                   AuditRecord.after)
            .where(AuditRecord.entity.in_(["late_fee_waiver", "late_fee_charge"]),
                   AuditRecord.action != "charge")
            .order_by(AuditRecord.seq)
        ).all()  # fmt: skip
        assert [(e, a, who) for e, a, who, _, _ in trail] == [
            ("late_fee_waiver", "request", "clerk"),
            ("late_fee_waiver", "request", "mgr1"),
            ("late_fee_waiver", "reject", "mgr2"),
            ("late_fee_charge", "waive", "mgr1"),
            ("late_fee_waiver", "approve", "mgr1"),
        ]
        waived_before, waived_after = json.loads(trail[3][3]), json.loads(trail[3][4])
        assert (waived_before["waived"], waived_after["waived"]) == (0, 400_00)
        assert (waived_after["waived_now"], waived_after["requested_by"]) == (400_00, "clerk")
        assert json.loads(trail[2][4])["note"] == "不符合减免政策"
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


def test_a_waiving_plan_waives_fees_only_once_approved(
    factory: sessionmaker[Session], company: Company
) -> None:
    setup_ledger(factory, company)
    with unit_of_work(factory) as session:
        session.scalars(select(PaymentPlan)).one().status = "proposed"
    charge(factory, company, D(2026, 11, 2))
    with factory() as session:
        # INV-2 (due 10-15, 5 days' grace): 10-21 … 10-31 on 50,000.00 = 11 × 25.00
        assert [r for r in charges(session) if r[0] == "INV-2"] == [
            ("INV-2", D(2026, 10, 21), D(2026, 10, 31), 11, 50_000_00, 275_00, "0.0005/day")
        ]
    with unit_of_work(factory) as session:
        session.scalars(select(PaymentPlan)).one().status = "active"  # approved since
    charge(factory, company, D(2026, 12, 2))
    with factory() as session:
        assert [r[2] for r in charges(session) if r[0] == "INV-2"] == [D(2026, 10, 31)]


@pytest.fixture
def charged(backend: str, factory: sessionmaker[Session], company: Company) -> int:
    """The ledger charged through November, on PostgreSQL only; INV-1's October charge id."""
    if backend != "postgresql":
        pytest.skip("row locks are what is tested; SQLite lets one writer at a time anyway")
    setup_ledger(factory, company)
    charge(factory, company, D(2026, 12, 2))
    with factory() as session:
        return first_charge(session).id


def test_two_waiver_requests_at_once_cannot_ask_for_more_than_the_charge(
    charged: int, factory: sessionmaker[Session], company: Company
) -> None:
    refused: list[Exception] = []

    def ask(name: str) -> None:
        try:
            with unit_of_work(factory) as s:
                request_waiver(
                    s, actor=Actor(name, "pytest", CLERK.at), company_id=company.id,
                    charge_id=charged, amount=600_00, reason="客户申请",
                )  # fmt: skip
        except InvalidInput as exc:
            refused.append(exc)

    run_together([lambda: ask("clerk"), lambda: ask("mgr2")])
    with factory() as session:
        asked = session.scalars(select(LateFeeWaiver.amount)).all()
        assert list(asked) == [600_00] and len(refused) == 1


def test_two_approvals_at_once_add_up_and_never_waive_more_than_the_charge(
    charged: int, factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        ids = [
            request_waiver(
                session, actor=CLERK, company_id=company.id, charge_id=charged, amount=amount,
                reason="分两次申请",
            ).id
            for amount in (500_00, 400_00)
        ]  # fmt: skip
    refused: list[Exception] = []

    def approve(waiver_id: int, actor: Actor) -> None:
        try:
            with unit_of_work(factory) as s:
                decide_waiver(s, actor=actor, company_id=company.id, waiver_id=waiver_id, approve=True)  # fmt: skip
        except Conflict as exc:
            refused.append(exc)

    run_together([lambda: approve(ids[0], MGR1), lambda: approve(ids[1], MGR2)])
    with factory() as session:
        assert session.get_one(LateFeeCharge, charged).waived == 900_00  # neither lost
        assert refused == []
    # Two requests over the charge can only exist if written around the service (it refuses
    # the second when asked): the lock on approval still lets only one of them through.
    with unit_of_work(factory) as session:
        session.get_one(LateFeeCharge, charged).waived = 0
        session.query(LateFeeWaiver).delete()
        ids = []
        for who in (CLERK, MGR1):
            row = LateFeeWaiver(
                company_id=company.id, charge_id=charged, amount=600_00, reason="重复申请",
                requested_by=who.name, requested_at=who.at, status="pending",
            )  # fmt: skip
            session.add(row)
            session.flush()
            ids.append(row.id)
    run_together([lambda: approve(ids[0], MGR2), lambda: approve(ids[1], MGR2)])
    with factory() as session:
        assert session.get_one(LateFeeCharge, charged).waived == 600_00
        statuses = session.scalars(select(LateFeeWaiver.status).order_by(LateFeeWaiver.status))
        assert list(statuses) == ["approved", "pending"] and len(refused) == 1


def test_fee_commands(
    factory: sessionmaker[Session], company: Company, database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
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
    monkeypatch.setenv("LOGNAME", "clerk")  # the command line acts as the system user
    too_much = runner.invoke(
        app, ["fees", "waive", str(first.id), "--amount", "900.01", "--reason", "老客户", *db]
    )
    assert too_much.exit_code == 1 and "exceeds" in too_much.output
    asked = runner.invoke(
        app, ["fees", "waive", str(first.id), "--amount", "100.00", "--reason", "老客户", *db]
    )
    assert asked.exit_code == 0, asked.output
    assert "waiver request #1" in asked.output and "pending" in asked.output
    pending = runner.invoke(app, ["fees", "requests", *db])
    assert "#1" in pending.output and "cli:clerk" in pending.output and "¥100.00" in pending.output
    listed = runner.invoke(app, ["fees", "list", "C001", *db])
    assert "pending ¥100.00" in listed.output and "¥2,091.98" in listed.output  # nothing waived yet
    own = runner.invoke(app, ["fees", "approve", "1", *db])
    assert own.exit_code == 1 and "your own" in own.output
    monkeypatch.setenv("LOGNAME", "mgr2")
    approved = runner.invoke(app, ["fees", "approve", "1", "--note", "同意", *db])
    assert approved.exit_code == 0, approved.output
    assert "approved" in approved.output
    listed = runner.invoke(app, ["fees", "list", "C001", *db])
    assert listed.exit_code == 0, listed.output
    assert "INV-1" in listed.output and "老客户" in listed.output and "cli:mgr2" in listed.output
    assert "¥1,991.98" in listed.output  # owed after the waiver
    assert "共 0 个" in runner.invoke(app, ["fees", "requests", *db]).output
    assert "approved" in runner.invoke(app, ["fees", "requests", "--status", "all", *db]).output
    runner.invoke(app, ["fees", "waive", str(first.id), "--reason", "再申请", *db])  # the rest
    monkeypatch.setenv("LOGNAME", "clerk")
    rejected = runner.invoke(app, ["fees", "approve", "2", "--reject", *db])
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    assert "¥1,991.98" in runner.invoke(app, ["fees", "list", "C001", *db]).output
