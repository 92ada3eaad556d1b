"""Ledger use cases: record invoices, payments and credit notes; allocate; reverse.

Every function takes an open session and writes within the caller's transaction (see
``core.db.unit_of_work``). Invoice rows are locked while money is applied to them, so two
clerks allocating to the same invoice at once on PostgreSQL cannot over-allocate it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, Change, record_change, record_changes
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.customers.models import Customer
from huikuan.ledger import daily_totals, rules
from huikuan.ledger.models import Allocation, CreditNote, Invoice, InvoiceStatus, Payment


def record_invoice(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    customer: Customer,
    number: str,
    issue_date: dt.date,
    due_date: dt.date,
    amount: int,
    currency: str = "CNY",
    order_number: str = "",
    description: str = "",
) -> Invoice:
    if amount <= 0:
        raise InvalidInput(f"发票金额必须大于零 / invoice amount must be positive: {number}")
    if due_date < issue_date:
        raise InvalidInput(f"到期日早于开票日 / due date before issue date: {number}")
    exists = session.scalar(
        select(Invoice.id).where(Invoice.company_id == company_id, Invoice.number == number)
    )
    if exists is not None:
        raise Conflict(f"发票号 {number} 已存在 / invoice number {number} already exists")
    invoice = Invoice(
        company_id=company_id,
        customer_id=customer.id,
        number=number,
        order_number=order_number,
        issue_date=issue_date,
        due_date=due_date,
        amount=amount,
        currency=currency,
        open_amount=amount,
        status=InvoiceStatus.OPEN.value,
        description=description,
    )
    session.add(invoice)
    session.flush()
    daily_totals.add(
        session, company_id=company_id, currency=currency, day=issue_date, invoiced=amount
    )
    record_change(
        session, actor=actor, company_id=company_id, entity="invoice", entity_id=number,
        action="create", after=_invoice_facts(invoice, customer),
    )  # fmt: skip
    return invoice


def _invoice_facts(invoice: Invoice, customer: Customer) -> dict[str, object]:
    return {
        "customer": customer.code,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "amount": invoice.amount,
        "currency": invoice.currency,
        "order_number": invoice.order_number,
    }


def open_items(
    session: Session, *, company_id: int, customer_id: int, currency: str, lock: bool = False
) -> list[Invoice]:
    query = select(Invoice).where(
        Invoice.company_id == company_id,
        Invoice.customer_id == customer_id,
        Invoice.currency == currency,
        Invoice.open_amount > 0,
    )
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query.order_by(Invoice.id)))


def record_payment(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    customer: Customer,
    received_on: dt.date,
    amount: int,
    currency: str = "CNY",
    method: str = "bank_transfer",
    reference: str = "",
    payer_name: str = "",
    invoice_numbers: Sequence[str] = (),
    amounts: Sequence[int] | None = None,
    apply: bool = True,
    import_key: str | None = None,
) -> Payment:
    """Record money received and apply it: to the named invoices if the customer said which
    (``amounts`` each, or filling them in order), otherwise to the oldest open invoices; with
    ``apply=False`` not at all. Whatever is left stays as unapplied credit."""
    if amount <= 0:
        raise InvalidInput("收款金额必须大于零 / payment amount must be positive")
    payment = Payment(
        company_id=company_id,
        customer_id=customer.id,
        received_on=received_on,
        amount=amount,
        currency=currency,
        method=method,
        reference=reference,
        payer_name=payer_name,
        unapplied_amount=amount,
        import_key=import_key,
    )
    session.add(payment)
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="payment", entity_id=payment.id,
        action="create", after=_payment_facts(payment, customer),
    )  # fmt: skip
    if not apply:
        return payment
    if invoice_numbers:
        allocate_to_invoices(
            session,
            actor=actor,
            payment=payment,
            invoice_numbers=invoice_numbers,
            amounts=amounts,
        )
    else:
        allocate_oldest_first(session, actor=actor, payment=payment)
    return payment


def _payment_facts(payment: Payment, customer: Customer) -> dict[str, object]:
    return {
        "customer": customer.code, "received_on": payment.received_on, "amount": payment.amount,
        "currency": payment.currency, "method": payment.method, "reference": payment.reference,
        "payer_name": payment.payer_name,
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class NewPayment:
    """One payment for :func:`record_payments`: money received from ``customer``, applied as
    ``applications`` ((invoice id, fen), in that order); what is left stays unapplied."""

    customer: Customer
    received_on: dt.date
    amount: int
    applications: tuple[tuple[int, int], ...] = ()
    currency: str = "CNY"
    method: str = "bank_transfer"
    reference: str = ""
    payer_name: str = ""
    import_key: str | None = None


def record_payments(
    session: Session, *, actor: Actor, company_id: int, payments: Sequence[NewPayment]
) -> list[Payment]:
    """Record many payments with explicit applications at once (a bank file's sure lines).

    The same payments, allocations, invoice balances and statuses, day totals and audit
    records as :func:`record_payment` with ``invoice_numbers`` and ``amounts`` called for each
    in turn, checked the same way, in a few statements per thousand payments instead of about
    twenty per payment. Every invoice named is locked first (in id order); one payment refused
    refuses them all."""
    if any(p.amount <= 0 for p in payments):
        raise InvalidInput("收款金额必须大于零 / payment amount must be positive")
    named = {invoice_id for p in payments for invoice_id, _ in p.applications}
    invoices = _lock_invoices(session, company_id=company_id, invoice_ids=named)
    rows = [
        Payment(
            company_id=company_id, customer_id=p.customer.id, received_on=p.received_on,
            amount=p.amount, currency=p.currency, method=p.method, reference=p.reference,
            payer_name=p.payer_name, unapplied_amount=p.amount, import_key=p.import_key,
        )
        for p in payments
    ]  # fmt: skip
    # Applied in order before the payments are inserted, so each is written once, with what
    # is left unapplied; the allocations learn their payment's id after the insert.
    applied = [
        _applied(payment, _named_plan(payment, new.applications, invoices), invoices)
        if new.applications
        else []
        for new, payment in zip(payments, rows, strict=True)
    ]
    session.add_all(rows)
    session.flush()
    changes: list[Change] = []
    for new, payment, allocations in zip(payments, rows, applied, strict=True):
        facts = _payment_facts(payment, new.customer)
        changes.append(Change("payment", payment.id, "create", after=facts))
        for allocation in allocations:
            allocation.payment_id = payment.id
        if allocations:
            facts = _allocated(allocations, payment, invoices)
            changes.append(Change("payment", payment.id, "allocate", after=facts))
    written = [allocation for allocations in applied for allocation in allocations]
    # Nothing refers to the new allocations' ids: one executemany, not an INSERT … RETURNING
    # per row (which SQLite needs to give the ORM each id in order).
    columns = ("company_id", "invoice_id", "payment_id", "credit_note_id", "amount", "effective_on")
    rows_written = [{c: getattr(allocation, c) for c in columns} for allocation in written]
    for start in range(0, len(rows_written), 1000):
        session.execute(insert(Allocation), rows_written[start : start + 1000])
    _add_applied_totals(session, company_id, written, invoices)
    session.flush()
    _refresh_settlements(session, [invoices[i] for i in sorted({a.invoice_id for a in written})])
    record_changes(session, actor=actor, company_id=company_id, changes=changes)
    return rows


def _lock_invoices(
    session: Session, *, company_id: int, invoice_ids: Iterable[int]
) -> dict[int, Invoice]:
    ids = sorted(invoice_ids)
    found: dict[int, Invoice] = {}
    for start in range(0, len(ids), 1000):
        found.update(
            (invoice.id, invoice)
            for invoice in session.scalars(
                select(Invoice)
                .where(Invoice.company_id == company_id, Invoice.id.in_(ids[start : start + 1000]))
                .order_by(Invoice.id)
                .with_for_update()
            )
        )
    return found


def _named_plan(
    payment: Payment, applications: Sequence[tuple[int, int]], invoices: dict[int, Invoice]
) -> rules.AllocationPlan:
    """The checks of ``allocate_to_invoices`` with explicit amounts, by invoice id."""
    for invoice_id, _ in applications:
        invoice = invoices.get(invoice_id)
        if invoice is None:
            raise NotFound(f"没有发票 {invoice_id} / no invoice {invoice_id}")
        _check_named(payment, invoice)
    items = [_open_item(invoices[invoice_id]) for invoice_id, _ in applications]
    requested = [rules.Application(invoice_id, amount) for invoice_id, amount in applications]
    return _plan_named(payment, items, requested)


def _plan_named(
    payment: Payment | CreditNote,
    items: Sequence[rules.OpenItem],
    requested: Sequence[rules.Application] | None,
) -> rules.AllocationPlan:
    try:
        return rules.allocate_to_named(payment.unapplied_amount, items, requested)
    except rules.OverAllocation as exc:
        raise Conflict(f"分配金额超出未结金额 / over-allocation: {exc}") from exc


def allocate_oldest_first(session: Session, *, actor: Actor, payment: Payment) -> list[Allocation]:
    items = open_items(
        session,
        company_id=payment.company_id,
        customer_id=payment.customer_id,
        currency=payment.currency,
        lock=True,
    )
    plan = rules.allocate_oldest_first(payment.unapplied_amount, [_open_item(i) for i in items])
    return _write_plan(
        session, actor=actor, source=payment, plan=plan, invoices={i.id: i for i in items}
    )


def allocate_to_invoices(
    session: Session,
    *,
    actor: Actor,
    payment: Payment | CreditNote,
    invoice_numbers: Sequence[str],
    amounts: Sequence[int] | None = None,
) -> list[Allocation]:
    """Apply a payment to named invoices, with explicit amounts or filling them in order."""
    invoices = _lock_named_invoices(session, payment=payment, numbers=invoice_numbers)
    items = [_open_item(invoices[n]) for n in invoice_numbers]
    requested = None
    if amounts is not None:
        if len(amounts) != len(invoice_numbers):
            raise InvalidInput("每张发票需要一个金额 / one amount per invoice")
        requested = [
            rules.Application(invoices[n].id, a)
            for n, a in zip(invoice_numbers, amounts, strict=True)
        ]
    plan = _plan_named(payment, items, requested)
    by_id = {inv.id: inv for inv in invoices.values()}
    return _write_plan(session, actor=actor, source=payment, plan=plan, invoices=by_id)


def apply_credit(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    source: tuple[str, str],
    applications: Sequence[tuple[str, int]],
) -> list[Allocation]:
    """Apply money already on the customer's account (a payment's or credit note's unapplied
    rest) to named invoices with explicit amounts. ``source`` is ("payment", id) or
    ("credit_note", number). The source row is locked first, so two clerks applying the same
    credit at once cannot spend it twice."""
    if not applications:
        raise InvalidInput("请至少填写一张发票的金额 / enter an amount for at least one invoice")
    numbers = [number for number, _ in applications]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("同一发票填写了两次 / the same invoice twice")
    for number, amount in applications:
        if amount <= 0:
            raise InvalidInput(
                f"发票 {number} 的金额必须大于零 / amount for {number} must be positive"
            )
    found = lock_money_source(session, company_id=company_id, source=source)
    if isinstance(found, Payment) and found.reversed_on is not None:
        raise Conflict(f"收款 {found.id} 已冲销 / payment {found.id} is reversed")
    total = sum(amount for _, amount in applications)
    if total > found.unapplied_amount:
        raise Conflict(
            f"分配合计 {total} 分超过未核销余额 {found.unapplied_amount} 分 / "
            f"{total} fen applied but only {found.unapplied_amount} fen unapplied"
        )
    return allocate_to_invoices(
        session, actor=actor, payment=found, invoice_numbers=numbers,
        amounts=[amount for _, amount in applications],
    )  # fmt: skip


def lock_money_source(
    session: Session, *, company_id: int, source: tuple[str, str]
) -> Payment | CreditNote:
    """The payment (by id) or credit note (by number) of this company, locked for update."""
    kind, key = source
    found: Payment | CreditNote | None
    if kind == "payment":
        found = (
            session.scalar(
                select(Payment)
                .where(Payment.company_id == company_id, Payment.id == int(key))
                .with_for_update()
            )
            if key.isdigit() and len(key) <= 18
            else None
        )
        if found is None:
            raise NotFound(f"没有收款 {key} / no payment {key}")
        return found
    found = session.scalar(
        select(CreditNote)
        .where(CreditNote.company_id == company_id, CreditNote.number == key)
        .with_for_update()
    )
    if found is None:
        raise NotFound(f"没有贷项通知 {key} / no credit note {key}")
    return found


def _lock_named_invoices(
    session: Session, *, payment: Payment | CreditNote, numbers: Sequence[str]
) -> dict[str, Invoice]:
    found = {
        inv.number: inv
        for inv in session.scalars(
            select(Invoice)
            .where(Invoice.company_id == payment.company_id, Invoice.number.in_(list(numbers)))
            .with_for_update()
        )
    }
    for number in numbers:
        invoice = found.get(number)
        if invoice is None:
            raise NotFound(f"没有发票 {number} / no invoice {number}")
        _check_named(payment, invoice)
    return found


def _check_named(payment: Payment | CreditNote, invoice: Invoice) -> None:
    number = invoice.number
    if invoice.customer_id != payment.customer_id:
        raise InvalidInput(
            f"发票 {number} 属于其他客户 / invoice {number} belongs to another customer"
        )
    if invoice.currency != payment.currency:
        raise InvalidInput(f"发票 {number} 币种不同 / invoice {number} is in another currency")


def _open_item(invoice: Invoice) -> rules.OpenItem:
    return rules.OpenItem(
        invoice.id, invoice.number, invoice.issue_date, invoice.due_date, invoice.open_amount
    )


def _money_date(source: Payment | CreditNote) -> dt.date:
    return source.received_on if isinstance(source, Payment) else source.issued_on


def _write_plan(
    session: Session,
    *,
    actor: Actor,
    source: Payment | CreditNote,
    plan: rules.AllocationPlan,
    invoices: dict[int, Invoice],
) -> list[Allocation]:
    written = _applied(source, plan, invoices)
    session.add_all(written)
    _add_applied_totals(session, source.company_id, written, invoices)
    session.flush()
    _refresh_settlements(session, [invoices[i] for i in sorted({a.invoice_id for a in written})])
    if written:
        record_change(
            session, actor=actor, company_id=source.company_id,
            entity="payment" if isinstance(source, Payment) else "credit_note",
            entity_id=source.id if isinstance(source, Payment) else source.number,
            action="allocate", after=_allocated(written, source, invoices),
        )  # fmt: skip
    return written


def _applied(
    source: Payment | CreditNote, plan: rules.AllocationPlan, invoices: dict[int, Invoice]
) -> list[Allocation]:
    """The plan's allocations (not yet added to the session), with the balances they move:
    the invoices' open amounts and the source's unapplied amount."""
    written = []
    for application in plan.applications:
        invoice = invoices[application.invoice_id]
        if application.amount > invoice.open_amount:  # the rules guard this; the DB checks it too
            raise Conflict(f"分配金额超出未结金额 / over-allocation on {invoice.number}")
        written.append(
            Allocation(
                company_id=source.company_id,
                invoice_id=invoice.id,
                payment_id=source.id if isinstance(source, Payment) else None,
                credit_note_id=source.id if isinstance(source, CreditNote) else None,
                amount=application.amount,
                effective_on=rules.effective_date(_money_date(source), invoice.issue_date),
            )
        )
        invoice.open_amount -= application.amount
        source.unapplied_amount -= application.amount
    return written


def _add_applied_totals(
    session: Session, company_id: int, written: Sequence[Allocation], invoices: dict[int, Invoice]
) -> None:
    """The day totals of the money applied: one upsert per currency and day."""
    applied: dict[tuple[str, dt.date], int] = defaultdict(int)
    for allocation in written:
        applied[(invoices[allocation.invoice_id].currency, allocation.effective_on)] += (
            allocation.amount
        )
    for (currency, day), amount in sorted(applied.items()):
        daily_totals.add(session, company_id=company_id, currency=currency, day=day, applied=amount)


def _allocated(
    written: Sequence[Allocation], source: Payment | CreditNote, invoices: dict[int, Invoice]
) -> dict[str, object]:
    return {
        "allocations": [[invoices[a.invoice_id].number, a.amount, a.effective_on] for a in written],
        "unapplied": source.unapplied_amount,
    }


def _refresh_settlement(session: Session, invoice: Invoice) -> None:
    _refresh_settlements(session, [invoice])


def _refresh_settlements(session: Session, invoices: Sequence[Invoice]) -> None:
    """Keep ``status`` and ``settled_on`` in step with the invoices' live allocations: a paid
    invoice is settled on the latest effective date of its live allocations (one grouped
    query per thousand paid invoices)."""
    paid = []
    for invoice in invoices:
        if invoice.status == InvoiceStatus.VOID.value:
            continue
        if invoice.open_amount > 0:
            invoice.status, invoice.settled_on = InvoiceStatus.OPEN.value, None
        else:
            invoice.status = InvoiceStatus.PAID.value
            paid.append(invoice)
    for start in range(0, len(paid), 1000):
        chunk = paid[start : start + 1000]
        latest = dict(
            session.execute(
                select(Allocation.invoice_id, func.max(Allocation.effective_on))
                .where(
                    Allocation.invoice_id.in_([i.id for i in chunk]),
                    Allocation.reversed_on.is_(None),
                )
                .group_by(Allocation.invoice_id)
            ).all()
        )
        for invoice in chunk:
            invoice.settled_on = latest.get(invoice.id)


def reverse_payment(
    session: Session, *, actor: Actor, company_id: int, payment_id: int, reversed_on: dt.date
) -> Payment:
    """Undo a payment (bounced transfer, entry error): its allocations are stamped reversed on
    ``reversed_on`` and the invoices are open again by the same amounts. History keeps both."""
    payment = session.scalar(
        select(Payment)
        .where(Payment.company_id == company_id, Payment.id == payment_id)
        .with_for_update()
    )
    if payment is None:
        raise NotFound(f"没有收款 {payment_id} / no payment {payment_id}")
    if payment.reversed_on is not None:
        raise Conflict(f"收款 {payment_id} 已冲销 / payment {payment_id} is already reversed")
    if reversed_on < payment.received_on:
        raise InvalidInput("冲销日期早于收款日期 / reversal date before the payment date")
    allocations = list(
        session.scalars(
            select(Allocation).where(
                Allocation.payment_id == payment.id, Allocation.reversed_on.is_(None)
            )
        )
    )
    invoice_ids = sorted({a.invoice_id for a in allocations})
    invoices = {
        inv.id: inv
        for inv in session.scalars(
            select(Invoice).where(Invoice.id.in_(invoice_ids)).with_for_update()
        )
    }
    for allocation in allocations:
        allocation.reversed_on = max(reversed_on, allocation.effective_on)
        invoice = invoices[allocation.invoice_id]
        invoice.open_amount += allocation.amount
        daily_totals.add(
            session, company_id=company_id, currency=invoice.currency,
            day=allocation.reversed_on, applied=-allocation.amount,
        )  # fmt: skip
    payment.reversed_on = reversed_on
    payment.unapplied_amount = 0
    session.flush()
    for invoice in invoices.values():
        _refresh_settlement(session, invoice)
    record_change(
        session, actor=actor, company_id=company_id, entity="payment", entity_id=payment.id,
        action="reverse", after={
            "reversed_on": reversed_on,
            "reopened": [[invoices[a.invoice_id].number, a.amount] for a in allocations],
        },
    )  # fmt: skip
    return payment


def record_credit_note(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    customer: Customer,
    number: str,
    issued_on: dt.date,
    amount: int,
    currency: str = "CNY",
    reason: str = "",
    invoice_numbers: Sequence[str] = (),
) -> CreditNote:
    """A credit note reduces what the customer owes: applied to the invoices it names, else to
    the oldest open ones; any rest is credit on the account."""
    if amount <= 0:
        raise InvalidInput("贷项通知金额必须大于零 / credit note amount must be positive")
    if session.scalar(
        select(CreditNote.id).where(
            CreditNote.company_id == company_id, CreditNote.number == number
        )
    ):
        raise Conflict(f"贷项通知 {number} 已存在 / credit note {number} already exists")
    note = CreditNote(
        company_id=company_id,
        customer_id=customer.id,
        number=number,
        issued_on=issued_on,
        amount=amount,
        currency=currency,
        reason=reason,
        unapplied_amount=amount,
    )
    session.add(note)
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="credit_note", entity_id=number,
        action="create", after={
            "customer": customer.code, "issued_on": issued_on, "amount": amount,
            "currency": currency, "reason": reason,
        },
    )  # fmt: skip
    if invoice_numbers:
        invoices = _lock_named_invoices(session, payment=note, numbers=invoice_numbers)
        items = [_open_item(invoices[n]) for n in invoice_numbers]
        plan = rules.allocate_to_named(note.unapplied_amount, items)
        _write_plan(
            session,
            actor=actor,
            source=note,
            plan=plan,
            invoices={i.id: i for i in invoices.values()},
        )
    else:
        items_rows = open_items(
            session, company_id=company_id, customer_id=customer.id, currency=currency, lock=True
        )
        plan = rules.allocate_oldest_first(note.amount, [_open_item(i) for i in items_rows])
        _write_plan(
            session, actor=actor, source=note, plan=plan, invoices={i.id: i for i in items_rows}
        )
    return note


def void_invoice(session: Session, *, actor: Actor, company_id: int, number: str) -> Invoice:
    """Void an invoice entered by mistake. Only an invoice nothing was applied to can be voided."""
    invoice = session.scalar(
        select(Invoice)
        .where(Invoice.company_id == company_id, Invoice.number == number)
        .with_for_update()
    )
    if invoice is None:
        raise NotFound(f"没有发票 {number} / no invoice {number}")
    live = session.scalar(
        select(func.count()).where(
            Allocation.invoice_id == invoice.id, Allocation.reversed_on.is_(None)
        )
    )
    if live:
        raise Conflict(
            f"发票 {number} 已有核销，请开具贷项通知 / invoice {number} has allocations: issue a credit note instead"
        )
    before = {"status": invoice.status, "open_amount": invoice.open_amount}
    invoice.status = InvoiceStatus.VOID.value
    invoice.open_amount = 0
    daily_totals.add(
        session, company_id=company_id, currency=invoice.currency, day=invoice.issue_date,
        invoiced=-invoice.amount,
    )  # fmt: skip
    record_change(
        session, actor=actor, company_id=company_id, entity="invoice", entity_id=number,
        action="void", before=before, after={"status": invoice.status, "open_amount": 0},
    )  # fmt: skip
    return invoice


def ledger_discrepancies(session: Session, *, company_id: int) -> list[tuple[str, int, int]]:
    """Invoices whose kept ``open_amount`` disagrees with amount minus live allocations.

    Returns (invoice number, kept open amount, open amount from allocations); empty when the
    ledger is consistent. One SQL statement, whatever the number of invoices.
    """
    applied = (
        select(Allocation.invoice_id, func.sum(Allocation.amount).label("applied"))
        .where(Allocation.company_id == company_id, Allocation.reversed_on.is_(None))
        .group_by(Allocation.invoice_id)
        .subquery()
    )
    computed = Invoice.amount - func.coalesce(applied.c.applied, 0)
    rows = session.execute(
        select(Invoice.number, Invoice.open_amount, computed)
        .outerjoin(applied, applied.c.invoice_id == Invoice.id)
        .where(
            Invoice.company_id == company_id,
            Invoice.status != InvoiceStatus.VOID.value,
            computed != Invoice.open_amount,
        )
        .order_by(Invoice.number)
    ).all()
    return [(r[0], int(r[1]), int(r[2])) for r in rows]
