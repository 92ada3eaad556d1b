"""Promises to pay on SQLite and PostgreSQL: recording (validated, audited), judging from the
payments received with a grace in working days over a holiday, a broken promise escalating the
next daily run, the scorecard's count, and the commands."""

from __future__ import annotations

import datetime as dt

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import huikuan.cli  # noqa: F401  (the main command loads the command modules in order)
from huikuan.collections.cli_desk_fees import promise_app
from huikuan.collections.models import DunningState, PromiseInstalment, PromiseToPay
from huikuan.collections.promises import broken_promises, check_promises, record_promise
from huikuan.core.audit import AuditRecord
from huikuan.core.db import unit_of_work
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.core.models import Company
from huikuan.credit.payment_record import payment_records
from huikuan.customers.models import Customer
from huikuan.ledger import service
from tests.actors import ACTOR
from tests.integration.collection_builders import actions_of, bill, debtor, run, with_strategies

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date

LONG_WAIT = """
strategies:
  - code: slow
    name: 慢阶梯
    steps:
      - {name: 到期通知, trigger: 0, channel: email, template: due_notice, wait: 30}
      - {name: 电话催收, trigger: 5, channel: phone_task, wait: 5}
rules: []
default: slow
"""


def promise(session: Session, company: Company, customer: Customer, *instalments, **kw):  # type: ignore[no-untyped-def]
    return record_promise(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=customer,
        invoice_numbers=kw.pop("invoices", ["INV-1"]),
        instalments=list(instalments),
        made_on=kw.pop("made_on", D(2026, 9, 20)),
        made_by="张总",
        note=kw.pop("note", ""),
    )


def check(factory: sessionmaker[Session], company: Company, day: dt.date):  # type: ignore[no-untyped-def]
    with unit_of_work(factory) as session:
        return check_promises(session, company_id=company.id, as_of=day, actor=ACTOR)


def pay(
    factory: sessionmaker[Session], company: Company, code: str, day: dt.date, amount: int
) -> None:
    with unit_of_work(factory) as session:
        customer = session.scalars(select(Customer).where(Customer.code == code)).one()
        service.record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=customer,
            received_on=day,
            amount=amount,
            invoice_numbers=["INV-1"],
        )


def status(factory: sessionmaker[Session], code: str) -> tuple[str, list[tuple[str, int]]]:
    with factory() as session:
        found = session.scalars(
            select(PromiseToPay)
            .join(Customer, Customer.id == PromiseToPay.customer_id)
            .where(Customer.code == code)
        ).one()
        rows = session.scalars(
            select(PromiseInstalment)
            .where(PromiseInstalment.promise_id == found.id)
            .order_by(PromiseInstalment.due_on)
        ).all()
        return found.status, [(r.status, r.paid) for r in rows]


def test_recording_is_validated_and_audited(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        other = debtor(session, company, "C002")
        bill(session, company, c, "INV-1", D(2026, 9, 1), 100_000_00)
        bill(session, company, other, "INV-9", D(2026, 9, 1), 100_000_00)
    with unit_of_work(factory) as session:
        c = session.scalars(select(Customer).where(Customer.code == "C001")).one()
        with pytest.raises(NotFound):
            promise(session, company, c, (D(2026, 10, 1), 100_00), invoices=["INV-9"])
        with pytest.raises(NotFound):
            promise(session, company, c, (D(2026, 10, 1), 100_00), invoices=["NOPE"])
        with pytest.raises(InvalidInput, match="before the promise"):
            promise(session, company, c, (D(2026, 9, 19), 100_00))
        with pytest.raises(InvalidInput, match="exceeds"):
            promise(session, company, c, (D(2026, 10, 1), 60_000_00), (D(2026, 11, 1), 40_000_01))
        with pytest.raises(InvalidInput, match="positive"):
            promise(session, company, c, (D(2026, 10, 1), 0))
        with pytest.raises(InvalidInput):
            promise(session, company, c)
        made = promise(
            session, company, c, (D(2026, 11, 1), 40_000_00), (D(2026, 10, 1), 60_000_00)
        )
        assert (made.promised_on, made.amount, made.recorded_by) == (
            D(2026, 11, 1),
            100_000_00,
            "test",
        )
        with pytest.raises(Conflict, match="open promise"):
            promise(session, company, c, (D(2026, 10, 1), 100_00))
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.entity == "promise_to_pay")
        ).all()
        assert [a.action for a in audit] == ["create"]


def test_kept_partly_broken_with_grace_over_the_national_day(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        for code in ("KEPT", "PART", "BROKE"):
            c = debtor(session, company, code)
            bill(
                session,
                company,
                c,
                "INV-1" if code == "KEPT" else f"INV-{code}",
                D(2026, 9, 1),
                80_000_00,
            )
    with unit_of_work(factory) as session:
        for code in ("KEPT", "PART", "BROKE"):
            c = session.scalars(select(Customer).where(Customer.code == code)).one()
            number = "INV-1" if code == "KEPT" else f"INV-{code}"
            promise(session, company, c, (D(2026, 9, 30), 50_000_00), invoices=[number])
    with unit_of_work(factory) as session:
        for code, amount in (("KEPT", 50_000_00), ("PART", 20_000_00)):
            c = session.scalars(select(Customer).where(Customer.code == code)).one()
            number = "INV-1" if code == "KEPT" else f"INV-{code}"
            # Received on 10-09: the second working day after 09-30, over the holiday.
            service.record_payment(
                session, actor=ACTOR, company_id=company.id, customer=c,
                received_on=D(2026, 10, 9), amount=amount, invoice_numbers=[number],
            )  # fmt: skip
    early = check(factory, company, D(2026, 10, 8))
    assert early.judged == {}
    on_deadline = check(factory, company, D(2026, 10, 9))
    assert on_deadline.judged == {"kept": 1}  # paid in full: kept at once; others still in time
    assert status(factory, "PART") == ("open", [("open", 20_000_00)])
    after = check(factory, company, D(2026, 10, 10))  # Saturday, a working day in 2026
    assert after.judged == {"partly": 1, "broken": 1}
    assert status(factory, "KEPT") == ("kept", [("kept", 50_000_00)])
    assert status(factory, "PART") == ("partly", [("partly", 20_000_00)])
    assert status(factory, "BROKE") == ("broken", [("broken", 0)])
    assert check(factory, company, D(2026, 10, 12)).checked == 0  # judged once
    with factory() as session:
        judged = session.scalars(
            select(AuditRecord).where(
                AuditRecord.entity == "promise_to_pay", AuditRecord.action == "judge"
            )
        ).all()
        assert len(judged) == 3
        ids = {
            code: session.scalars(select(Customer.id).where(Customer.code == code)).one()
            for code in ("KEPT", "PART", "BROKE")
        }
        counts = broken_promises(
            session,
            company_id=company.id,
            customer_ids=None,
            since=D(2026, 1, 1),
            as_of=D(2026, 12, 31),
        )
        assert counts == {ids["BROKE"]: 1}
        records = payment_records(session, company_id=company.id, as_of=D(2026, 10, 12))
        assert records[ids["BROKE"]].broken_promises == 1
        assert records[ids["KEPT"]].broken_promises == 0


def test_a_broken_promise_escalates_the_next_daily_run(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company, LONG_WAIT)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "INV-1", D(2026, 11, 2), 120_000_00)
    run(factory, company, D(2026, 11, 2))  # the due notice; the next step waits 30 days
    with unit_of_work(factory) as session:
        c = session.scalars(select(Customer).where(Customer.code == "C001")).one()
        promise(session, company, c, (D(2026, 11, 6), 50_000_00), made_on=D(2026, 11, 3))
    pay(factory, company, "C001", D(2026, 11, 2), 1_000_00)  # before the promise: ignored
    run(factory, company, D(2026, 11, 10))  # in grace (deadline 11-10): nothing to do
    assert check(factory, company, D(2026, 11, 10)).judged == {}
    result = check(factory, company, D(2026, 11, 11))
    assert result.judged == {"broken": 1} and result.escalated_invoices == 1
    with factory() as session:
        state = session.scalars(select(DunningState)).one()
        assert (state.not_before, state.next_check_on) == (D(2026, 11, 11), D(2026, 11, 11))
    run(factory, company, D(2026, 11, 11))
    with factory() as session:
        assert [(day, step) for _, day, step, _ in actions_of(session, company)] == [
            (D(2026, 11, 2), "到期通知"),
            (D(2026, 11, 11), "电话催收"),  # not 12-02, when the wait would have ended
        ]


def test_promise_commands(
    factory: sessionmaker[Session], company: Company, database_url: str
) -> None:
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "INV-1", D(2026, 11, 2), 120_000_00)
    app = typer.Typer()
    app.add_typer(promise_app, name="promise")
    runner = CliRunner()
    db = ["--db", database_url]
    added = runner.invoke(
        app,
        ["promise", "add", "C001", "--invoice", "INV-1", "--instalment", "2026-12-20,50000.00",
         "--instalment", "2027-01-20,20,000.50", "--made-by", "张总", "--made-on", "2026-12-01", *db],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "¥70,000.50" in added.output
    listed = runner.invoke(app, ["promise", "list", "--customer", "C001", *db])
    assert listed.exit_code == 0, listed.output
    assert "INV-1" in listed.output and "2026-12-20" in listed.output and "open" in listed.output
    checked = runner.invoke(app, ["promise", "check", "--as-of", "2026-12-23", *db])
    assert checked.exit_code == 0, checked.output
    assert "broken" in checked.output
    bad = runner.invoke(
        app,
        ["promise", "add", "C001", "--invoice", "INV-1", "--instalment", "2026-12-20", *db],
    )
    assert bad.exit_code != 0
