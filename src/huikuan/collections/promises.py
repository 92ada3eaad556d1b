"""Promises to pay (承诺付款): recording them, judging them from the money received, and what a
broken promise does (the ladder resumes at once; the scorecard counts it).

The rules are in ``promise_rules.py``. The grace in working days is the company's
``collection_settings.promise_grace_workdays`` (2 unless changed; payment plans use the same
grace) unless the caller passes another.

While a promise is open and its last instalment not yet due, the daily run leaves its invoices
alone (``daily.chaseable`` reads ``promise_to_pay.promised_on``, which is the last instalment's
due date). Once judged (kept, partly kept, broken) it no longer holds anything back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from huikuan.collections.models import (
    CollectionSettings,
    DunningState,
    PromiseInstalment,
    PromiseInvoice,
    PromiseToPay,
)
from huikuan.collections.promise_rules import (
    DEFAULT_GRACE_WORKDAYS,
    Instalment,
    PromiseStatus,
    Received,
    judge,
)
from huikuan.core.audit import Actor, record_change
from huikuan.core.calendar import load_calendar
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.customers.models import Customer
from huikuan.ledger.models import Allocation, Invoice, InvoiceStatus


@dataclass(slots=True)
class CheckResult:
    """What ``check_promises`` did: promises judged by verdict, and invoices escalated."""

    checked: int = 0
    judged: dict[str, int] = field(default_factory=dict)  # status -> promises
    escalated_invoices: int = 0


def record_promise(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    customer: Customer,
    invoice_numbers: Sequence[str],
    instalments: Sequence[tuple[dt.date, int]],
    made_on: dt.date,
    made_by: str = "",
    note: str = "",
) -> PromiseToPay:
    """Record a customer's promise to pay ``instalments`` (due date, fen) towards open invoices.

    Refused: no invoice or no instalment, an invoice that is not the customer's or not open, an
    invoice already under an open promise, an instalment not positive or due before the day
    the promise was made, instalments adding up to more than the invoices' open amount."""
    if customer.company_id != company_id:
        raise NotFound(f"没有客户 {customer.code} / no customer {customer.code}")
    numbers = list(dict.fromkeys(n.strip() for n in invoice_numbers if n.strip()))
    if not numbers:
        raise InvalidInput("请至少指定一张发票 / name at least one invoice")
    if not instalments:
        raise InvalidInput("请至少指定一期付款 / give at least one instalment")
    for due_on, amount in instalments:
        if amount <= 0:
            raise InvalidInput(
                f"{due_on} 的承诺金额必须大于零 / the amount promised for {due_on} must be positive"
            )
        if due_on < made_on:
            raise InvalidInput(
                f"承诺付款日 {due_on} 早于承诺日 {made_on} / "
                f"instalment date {due_on} is before the promise was made ({made_on})"
            )
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.company_id == company_id, Invoice.number.in_(numbers))
        .with_for_update()
    ).all()
    found = {i.number: i for i in invoices}
    for number in numbers:
        invoice = found.get(number)
        if invoice is None or invoice.customer_id != customer.id:
            raise NotFound(
                f"客户 {customer.code} 没有发票 {number} / customer {customer.code} has no invoice {number}"
            )
        if invoice.status != InvoiceStatus.OPEN.value or invoice.open_amount <= 0:
            raise Conflict(f"发票 {number} 已结清或作废 / invoice {number} is not open")
    ids = [found[n].id for n in numbers]
    already = session.scalars(
        select(Invoice.number)
        .join(PromiseInvoice, PromiseInvoice.invoice_id == Invoice.id)
        .join(PromiseToPay, PromiseToPay.id == PromiseInvoice.promise_id)
        .where(PromiseInvoice.invoice_id.in_(ids), PromiseToPay.status == PromiseStatus.OPEN.value)
    ).all()
    if already:
        listed = ", ".join(sorted(already))
        raise Conflict(
            f"发票 {listed} 已有未了结的付款承诺 / invoice {listed} already has an open promise"
        )
    total = sum(amount for _, amount in instalments)
    open_total = sum(found[n].open_amount for n in numbers)
    if total > open_total:
        raise InvalidInput(
            f"承诺金额 {total / 100:.2f} 超过发票未结金额 {open_total / 100:.2f} / "
            f"the promised total {total / 100:.2f} exceeds the invoices' open amount "
            f"{open_total / 100:.2f}"
        )
    ordered = sorted(instalments)
    promise = PromiseToPay(
        company_id=company_id,
        customer_id=customer.id,
        promised_on=ordered[-1][0],
        amount=total,
        made_on=made_on,
        status=PromiseStatus.OPEN.value,
        note=note,
        made_by=made_by,
        recorded_by=actor.name,
    )
    session.add(promise)
    session.flush()
    session.add_all(
        PromiseInvoice(promise_id=promise.id, invoice_id=i, company_id=company_id) for i in ids
    )
    session.add_all(
        PromiseInstalment(
            company_id=company_id,
            promise_id=promise.id,
            due_on=due_on,
            amount=amount,
            paid=0,
            status=PromiseStatus.OPEN.value,
        )
        for due_on, amount in ordered
    )
    session.flush()
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="promise_to_pay",
        entity_id=promise.id,
        action="create",
        after={
            "customer": customer.code,
            "invoices": numbers,
            "instalments": [[d.isoformat(), a] for d, a in ordered],
            "amount": total,
            "made_on": made_on.isoformat(),
            "made_by": made_by,
            "note": note,
        },
    )
    return promise


def promise_grace(session: Session, *, company_id: int) -> int:
    """The company's grace in working days for promised money and plan instalments."""
    settings = session.get(CollectionSettings, company_id)
    if settings is None or settings.promise_grace_workdays is None:
        return DEFAULT_GRACE_WORKDAYS
    return int(settings.promise_grace_workdays)


def check_promises(
    session: Session,
    *,
    company_id: int,
    as_of: dt.date,
    actor: Actor,
    grace_workdays: int | None = None,
) -> CheckResult:
    """Judge every open promise on ``as_of`` from the payments applied to its invoices since
    it was made; record the verdicts (audited) and, for a broken promise, let the daily run
    take the invoices' next step at once.

    Escalation sets the invoices' ``dunning_state.not_before`` and ``next_check_on`` to
    ``as_of``: the wait of the last step taken is over and the run reads them today. The next
    step itself still comes when its trigger date has been reached (usually long since, the
    promise having held the invoice back); the ladder is never jumped."""
    if grace_workdays is None:
        grace_workdays = promise_grace(session, company_id=company_id)
    result = CheckResult()
    promises = session.scalars(
        select(PromiseToPay)
        .where(
            PromiseToPay.company_id == company_id,
            PromiseToPay.status == PromiseStatus.OPEN.value,
            PromiseToPay.made_on <= as_of,
        )
        .order_by(PromiseToPay.id)
        .with_for_update()
    ).all()
    if not promises:
        return result
    ids = [p.id for p in promises]
    instalments: dict[int, list[PromiseInstalment]] = {}
    for row in session.scalars(
        select(PromiseInstalment)
        .where(PromiseInstalment.promise_id.in_(ids))
        .order_by(PromiseInstalment.due_on, PromiseInstalment.id)
    ):
        instalments.setdefault(row.promise_id, []).append(row)
    invoices: dict[int, list[int]] = {}
    for promise_id, invoice_id in session.execute(
        select(PromiseInvoice.promise_id, PromiseInvoice.invoice_id).where(
            PromiseInvoice.promise_id.in_(ids)
        )
    ):
        invoices.setdefault(promise_id, []).append(invoice_id)
    received = _received(session, company_id, ids, as_of)
    calendar = load_calendar(session, company_id=company_id)
    broken_invoices: set[int] = set()
    for promise in promises:
        rows = instalments.get(promise.id, [])
        if not rows:
            continue
        result.checked += 1
        verdict = judge(
            [Instalment(r.due_on, r.amount) for r in rows],
            [Received(day, amount) for day, amount in received.get(promise.id, [])],
            made_on=promise.made_on,
            as_of=as_of,
            grace_workdays=grace_workdays,
            calendar=calendar,
        )
        before = _facts(promise, rows)
        for row, judged in zip(rows, verdict.instalments, strict=True):
            row.paid = judged.paid
            row.status = judged.status.value
        if verdict.status is PromiseStatus.OPEN:
            continue
        promise.status = verdict.status.value
        promise.settled_on = as_of
        result.judged[verdict.status.value] = result.judged.get(verdict.status.value, 0) + 1
        if verdict.status is PromiseStatus.BROKEN:
            broken_invoices.update(invoices.get(promise.id, []))
        record_change(
            session,
            actor=actor,
            company_id=company_id,
            entity="promise_to_pay",
            entity_id=promise.id,
            action="judge",
            before=before,
            after=_facts(promise, rows) | {"grace_workdays": grace_workdays},
        )
    if broken_invoices:
        result.escalated_invoices = _escalate(session, company_id, sorted(broken_invoices), as_of)
    session.flush()
    return result


def _received(
    session: Session, company_id: int, promise_ids: list[int], as_of: dt.date
) -> dict[int, list[tuple[dt.date, int]]]:
    """Per promise, the payments (not credit notes) applied to its invoices on or after the
    day it was made, still live on ``as_of``, summed per day."""
    rows = session.execute(
        select(PromiseToPay.id, Allocation.effective_on, func.sum(Allocation.amount))
        .join(PromiseInvoice, PromiseInvoice.promise_id == PromiseToPay.id)
        .join(Allocation, Allocation.invoice_id == PromiseInvoice.invoice_id)
        .where(
            PromiseToPay.id.in_(promise_ids),
            Allocation.company_id == company_id,
            Allocation.payment_id.is_not(None),
            Allocation.effective_on >= PromiseToPay.made_on,
            Allocation.effective_on <= as_of,
            or_(Allocation.reversed_on.is_(None), Allocation.reversed_on > as_of),
        )
        .group_by(PromiseToPay.id, Allocation.effective_on)
    ).all()
    found: dict[int, list[tuple[dt.date, int]]] = {}
    for promise_id, day, amount in rows:
        found.setdefault(promise_id, []).append((_as_date(day), int(amount)))
    return found


def _escalate(session: Session, company_id: int, invoice_ids: list[int], as_of: dt.date) -> int:
    """The invoices' next step may come today: no remaining wait, read by today's run."""
    outcome = session.execute(
        update(DunningState)
        .where(
            DunningState.company_id == company_id,
            DunningState.invoice_id.in_(invoice_ids),
            or_(
                DunningState.not_before > as_of,
                DunningState.next_check_on.is_(None),
                DunningState.next_check_on > as_of,
            ),
        )
        .values(not_before=as_of, next_check_on=as_of)
        .execution_options(synchronize_session=False)
    )
    return int(outcome.rowcount or 0)  # type: ignore[attr-defined]


def _facts(promise: PromiseToPay, rows: list[PromiseInstalment]) -> dict[str, object]:
    return {
        "status": promise.status,
        "settled_on": promise.settled_on.isoformat() if promise.settled_on else None,
        "instalments": [[r.due_on.isoformat(), r.amount, r.paid, r.status] for r in rows],
    }


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def list_promises(
    session: Session, *, company_id: int, customer_id: int | None = None
) -> list[tuple[PromiseToPay, str, list[PromiseInstalment], list[str]]]:
    """Promises, newest first: the promise, its customer's code, instalments, invoice numbers."""
    query = (
        select(PromiseToPay, Customer.code)
        .join(Customer, Customer.id == PromiseToPay.customer_id)
        .where(PromiseToPay.company_id == company_id)
        .order_by(PromiseToPay.made_on.desc(), PromiseToPay.id.desc())
    )
    if customer_id is not None:
        query = query.where(PromiseToPay.customer_id == customer_id)
    rows = session.execute(query).all()
    ids = [p.id for p, _ in rows]
    instalments: dict[int, list[PromiseInstalment]] = {}
    numbers: dict[int, list[str]] = {}
    if ids:
        for row in session.scalars(
            select(PromiseInstalment)
            .where(PromiseInstalment.promise_id.in_(ids))
            .order_by(PromiseInstalment.due_on, PromiseInstalment.id)
        ):
            instalments.setdefault(row.promise_id, []).append(row)
        for promise_id, number in session.execute(
            select(PromiseInvoice.promise_id, Invoice.number)
            .join(Invoice, Invoice.id == PromiseInvoice.invoice_id)
            .where(PromiseInvoice.promise_id.in_(ids))
            .order_by(Invoice.number)
        ):
            numbers.setdefault(promise_id, []).append(number)
    return [(p, code, instalments.get(p.id, []), numbers.get(p.id, [])) for p, code in rows]


def broken_promises(
    session: Session,
    *,
    company_id: int,
    customer_ids: Sequence[int] | None,
    since: dt.date,
    as_of: dt.date,
) -> dict[int, int]:
    """Per customer, the promises judged broken between ``since`` and ``as_of`` (inclusive):
    the scorecard's ``broken_promises`` factor. Customers with none are absent."""
    query = (
        select(PromiseToPay.customer_id, func.count())
        .where(
            PromiseToPay.company_id == company_id,
            PromiseToPay.status == PromiseStatus.BROKEN.value,
            and_(PromiseToPay.settled_on >= since, PromiseToPay.settled_on <= as_of),
        )
        .group_by(PromiseToPay.customer_id)
    )
    if customer_ids is not None:
        query = query.where(PromiseToPay.customer_id.in_(list(customer_ids)))
    return {customer_id: int(n) for customer_id, n in session.execute(query)}
