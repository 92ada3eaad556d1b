"""The daily run on SQLite and PostgreSQL: the right step on the right working day, holidays,
idempotency (twice, and after a crash half-way), grouping and the weekly cap, what is never
chased, payments changing the ladder, supply stops placed and released, referrals."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.collections import effects
from huikuan.collections.models import (
    CollectionAction,
    CollectionActionItem,
    DailyRun,
    Delivery,
    Dispute,
    DoNotContact,
    PaymentPlan,
    PaymentPlanInvoice,
    PlanInstalment,
    PromiseInstalment,
    PromiseInvoice,
    PromiseToPay,
    Referral,
)
from huikuan.core.db import unit_of_work
from huikuan.core.models import Company
from huikuan.credit.models import CreditHold
from huikuan.ledger import service
from tests.actors import ACTOR
from tests.integration.collection_builders import (
    actions_of,
    bill,
    debtor,
    run,
    run_days,
    with_strategies,
)

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date


def count(session: Session, model: type, *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_each_step_fires_once_on_its_working_day(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "INV-1", D(2026, 11, 2), 120_000_00)  # Monday
    run_days(factory, company, D(2026, 10, 20), D(2026, 12, 31))
    with factory() as session:
        assert [(day, step) for _, day, step, _ in actions_of(session, company)] == [
            (D(2026, 10, 28), "到期前提醒"),  # 3 working days before Monday 11-02
            (D(2026, 11, 2), "到期通知"),
            (D(2026, 11, 2), "到期短信"),
            (D(2026, 11, 12), "电话催收"),  # +10
            (D(2026, 11, 23), "暂停供货"),  # +20 is Sunday 11-22: Monday
            (D(2026, 12, 14), "转法务"),  # +40 is Saturday 12-12: Monday
        ]


def test_a_due_date_in_the_national_day_holiday_moves_every_step(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "INV-1", D(2026, 10, 3), 80_000_00)
    summaries = run_days(factory, company, D(2026, 9, 21), D(2026, 10, 20))
    with factory() as session:
        assert [(day, step) for _, day, step, _ in actions_of(session, company)] == [
            (D(2026, 9, 28), "到期前提醒"),  # 3 working days before 10-08: 09-30, 29, 28
            (D(2026, 10, 8), "到期通知"),  # the period ends on the first working day
            (D(2026, 10, 8), "到期短信"),
            (D(2026, 10, 19), "电话催收"),  # 10-08 + 10 = Sunday 10-18
        ]
        email = session.scalars(select(Delivery).where(Delivery.channel == "email")).first()
        assert email is not None and "2026-10-03" in email.body
    holiday = next(s for s in summaries if s.as_of == "2026-10-02")
    assert not holiday.working_day and holiday.holiday == "国庆节" and holiday.actions == {}


def test_running_the_same_day_twice_does_nothing_the_second_time(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        for n in range(3):
            c = debtor(session, company, f"C00{n}")
            bill(session, company, c, f"INV-{n}", D(2026, 11, 20), 10_000_00 * (n + 1))
    first = run(factory, company, D(2026, 12, 2))
    second = run(factory, company, D(2026, 12, 2))
    assert first.actions == {"phone_task": 3}
    assert first.amounts == {"phone_task": 60_000_00}
    assert second.actions == {} and second.invoices_moved == 0
    with factory() as session:
        assert count(session, CollectionAction) == 3
        assert count(session, CollectionActionItem) == 3
        runs = session.scalars(select(DailyRun).order_by(DailyRun.id)).all()
        assert [r.status for r in runs] == ["finished", "finished"]
        assert json.loads(runs[0].summary)["actions"] == {"phone_task": 3}


def test_a_run_that_dies_half_way_finishes_the_rest_when_run_again(
    factory: sessionmaker[Session], company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        for n in range(6):
            c = debtor(session, company, f"C00{n}")
            bill(session, company, c, f"INV-{n}", D(2026, 11, 20), 1_000_00 + n)
    day = D(2026, 12, 2)
    planned = run(factory, company, day, dry_run=True)
    assert planned.actions == {"phone_task": 6}
    with factory() as session:
        assert count(session, CollectionAction) == 0  # a dry run writes nothing

    monkeypatch.setattr("huikuan.collections.daily.CUSTOMERS_PER_BATCH", 2)
    real = effects.carry_out
    calls = {"n": 0}

    def dies_on_the_fourth(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(effects, "carry_out", dies_on_the_fourth)
    with pytest.raises(RuntimeError, match="power cut"):
        run(factory, company, day)
    with factory() as session:
        # The first batch of two customers was committed; the second rolled back whole.
        assert count(session, CollectionAction) == 2
        assert session.scalar(select(DailyRun.status)) == "failed"
    monkeypatch.setattr(effects, "carry_out", real)
    again = run(factory, company, day)
    assert again.actions == {"phone_task": 4}
    with factory() as session:
        rows = actions_of(session, company)
        assert [code for code, *_ in rows] == [f"C00{n}" for n in range(6)]
        assert count(session, CollectionActionItem) == 6


def test_one_message_per_customer_lists_all_its_invoices_at_that_step(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        for n, amount in enumerate((1_000_00, 2_345_67, 10_00)):
            bill(session, company, c, f"INV-{n}", D(2026, 12, 2), amount)
    summary = run(factory, company, D(2026, 12, 2))
    assert summary.actions == {"email": 1, "sms": 1}
    assert summary.amounts == {"email": 3_355_67, "sms": 3_355_67}
    with factory() as session:
        email = session.scalars(select(Delivery).where(Delivery.channel == "email")).one()
        assert all(f"INV-{n}" in email.body for n in range(3))
        assert "¥3,355.67" in email.body


def test_the_weekly_cap_defers_the_lesser_step_to_the_next_week(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company, contacts_per_week=1)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "OLD", D(2026, 11, 20), 5_000_00)  # call due (+10)
        bill(session, company, c, "NEW", D(2026, 12, 2), 1_000_00)  # due notice today
    monday = run(factory, company, D(2026, 11, 30))  # new invoice pre-due, old one's call
    assert monday.actions == {"phone_task": 1}
    assert monday.deferred_by_cap == 1  # the pre-due reminder waits: one contact a week
    wednesday = run(factory, company, D(2026, 12, 2))
    assert wednesday.actions == {} and wednesday.deferred_by_cap == 1
    next_monday = run(factory, company, D(2026, 12, 7))
    # A new week: the new invoice catches up to its latest step due (the due notice group).
    assert next_monday.actions == {"email": 1, "sms": 1}
    with factory() as session:
        steps = [(day, step) for _, day, step, _ in actions_of(session, company)]
        assert (D(2026, 12, 7), "到期前提醒") not in steps


def test_disputed_planned_promised_and_do_not_contact_amounts_are_not_chased(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    day = D(2026, 12, 2)
    with unit_of_work(factory) as session:
        ids = {}
        for code in ("DISPUTED", "PART", "PLAN", "BROKEN", "PROMISE", "LATE", "QUIET"):
            c = debtor(session, company, code)
            ids[code] = (
                c.id,
                bill(session, company, c, f"I-{code}", D(2026, 11, 20), 10_000_00).id,
            )
        session.add(
            Dispute(
                company_id=company.id,
                customer_id=ids["DISPUTED"][0],
                invoice_id=ids["DISPUTED"][1],
                amount=10_000_00,
                reason="quality",
                raised_on=day,
            )
        )
        session.add(
            Dispute(
                company_id=company.id,
                customer_id=ids["PART"][0],
                invoice_id=ids["PART"][1],
                amount=2_500_00,
                reason="price",
                raised_on=day,
            )
        )
        for code, status in (("PLAN", "active"), ("BROKEN", "defaulted")):
            plan = PaymentPlan(
                company_id=company.id, customer_id=ids[code][0], agreed_on=day, status=status
            )
            session.add(plan)
            session.flush()
            session.add(
                PaymentPlanInvoice(plan_id=plan.id, invoice_id=ids[code][1], company_id=company.id)
            )
            session.add(
                PlanInstalment(
                    company_id=company.id,
                    plan_id=plan.id,
                    due_on=day + dt.timedelta(days=20),
                    amount=10_000_00,
                )
            )
        for code, promised in (("PROMISE", day), ("LATE", day - dt.timedelta(days=10))):
            promise = PromiseToPay(
                company_id=company.id,
                customer_id=ids[code][0],
                promised_on=promised,
                amount=10_000_00,
                made_on=day - dt.timedelta(days=15),
            )
            session.add(promise)
            session.flush()
            session.add(
                PromiseInstalment(
                    company_id=company.id, promise_id=promise.id, due_on=promised, amount=10_000_00
                )
            )
            session.add(
                PromiseInvoice(
                    promise_id=promise.id, invoice_id=ids[code][1], company_id=company.id
                )
            )
        session.add(
            DoNotContact(
                company_id=company.id,
                customer_id=ids["QUIET"][0],
                reason="与老板面谈中",
                starts_on=day,
            )
        )
    summary = run(factory, company, day)
    assert summary.desk["promises_broken"] == 1  # LATE: judged at the start of the run
    # Disputes count whole or in part (PART is still chased for what is not disputed).
    assert summary.not_chased == {
        "do_not_contact": 1,
        "dispute": 2,
        "payment_plan": 1,
        "promise": 1,
    }
    with factory() as session:
        chased = {code: status for code, _, _, status in actions_of(session, company)}
        assert set(chased) == {"PART", "BROKEN", "LATE"}
        part = session.scalars(
            select(CollectionAction)
            .join(CollectionActionItem)
            .where(CollectionActionItem.invoice_id == ids["PART"][1])
        ).one()
        assert part.amount == 7_500_00  # only what is not disputed


def test_a_paid_invoice_leaves_the_ladder_and_a_partial_payment_keeps_its_age(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        paid = debtor(session, company, "PAID")
        part = debtor(session, company, "PART")
        bill(session, company, paid, "I-PAID", D(2026, 11, 2), 5_000_00)
        bill(session, company, part, "I-PART", D(2026, 11, 2), 5_000_00)
    run_days(factory, company, D(2026, 10, 26), D(2026, 11, 5))
    with unit_of_work(factory) as session:
        for code, amount in (("PAID", 5_000_00), ("PART", 3_000_00)):
            from huikuan.customers.service import get_customer

            service.record_payment(
                session,
                actor=ACTOR,
                company_id=company.id,
                customer=get_customer(session, company_id=company.id, code=code),
                received_on=D(2026, 11, 6),
                amount=amount,
            )
    run_days(factory, company, D(2026, 11, 6), D(2026, 11, 30))
    with factory() as session:
        assert [step for _, _, step, _ in actions_of(session, company, ["PAID"])] == [
            "到期前提醒",
            "到期通知",
            "到期短信",
        ]
        later = [(d, s) for _, d, s, _ in actions_of(session, company, ["PART"])][3:]
        # Not restarted by the payment: the call at +10, the supply stop at +20, as before.
        assert later == [(D(2026, 11, 12), "电话催收"), (D(2026, 11, 23), "暂停供货")]
        call = session.scalars(
            select(CollectionAction).where(CollectionAction.step_name == "电话催收")
        ).one()
        assert call.amount == 2_000_00  # what is left


def test_supply_stop_is_placed_through_credit_and_released_when_the_overdue_is_paid(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "I-1", D(2026, 11, 2), 8_000_00)
    run(factory, company, D(2026, 11, 12))  # catches up to the call
    run(factory, company, D(2026, 11, 23))
    with factory() as session:
        hold = session.scalars(select(CreditHold)).one()
        assert (hold.kind, hold.origin, hold.released_at) == ("supply_stop", "collections", None)
        assert "暂停供货" in hold.reason and "¥8,000.00" in hold.reason
    with unit_of_work(factory) as session:
        from huikuan.customers.service import get_customer

        service.record_payment(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=get_customer(session, company_id=company.id, code="C001"),
            received_on=D(2026, 11, 24),
            amount=8_000_00,
        )
    summary = run(factory, company, D(2026, 11, 25))
    assert summary.holds_released == 1
    with factory() as session:
        hold = session.scalars(select(CreditHold)).one()
        assert hold.released_at is not None and hold.released_by == ACTOR.name
        assert "结清" in hold.release_reason


def test_a_stop_placed_by_a_person_is_not_lifted_by_the_run(
    factory: sessionmaker[Session], company: Company
) -> None:
    from huikuan.credit.holds import place_on_hold

    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        place_on_hold(
            session,
            actor=ACTOR,
            company_id=company.id,
            customer=c,
            kind="supply_stop",
            reason="总经理决定",
        )
    assert run(factory, company, D(2026, 12, 2)).holds_released == 0
    with factory() as session:
        assert session.scalars(select(CreditHold.released_at)).one() is None


def test_litigation_step_opens_a_referral_with_the_evidence(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "I-1", D(2026, 9, 1), 50_000_00)
        bill(session, company, c, "I-2", D(2026, 9, 3), 7_000_00)
    for day in (D(2026, 11, 2), D(2026, 11, 9), D(2026, 11, 16)):
        run(factory, company, day)
    with factory() as session:
        referral = session.scalars(select(Referral)).one()
        assert (referral.kind, referral.amount, referral.status) == (
            "litigation",
            57_000_00,
            "open",
        )
        evidence = json.loads(referral.evidence)
        assert [e["number"] for e in evidence if e["kind"] == "invoice"] == ["I-1", "I-2"]
        action = session.get_one(CollectionAction, referral.action_id)
        assert (action.assignee, action.status) == ("legal", "open")


def test_a_customers_strategy_chosen_by_hand_wins_over_the_rules(
    factory: sessionmaker[Session], company: Company
) -> None:
    from huikuan.collections.strategies import assign_customer, import_strategies

    with_strategies(factory, company)
    fast = """
strategies:
  - code: fast
    name: 快速
    steps:
      - {name: 立即电话, trigger: 1, channel: phone_task}
"""
    with unit_of_work(factory) as session:
        import_strategies(session, actor=ACTOR, company_id=company.id, text=fast)
        c = debtor(session, company, "C001")
        bill(session, company, c, "I-1", D(2026, 12, 1), 1_000_00)
        assign_customer(
            session, actor=ACTOR, company_id=company.id, customer=c, code="fast", reason="老赖"
        )
    assert run(factory, company, D(2026, 12, 2)).actions == {"phone_task": 1}
    with factory() as session:
        assert [s for _, _, s, _ in actions_of(session, company)] == ["立即电话"]


def test_a_step_with_nobody_to_write_to_is_recorded_as_skipped(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001", email="", phone="")
        bill(session, company, c, "I-1", D(2026, 12, 2), 1_000_00)
    run(factory, company, D(2026, 12, 2))
    with factory() as session:
        actions = session.scalars(select(CollectionAction).order_by(CollectionAction.id)).all()
        assert [(a.channel, a.status) for a in actions] == [
            ("email", "skipped"),
            ("sms", "skipped"),
        ]
        assert "邮箱" in actions[0].detail and "手机" in actions[1].detail
        assert count(session, Delivery) == 0


def test_a_year_without_a_holiday_schedule_runs_monday_to_friday_and_says_so(
    factory: sessionmaker[Session], company: Company
) -> None:
    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "I-1", D(2027, 1, 1), 1_000_00)
    summary = run(factory, company, D(2027, 1, 1))
    assert summary.calendar_unknown_years == [2027]
    assert summary.working_day  # New Year's Day is unknown until the schedule is imported
    assert summary.actions == {"email": 1, "sms": 1}


def test_a_second_run_started_while_one_is_running_is_refused(
    factory: sessionmaker[Session], company: Company, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from huikuan.core.errors import Conflict

    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "I-1", D(2026, 11, 20), 1_000_00)
    inside, release = threading.Event(), threading.Event()
    real = effects.carry_out

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        inside.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(effects, "carry_out", slow)
    first = threading.Thread(target=run, args=(factory, company, D(2026, 12, 2)))
    first.start()
    assert inside.wait(10)
    with pytest.raises(Conflict, match="another daily run"):
        run(factory, company, D(2026, 12, 2))
    release.set()
    first.join(10)
    with factory() as session:
        assert count(session, CollectionAction) == 1
        assert session.scalars(select(DailyRun.status)).all() == ["finished"]


def test_a_run_killed_outright_is_taken_over_by_a_person(
    factory: sessionmaker[Session], company: Company
) -> None:
    from huikuan.collections.daily import run_daily
    from huikuan.core.errors import Conflict

    with_strategies(factory, company)
    with unit_of_work(factory) as session:
        c = debtor(session, company, "C001")
        bill(session, company, c, "I-1", D(2026, 11, 20), 1_000_00)
        session.add(  # what a power cut leaves behind
            DailyRun(
                company_id=company.id,
                as_of=D(2026, 12, 1),
                status="running",
                started_at=dt.datetime(2026, 12, 1, 9),
                started_by="cron",
            )
        )
    with pytest.raises(Conflict, match="--takeover"):
        run(factory, company, D(2026, 12, 2))
    summary = run_daily(
        factory,
        company_id=company.id,
        as_of=D(2026, 12, 2),
        now=dt.datetime(2026, 12, 2, 9),
        actor=ACTOR,
        takeover=True,
    )
    assert summary.actions == {"phone_task": 1}
    with factory() as session:
        statuses = session.scalars(select(DailyRun.status).order_by(DailyRun.id)).all()
        assert statuses == ["abandoned", "finished"]
