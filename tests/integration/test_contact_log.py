"""Calls and visits: each excuse starts its follow-ups (due in working days, across the National
Day holiday), a missing fact is refused with nothing written, a claimed payment is verified
or flagged, the 欠款确认书 names the customer and the total, a late quality claim is recorded
as late, a call completes its task, and the customer card finds the original contact and the
decision maker after the contacts changed. Both backends; the CLI through CliRunner."""

from __future__ import annotations

import datetime as dt
import json
import re

import pypdfium2 as pdfium
import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import huikuan.cli  # noqa: F401  (the main command loads the command modules in order)
from huikuan.collections import strategies
from huikuan.collections.cli_calls import call_app, excuse_app
from huikuan.collections.contact_log import check_follow_ups, customer_card, log_contact
from huikuan.collections.excuses import install_default_excuses
from huikuan.collections.models import (
    CollectionAction,
    ContactLog,
    Document,
    FollowUp,
    StrategyStep,
)
from huikuan.core.audit import AuditRecord
from huikuan.core.calendar import load_calendar
from huikuan.core.db import unit_of_work
from huikuan.core.errors import InvalidInput
from huikuan.core.models import Company
from huikuan.core.money import format_amount
from huikuan.credit import review
from huikuan.customers.models import Contract
from huikuan.customers.service import change_contact, get_customer
from huikuan.ledger.service import record_payment
from tests.actors import ACTOR

from .collection_builders import SIMPLE_LADDER, bill, debtor

D = dt.date
CALL = dt.datetime(2026, 9, 30, 10, 15)  # the Wednesday before the National Day holiday


@pytest.fixture
def desk(factory: sessionmaker[Session], company: Company) -> sessionmaker[Session]:
    """A customer C001 (张总, decision maker) with a contract (15-day dispute window), two open
    invoices (INV-1 issued 2026-08-01, INV-2 issued 2026-09-20) and the default excuses."""
    with unit_of_work(factory) as session:
        install_default_excuses(session, actor=ACTOR, company_id=company.id)
        customer = debtor(session, company, "C001", name="华东建材有限公司")
        session.add(
            Contract(
                company_id=company.id,
                customer_id=customer.id,
                number="HT-1",
                signed_on=D(2026, 1, 1),
                dispute_window_days=15,
            )
        )
        bill(session, company, customer, "INV-1", D(2026, 8, 31), 1_200_000, issued=D(2026, 8, 1))
        bill(session, company, customer, "INV-2", D(2026, 10, 20), 350_050, issued=D(2026, 9, 20))
    return factory


def log(session: Session, company: Company, code: str = "C001", **kw: object):  # type: ignore[no-untyped-def]
    customer = get_customer(session, company_id=company.id, code=code)
    args: dict[str, object] = {
        "contacted_at": CALL,
        "channel": "phone",
        "outcome": "reached",
        "reached": "张总",
    }
    args.update(kw)
    return log_contact(
        session,
        actor=ACTOR,
        company_id=company.id,
        customer=customer,
        calendar=load_calendar(session, company_id=company.id),
        **args,  # type: ignore[arg-type]
    )


# Each excuse, the facts a collector gives, and the follow-ups expected (kind, due, status).
CASES = {
    "customer_not_paid": ({"expected_on": "2026-10-20"}, []),
    "goods_not_sold": ({}, [("limit_review", D(2026, 9, 30), "open")]),
    "quality_problem": (
        {"problem": "包装破损", "invoices": "INV-1"},
        [("dispute_window_check", D(2026, 9, 30), "done")],
    ),
    "boss_away": ({"deputy": "刘副总", "deputy_phone": "13700000000"}, []),
    # Two working days after Wednesday 30 September: the holiday runs 1-7 October.
    "already_paid": (
        {"date": "2026-09-29", "amount": "5000.00", "reference": "ABC"},
        [("verify_payment", D(2026, 10, 9), "open")],
    ),
    "financial_difficulty": (
        {},
        [
            ("debt_acknowledgment", D(2026, 10, 13), "open"),  # 10 October is worked
            ("credit_review", D(2026, 9, 30), "open"),
            ("limit_review", D(2026, 9, 30), "open"),
        ],
    ),
    "long_relationship": ({}, []),
    "reorganising": (
        {"new_contact": "新财务 王五 13600000000"},
        [("credit_review", CALL.date(), "open")],
    ),
    "missing_order_number": (
        {"invoices": "INV-2", "order_number": "PO-778"},
        [("reissue_invoice", D(2026, 10, 8), "open"), ("confirm_amount", D(2026, 10, 13), "open")],
    ),
    "system_down": ({"back_on": "2026-10-09"}, []),
    "other": ({}, []),
}


@pytest.mark.parametrize("code", list(CASES))
def test_each_excuse_starts_its_follow_ups(
    desk: sessionmaker[Session], company: Company, code: str
) -> None:
    facts, expected = CASES[code]
    with unit_of_work(desk) as session:
        logged = log(session, company, excuse=code, facts=facts, next_step_on=D(2026, 10, 9))
        log_id = logged.log.id
    with desk() as session:
        rows = session.scalars(
            select(FollowUp).where(FollowUp.contact_log_id == log_id).order_by(FollowUp.id)
        ).all()
        assert [(f.kind, f.due_on, f.status) for f in rows] == expected
        stored = session.get_one(ContactLog, log_id)
        assert stored.excuse == code and stored.logged_by == ACTOR.name
        audit = session.scalars(
            select(AuditRecord).where(
                AuditRecord.entity == "contact_log", AuditRecord.entity_id == str(log_id)
            )
        ).all()
        assert len(audit) == 1 and code in audit[0].after
        if code == "already_paid":
            assert json.loads(stored.facts) == {
                "amount": 500_000,
                "date": "2026-09-29",
                "reference": "ABC",
            }
        if code == "missing_order_number":
            assert all("INV-2" in f.detail for f in rows)
            assert "PO-778" in rows[0].detail and "¥3,500.50" in rows[1].detail
        if code == "financial_difficulty":
            assert rows[0].document_id is not None


def test_a_missing_fact_is_refused_by_name_and_nothing_is_written(
    desk: sessionmaker[Session], company: Company
) -> None:
    with pytest.raises(InvalidInput) as refused, unit_of_work(desk) as session:
        log(
            session,
            company,
            excuse="already_paid",
            facts={"date": "2026-09-31", "colour": "red"},
        )
    message = refused.value.message
    assert "amount" in message and "付款金额" in message  # missing, named
    assert "reference" in message  # also missing
    assert "date" in message and "不是日期" in message  # unreadable
    assert "colour" in message  # unknown
    with pytest.raises(InvalidInput, match="no excuse nonsense"), unit_of_work(desk) as session:
        log(session, company, excuse="nonsense", channel="fax")
    with desk() as session:
        assert session.scalar(select(func.count()).select_from(ContactLog)) == 0
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_a_claimed_payment_is_found_or_flagged(
    desk: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(desk) as session:
        debtor(session, company, "C002")
        claim = {"date": "2026-12-01", "amount": "5,000.00", "reference": "ABC"}
        at = dt.datetime(2026, 12, 1, 15, 0)
        log(session, company, "C001", excuse="already_paid", facts=claim, contacted_at=at)
        log(session, company, "C002", excuse="already_paid", facts=claim, contacted_at=at)
        paying = get_customer(session, company_id=company.id, code="C001")
        record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=paying,
            received_on=D(2026, 12, 2),
            amount=500_000,
            reference="ABC",
        )
    with unit_of_work(desk) as session:  # not due before two working days
        assert (
            check_follow_ups(session, company_id=company.id, as_of=D(2026, 12, 2), actor=ACTOR)
            == []
        )
    with unit_of_work(desk) as session:
        results = check_follow_ups(
            session, company_id=company.id, as_of=D(2026, 12, 3), actor=ACTOR
        )
    by_customer = {r.customer_code: r for r in results}
    assert by_customer["C001"].held and "found payment 2026-12-02" in by_customer["C001"].result
    assert not by_customer["C002"].held
    assert "not found: the claim did not hold" in by_customer["C002"].result
    with desk() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(FollowUp).where(FollowUp.status == "open")
            )
            == 0
        )
        flagged = session.scalars(
            select(AuditRecord.entity_id).where(AuditRecord.action == "claim_not_held")
        ).all()
        assert flagged == [str(by_customer["C002"].follow_up_id)]
    with unit_of_work(desk) as session:  # checked once
        assert (
            check_follow_ups(session, company_id=company.id, as_of=D(2026, 12, 9), actor=ACTOR)
            == []
        )


def test_financial_difficulty_makes_a_debt_acknowledgment_to_sign(
    desk: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(desk) as session:
        logged = log(session, company, excuse="financial_difficulty", outcome="promised")
        document_id = logged.follow_ups[0].document_id
    with desk() as session:
        document = session.get_one(Document, document_id)
        assert document.kind == "debt_acknowledgment" and document.mime_type == "application/pdf"
        pdf = pdfium.PdfDocument(document.content)
        try:
            text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        finally:
            pdf.close()
    flat = re.sub(r"[\r\n]+", "", text)
    assert "欠款确认书" in flat
    assert "华东建材有限公司" in flat
    assert format_amount(1_200_000 + 350_050) in flat  # ¥15,500.50
    assert "INV-1" in flat and "INV-2" in flat


def test_the_reviews_collectors_ask_for_reach_the_credit_review_and_close_when_rescored(
    desk: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(desk) as session:
        debtor(session, company, "C002", name="宏达贸易有限公司")
        log(session, company, excuse="financial_difficulty", outcome="promised")
        log(session, company, "C002", excuse="goods_not_sold")
    with desk() as session:
        items = {i.customer.code: i for i in review.due_for_review(session, company_id=company.id, as_of=CALL.date())}  # fmt: skip
    assert {"desk_credit_review", "desk_limit_review"} <= set(items["C001"].reasons)
    assert "desk_credit_review" not in items["C002"].reasons
    assert "desk_limit_review" in items["C002"].reasons
    # The day before the call nobody had asked yet.
    with desk() as session:
        before = review.requested_reviews(session, company_id=company.id, as_of=D(2026, 9, 29))
    assert before == {}
    with unit_of_work(desk) as session:
        review.rescore(session, actor=ACTOR, company_id=company.id, items=[items["C001"]], as_of=CALL.date())  # fmt: skip
    with desk() as session:
        left = review.requested_reviews(session, company_id=company.id, as_of=CALL.date())
        open_kinds = session.scalars(
            select(FollowUp.kind).where(FollowUp.status == "open").order_by(FollowUp.kind)
        ).all()
    assert list(left.values()) == [("desk_limit_review",)]  # C002's is still waiting
    assert open_kinds == ["debt_acknowledgment", "limit_review"]


def test_a_quality_claim_after_the_dispute_window_is_recorded_as_late(
    desk: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(desk) as session:
        late = log(
            session,
            company,
            excuse="quality_problem",
            facts={"problem": "破损", "invoices": "INV-1"},
        )
        timely = log(
            session,
            company,
            excuse="quality_problem",
            facts={"problem": "色差", "invoices": "INV-2"},
        )
        every = log(session, company, excuse="quality_problem", facts={"problem": "质量"})
        results = [x.follow_ups[0] for x in (late, timely, every)]
    assert "claim late" in results[0].result and "2026-08-16" in results[0].result
    assert "within window" in results[1].result and "claim late" not in results[1].result
    assert "INV-1" in results[2].result and "INV-2" in results[2].result  # all open invoices
    assert "claim late" in results[2].detail
    assert all(f.status == "done" for f in results)


def test_a_logged_call_completes_its_task(desk: sessionmaker[Session], company: Company) -> None:
    with unit_of_work(desk) as session:
        strategies.import_strategies(
            session, actor=ACTOR, company_id=company.id, text=SIMPLE_LADDER
        )
        step = session.scalars(
            select(StrategyStep).where(StrategyStep.channel == "phone_task")
        ).one()
        customer = get_customer(session, company_id=company.id, code="C001")
        task = CollectionAction(
            company_id=company.id,
            customer_id=customer.id,
            as_of=D(2026, 9, 30),
            strategy_id=step.strategy_id,
            step_id=step.id,
            step_name=step.name,
            channel="phone_task",
            amount=1_200_000,
            invoice_count=1,
            status="open",
            assignee="王芳",
            created_at=dt.datetime(2026, 9, 30, 8, 0),
        )
        session.add(task)
        session.flush()
        task_id = task.id
    with unit_of_work(desk) as session:
        log(session, company, action_id=task_id, outcome="promised", next_step_on=D(2026, 10, 9))
    with desk() as session:
        done = session.get_one(CollectionAction, task_id)
        assert done.status == "done" and done.completed_at == CALL
        assert "承诺付款" in done.detail
    with pytest.raises(Exception, match="no longer open"), unit_of_work(desk) as session:
        log(session, company, action_id=task_id)


def test_the_customer_card_finds_the_original_contact_and_the_decision_maker(
    desk: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(desk) as session:
        customer = get_customer(session, company_id=company.id, code="C001")
        # 张总 hands over to 王总 as general manager and stays on as adviser with a new phone.
        change_contact(session, actor=ACTOR, customer=customer, name="王总", role="总经理",
                       phone="13911112222", is_decision_maker=True, as_of=D(2025, 6, 1))  # fmt: skip
        change_contact(session, actor=ACTOR, customer=customer, name="李会计", role="财务",
                       phone="13633334444", as_of=D(2025, 6, 1))  # fmt: skip
        log(session, company, outcome="no_answer", contacted_at=dt.datetime(2026, 9, 28, 9, 0))
        log(session, company, outcome="promised", next_step_on=D(2026, 10, 9))
    with desk() as session:
        card = customer_card(
            session, customer=get_customer(session, company_id=company.id, code="C001"),
            as_of=D(2026, 10, 1),
        )  # fmt: skip
    assert card.original_contact is not None
    assert card.original_contact.name == "张总" and not card.original_contact.still_valid
    assert (
        card.original_contact.phone == ""
        and card.original_contact.last_known_phone == "13800138000"
    )
    assert card.decision_maker is not None and card.decision_maker.name == "王总"
    assert card.decision_maker.phone == "13911112222"
    assert {p.name for p in card.current_contacts} == {"王总", "李会计"}
    assert card.last_outcome == "promised" and card.next_step_on == D(2026, 10, 9)
    assert [e.outcome for e in card.last_contacts] == ["promised", "no_answer"]
    with unit_of_work(desk) as session:
        customer = get_customer(session, company_id=company.id, code="C001")
        change_contact(session, actor=ACTOR, customer=customer, name="张总", role="顾问",
                       phone="13955556666", as_of=D(2025, 7, 1))  # fmt: skip
    with desk() as session:
        card = customer_card(
            session, customer=get_customer(session, company_id=company.id, code="C001"),
            as_of=D(2026, 10, 1),
        )  # fmt: skip
    assert card.original_contact is not None and card.original_contact.still_valid
    assert card.original_contact.phone == "13955556666" and card.original_contact.role == "顾问"


def test_the_call_commands(
    database_url: str, desk: sessionmaker[Session], company: Company
) -> None:
    app = typer.Typer()
    app.add_typer(call_app, name="call")
    app.add_typer(excuse_app, name="excuse")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, "--db", database_url])
        assert result.exit_code == code, result.output
        return result.output

    out = run("call", "log", "C001", "--channel", "phone", "--reached", "张总", "--outcome",
              "paid_claimed", "--excuse", "already_paid", "--fact", "date=2026-12-01",
              "--fact", "amount=5000.00", "--fact", "reference=ABC", "--note", "说昨天已付",
              "--next", "2026-12-08", "--at", "2026-12-02 10:00")  # fmt: skip
    assert "verify_payment" in out and "2026-12-04" in out
    refused = run("call", "log", "C001", "--excuse", "already_paid", "--fact", "date=2026-12-01",
                  code=1)  # fmt: skip
    assert "nothing logged" in refused and "amount" in refused
    assert "说昨天已付" in run("call", "list", "C001")
    card = run("call", "card", "C001", "--as-of", "2026-12-02")
    assert "original contact: 张总" in card and "decision maker: 张总" in card
    flagged = run("call", "follow-ups", "--check", "--as-of", "2026-12-04")
    assert "⚠ C001" in flagged and "not found" in flagged
    assert "no follow-ups open" in run("call", "follow-ups", "--as-of", "2026-12-04")
