"""Payment plans on SQLite and PostgreSQL: a plan is proposed and holds nothing back until
another person approves it (never the one who recorded it; a rejection changes nothing else),
schedules that add up, a plan kept leaves its invoices alone, a missed instalment defaults the
plan and the next daily run takes the next step for its invoices at once; a plan paid in full
is completed; cancelling."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from huikuan.collections import plans
from huikuan.collections.models import DunningState, PaymentPlan, PlanInstalment
from huikuan.core.audit import Actor, AuditRecord
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict, InvalidInput
from huikuan.core.models import Company
from huikuan.customers.models import Customer
from huikuan.ledger import service
from huikuan.ledger.models import Invoice
from huikuan.users.models import User
from tests.actors import ACTOR
from tests.integration.collection_builders import actions_of, bill, debtor, run, with_strategies

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date

# A long wait after the due-date email: without escalation the phone call would wait a month.
LADDER = """
strategies:
  - code: slow
    name: 慢阶梯
    steps:
      - {name: 到期通知, trigger: 0, channel: email, template: due_notice, wait: 30}
      - {name: 电话催收, trigger: 5, channel: phone_task, wait: 5}
      - {name: 催款函, trigger: 60, channel: letter, template: dunning_letter}
rules: []
default: slow
"""


def users(session: Session, company: Company) -> None:
    for name, role in (("credit", "credit_manager"), ("clerk", "collector")):
        session.add(
            User(
                company_id=company.id,
                username=name,
                display_name=name,
                role=role,
                password_hash="-",
            )
        )


CREDIT = Actor("credit", "web 10.0.0.2", ACTOR.at)  # the credit manager, signed in


def agree(session: Session, company: Company, customer: Customer, numbers: list[str],
          schedule: plans.ScheduleRequest, *, day: dt.date = D(2026, 11, 3),
          actor: Actor = ACTOR) -> PaymentPlan:  # fmt: skip
    """Propose a plan (it waits for approval)."""
    return plans.agree_plan(
        session, actor=actor, company_id=company.id, customer=customer,
        invoice_numbers=numbers, schedule=schedule, agreed_on=day, note="老板同意分期",
    )  # fmt: skip


def decide(session: Session, company: Company, plan: PaymentPlan, *, approve: bool = True,
           actor: Actor = CREDIT, note: str = "") -> PaymentPlan:  # fmt: skip
    return plans.decide_plan(
        session, actor=actor, company_id=company.id, plan_id=plan.id, approve=approve,
        note=note, decided_on=D(2026, 11, 3),
    )  # fmt: skip


def agreed(session: Session, company: Company, customer: Customer, numbers: list[str],
           schedule: plans.ScheduleRequest, **kw: object) -> PaymentPlan:  # fmt: skip
    """Propose a plan and have the credit manager approve it."""
    return decide(session, company, agree(session, company, customer, numbers, schedule, **kw))  # type: ignore[arg-type]


def pay(session: Session, company: Company, customer: Customer, day: dt.date, amount: int) -> None:
    service.record_payment(
        session, actor=ACTOR, company_id=company.id, customer=customer, received_on=day,
        amount=amount,
    )  # fmt: skip


def check(factory: sessionmaker[Session], company: Company, day: dt.date) -> plans.PlanCheck:
    with unit_of_work(factory) as session:
        return plans.check_plans(session, company_id=company.id, as_of=day, actor=ACTOR)


def test_a_plan_is_proposed_for_open_invoices_of_one_customer_and_waits_for_approval(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        users(session, company)
        c = debtor(session, company, "C001")
        other = debtor(session, company, "C002")
        bill(session, company, c, "INV-1", D(2026, 10, 1), 1_000_00)
        bill(session, company, other, "INV-9", D(2026, 10, 1), 1_000_00)
        schedule = plans.ScheduleRequest.equal(D(2026, 12, 31), 3)
        with pytest.raises(InvalidInput):
            agree(session, company, c, ["INV-1", "INV-9"], schedule)
        plan = agree(session, company, c, ["INV-1"], schedule)
        assert (plan.status, plan.approved_by, plan.recorded_by) == ("proposed", "", "test")
        rows = session.scalars(
            select(PlanInstalment).where(PlanInstalment.plan_id == plan.id)
            .order_by(PlanInstalment.due_on)
        ).all()  # fmt: skip
        assert [(r.due_on, r.amount) for r in rows] == [
            (D(2026, 12, 31), 333_33), (D(2027, 1, 31), 333_33), (D(2027, 2, 28), 333_34),
        ]  # fmt: skip
        assert sum(r.amount for r in rows) == 1_000_00
        with pytest.raises(Conflict, match="proposed or active"):  # a proposed plan has it
            agree(session, company, c, ["INV-1"], schedule)
        audit = session.scalars(
            select(AuditRecord.action).where(AuditRecord.entity == "payment_plan")
        ).all()
        assert list(audit) == ["create"]


def test_only_another_person_decides_a_plan_once_and_a_rejection_changes_nothing_else(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        users(session, company)
        c = debtor(session, company, "C001")
        bill(session, company, c, "INV-1", D(2026, 10, 1), 1_000_00)
        schedule = plans.ScheduleRequest.equal(D(2026, 12, 31), 2)
        mine = agree(session, company, c, ["INV-1"], schedule, actor=CREDIT)
        for me in (CREDIT, Actor("cli:credit", "cli", ACTOR.at)):  # on the web or the CLI
            with pytest.raises(Conflict, match="you cannot approve a plan you recorded"):
                decide(session, company, mine, actor=me)
        assert mine.status == "proposed"
        rejected = decide(session, company, mine, approve=False, actor=ACTOR, note="金额不对")
        assert (rejected.status, rejected.approved_by) == ("rejected", "")
        with pytest.raises(Conflict, match="not waiting for approval"):
            decide(session, company, mine, actor=ACTOR)
        states = session.scalars(select(DunningState)).all()
        instalments = session.scalars(select(PlanInstalment.status)).all()
        assert states == [] and set(instalments) == {"open"}
        # a rejected plan frees its invoices for another proposal, approved by someone else
        plan = agree(session, company, c, ["INV-1"], schedule, actor=Actor("clerk", "web", ACTOR.at))  # fmt: skip
        approved = decide(session, company, plan, note="同意")
        assert (approved.status, approved.approved_by) == ("active", "credit")
        assert [(p.status, p.approved_by) for p in plans.list_plans(session, company_id=company.id)] == [
            ("rejected", ""), ("active", "credit"),
        ]  # fmt: skip
        with pytest.raises(Conflict, match="proposed or active"):  # an active plan has it
            agree(session, company, c, ["INV-1"], schedule)
        trail = session.execute(
            select(AuditRecord.actor, AuditRecord.action, AuditRecord.before, AuditRecord.after)
            .where(AuditRecord.entity == "payment_plan")
            .order_by(AuditRecord.seq)
        ).all()  # fmt: skip
        assert [(who, what) for who, what, _, _ in trail] == [
            ("credit", "create"), ("test", "reject"), ("clerk", "create"), ("credit", "approve"),
        ]  # fmt: skip
        _, _, before, after = trail[1]
        assert json.loads(before)["status"] == "proposed"
        assert (json.loads(after)["status"], json.loads(after)["note"]) == ("rejected", "金额不对")
        after = json.loads(trail[3][3])
        assert (after["status"], after["approved_by"], after["decided_on"]) == (
            "active", "credit", "2026-11-03",
        )  # fmt: skip


def test_a_proposed_plan_holds_its_invoices_back_only_once_approved(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company, LADDER)
    with unit_of_work(factory) as session:
        users(session, company)
        for code in ("WAIT", "OK"):
            c = debtor(session, company, code)
            bill(session, company, c, f"{code}-1", D(2026, 11, 2), 2_000_00)
            plan = agree(session, company, c, [f"{code}-1"],
                         plans.ScheduleRequest.equal(D(2026, 11, 20), 2), day=D(2026, 11, 1))  # fmt: skip
            if code == "OK":
                decide(session, company, plan)
    assert check(factory, company, D(2026, 11, 2)).checked == 1  # only the approved plan
    summary = run(factory, company, D(2026, 11, 2))
    assert summary.not_chased.get("payment_plan") == 1
    with factory() as session:
        assert [(code, step) for code, _, step, _ in actions_of(session, company)] == [
            ("WAIT", "到期通知")
        ]
    with unit_of_work(factory) as session:
        waiting = session.scalars(select(PaymentPlan).where(PaymentPlan.status == "proposed")).one()  # fmt: skip
        decide(session, company, waiting)
    assert check(factory, company, D(2026, 11, 9)).kept == 2
    run(factory, company, D(2026, 11, 9))  # the phone call would be due: both plans hold
    with factory() as session:
        assert [(code, step) for code, _, step, _ in actions_of(session, company)] == [
            ("WAIT", "到期通知")
        ]


def test_a_kept_plan_leaves_its_invoices_alone_until_paid_in_full(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company, LADDER)
    with unit_of_work(factory) as session:
        users(session, company)
        c = debtor(session, company, "KEEP")
        bill(session, company, c, "K-1", D(2026, 11, 2), 2_000_00)
    run(factory, company, D(2026, 11, 2))  # the due-date email
    with unit_of_work(factory) as session:
        c = session.scalars(select(Customer).where(Customer.code == "KEEP")).one()
        agreed(session, company, c, ["K-1"],
              plans.ScheduleRequest((D(2026, 11, 6), D(2026, 12, 18)), (500_00, 1_500_00)))  # fmt: skip
        pay(session, company, c, D(2026, 11, 6), 500_00)
    # Without the plan the phone call would come on 12-02 (the email's wait over).
    for day in (D(2026, 11, 9), D(2026, 12, 2), D(2026, 12, 7)):
        assert check(factory, company, day).kept == 1
        run(factory, company, day)
    with factory() as session:
        assert [step for _, _, step, _ in actions_of(session, company)] == ["到期通知"]
    with unit_of_work(factory) as session:
        c = session.scalars(select(Customer).where(Customer.code == "KEEP")).one()
        pay(session, company, c, D(2026, 12, 18), 1_500_00)
    result = check(factory, company, D(2026, 12, 18))
    assert (result.completed, result.defaulted) == (1, 0)
    with factory() as session:
        plan = session.scalars(select(PaymentPlan)).one()
        assert plan.status == "completed"
        paid = session.scalars(select(PlanInstalment.status)).all()
        assert sorted(paid) == ["paid", "paid"]


def test_a_missed_instalment_defaults_the_plan_and_the_next_run_steps_at_once(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company, LADDER)
    with unit_of_work(factory) as session:
        users(session, company)
        c = debtor(session, company, "LATE")
        bill(session, company, c, "L-1", D(2026, 11, 2), 2_000_00)
        bill(session, company, c, "L-2", D(2026, 11, 2), 1_000_00)
    run(factory, company, D(2026, 11, 2))  # email; the phone call must wait until 12-02
    with unit_of_work(factory) as session:
        c = session.scalars(select(Customer).where(Customer.code == "LATE")).one()
        agreed(session, company, c, ["L-1", "L-2"],
              plans.ScheduleRequest.equal(D(2026, 11, 4), 2, "weekly"))  # fmt: skip
        pay(session, company, c, D(2026, 11, 4), 1_000_00)  # short of 1,500.00
    # Due Wednesday 11-04, two working days of grace: still kept on Friday 11-06.
    assert check(factory, company, D(2026, 11, 6)).kept == 1
    result = check(factory, company, D(2026, 11, 9))
    assert (result.defaulted, result.invoices_escalated) == (1, 2)
    with factory() as session:
        plan = session.scalars(select(PaymentPlan)).one()
        assert (plan.status, plan.defaulted_on) == ("defaulted", D(2026, 11, 9))
        statuses = session.scalars(
            select(PlanInstalment.status).order_by(PlanInstalment.due_on)
        ).all()
        assert list(statuses) == ["missed", "open"]
        states = session.scalars(select(DunningState)).all()
        assert {(s.next_check_on, s.not_before) for s in states} == {
            (D(2026, 11, 9), D(2026, 11, 9))
        }
        assert ("payment_plan", "defaulted") in session.execute(
            select(AuditRecord.entity, AuditRecord.action)
        ).all()
    run(factory, company, D(2026, 11, 9))
    with factory() as session:
        taken = [(day, step) for _, day, step, _ in actions_of(session, company)]
        assert taken == [(D(2026, 11, 2), "到期通知"), (D(2026, 11, 9), "电话催收")]
        invoices = session.scalars(select(Invoice).order_by(Invoice.number)).all()
        assert [i.open_amount for i in invoices] == [1_000_00, 1_000_00]


def test_cancelling_a_plan_returns_its_invoices_and_is_audited(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        users(session, company)
        c = debtor(session, company, "C001")
        bill(session, company, c, "INV-1", D(2026, 10, 1), 1_000_00)
        plan = agree(session, company, c, ["INV-1"], plans.ScheduleRequest.equal(D(2026, 12, 1), 2))
        with pytest.raises(Conflict, match="proposed"):  # a proposed plan is rejected instead
            plans.cancel_plan(
                session, actor=ACTOR, company_id=company.id, plan_id=plan.id, reason="不要了",
                cancelled_on=D(2026, 11, 10),
            )  # fmt: skip
        decide(session, company, plan)
        plans.cancel_plan(
            session, actor=ACTOR, company_id=company.id, plan_id=plan.id,
            reason="客户改为一次付清", cancelled_on=D(2026, 11, 10),
        )  # fmt: skip
        assert plan.status == "cancelled"
        with pytest.raises(Conflict):
            plans.cancel_plan(
                session, actor=ACTOR, company_id=company.id, plan_id=plan.id, reason="再次",
                cancelled_on=D(2026, 11, 10),
            )  # fmt: skip
        # A cancelled plan frees the invoice for a new one.
        agree(session, company, c, ["INV-1"], plans.ScheduleRequest.equal(D(2026, 12, 1), 2))
        assert [r.status for r in plans.list_plans(session, company_id=company.id)] == [
            "cancelled", "proposed",
        ]  # fmt: skip


def test_the_plan_commands(tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend != "sqlite":
        pytest.skip("the command is tested once, on SQLite")
    import typer

    import huikuan.cli  # noqa: F401  (the main command loads the command modules in order)
    from huikuan.collections.cli_disputes_plans import plan_app
    from huikuan.core.db import make_engine, session_factory
    from tests.integration.test_cli import prepared_database

    url = prepared_database(tmp_path)
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        company = session.scalars(select(Company)).one()
        users(session, company)
    engine.dispose()
    app = typer.Typer()
    app.add_typer(plan_app, name="plan")
    runner = CliRunner()

    def ok(*args: str) -> str:
        result = runner.invoke(app, [*args, "--db", url])
        assert result.exit_code == 0, result.output
        return result.stdout

    monkeypatch.setenv("LOGNAME", "clerk")  # the command line acts as the system user
    shown = ok("plan", "agree", "C1", "--invoice", "INV-2", "--instalment", "2024-07-01,20.00",
               "--instalment", "2024-08-01,30.00", "--date", "2024-06-01", "--waive-fees")  # fmt: skip
    assert "plan #1" in shown and "¥50.00" in shown and "proposed" in shown
    listed = ok("plan", "list")
    assert "proposed" in listed and "2024-07-01" in listed and "approved by -" in listed
    own = runner.invoke(app, ["plan", "approve", "1", "--db", url])
    assert own.exit_code == 1 and "you cannot approve a plan you recorded" in own.output
    monkeypatch.setenv("LOGNAME", "credit")
    assert "plan #1: active" in ok("plan", "approve", "1", "--note", "同意", "--date", "2024-07-05")
    again = runner.invoke(app, ["plan", "approve", "1", "--reject", "--db", url])
    assert again.exit_code == 1 and "not waiting for approval" in again.output
    assert "approved by cli:credit" in ok("plan", "list", "--status", "active")
    # approved after its first due date: the check judges that instalment as any other
    assert "defaulted 1" in ok("plan", "check", "--as-of", "2024-07-10")
    refused = runner.invoke(app, ["plan", "cancel", "1", "--reason", "x", "--db", url])
    assert refused.exit_code == 1 and "defaulted" in refused.output
    bad = runner.invoke(app, ["plan", "agree", "C1", "--invoice", "INV-1", "--db", url])
    assert bad.exit_code == 1
