"""Disputes: an invoice, or part of it, the customer contests.

An open dispute's amount is not chased (the daily run subtracts it, ``daily.chased_amount``)
and not in the collectable total. It is resolved in one of three ways, each audited:

* ``credit_note``: the customer was right. A credit note for the disputed amount is issued
  through the ledger and applied to the invoice (its open amount goes down to the fen); the
  dispute keeps the credit note's id. If payments have since left less open than the disputed
  amount, the rest of the credit note stays as credit on the customer's account.
* ``correction``: settled by a corrected document (a re-issued fapiao, a corrected delivery
  note) for the same amount: the invoice stands and the amount is chased again. If the amount
  itself must come down, resolve with a credit note instead.
* ``rejected``: the claim is refused; the amount is chased again from where the invoice's
  ladder stood.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from huikuan.collections import dispute_rules as rules
from huikuan.collections.models import Dispute
from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.customers.models import Contract, Customer
from huikuan.ledger.models import Invoice, InvoiceStatus
from huikuan.ledger.service import record_credit_note


def _facts(dispute: Dispute, invoice_number: str) -> dict[str, object]:
    return {
        "invoice": invoice_number,
        "amount": dispute.amount,
        "reason": dispute.reason,
        "raised_on": dispute.raised_on,
        "status": dispute.status,
        "window_ends_on": dispute.window_ends_on,
        "within_window": dispute.within_window,
        "resolution": dispute.resolution,
        "resolved_on": dispute.resolved_on,
        "resolution_note": dispute.resolution_note,
        "credit_note_id": dispute.credit_note_id,
    }


def _open_disputed(session: Session, invoice_id: int, *, leave_out: int | None = None) -> int:
    query = select(func.coalesce(func.sum(Dispute.amount), 0)).where(
        Dispute.invoice_id == invoice_id, Dispute.status == "open"
    )
    if leave_out is not None:
        query = query.where(Dispute.id != leave_out)
    return int(session.scalar(query) or 0)


def disputable_amount(session: Session, *, company_id: int, invoice_number: str) -> int:
    """What may still be disputed on an invoice: its open amount less its open disputes."""
    invoice = session.scalar(
        select(Invoice).where(Invoice.company_id == company_id, Invoice.number == invoice_number)
    )
    if invoice is None:
        raise NotFound(f"没有发票 {invoice_number} / no invoice {invoice_number}")
    return rules.disputable(invoice.open_amount, _open_disputed(session, invoice.id))


def raise_dispute(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    invoice_number: str,
    amount: int,
    reason: str,
    raised_on: dt.date,
    note: str = "",
) -> Dispute:
    """Record a dispute on an invoice (all or part of what is open), checked against the
    contract's dispute window: a late claim is recorded as late, not refused."""
    try:
        reason_code = rules.DisputeReason(reason)
    except ValueError:
        choices = ", ".join(r.value for r in rules.DisputeReason)
        raise InvalidInput(
            f"争议原因 {reason} 无效，可选 {choices} / unknown reason {reason}: one of {choices}"
        ) from None
    invoice = session.scalar(
        select(Invoice)
        .where(Invoice.company_id == company_id, Invoice.number == invoice_number)
        .with_for_update()
    )
    if invoice is None:
        raise NotFound(f"没有发票 {invoice_number} / no invoice {invoice_number}")
    if invoice.status != InvoiceStatus.OPEN.value or invoice.open_amount <= 0:
        raise Conflict(
            f"发票 {invoice_number} 没有未结金额 / invoice {invoice_number} has nothing open"
        )
    if raised_on < invoice.issue_date:
        raise InvalidInput(
            f"争议日期早于发票日期 {invoice.issue_date} / raised before the invoice was issued"
        )
    problem = rules.amount_problem(amount, invoice.open_amount, _open_disputed(session, invoice.id))
    if problem:
        raise InvalidInput(problem)
    contracts = [
        rules.ContractTerms(row.signed_on, row.ends_on, row.dispute_window_days)
        for row in session.scalars(
            select(Contract).where(
                Contract.company_id == company_id, Contract.customer_id == invoice.customer_id
            )
        )
    ]
    window = rules.check_window(invoice.issue_date, raised_on, contracts)
    dispute = Dispute(
        company_id=company_id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        amount=amount,
        reason=reason_code.value,
        note=note,
        raised_on=raised_on,
        status="open",
        window_ends_on=window.window_ends_on,
        within_window=window.within_window,
    )
    session.add(dispute)
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="dispute", entity_id=dispute.id,
        action="create", after=_facts(dispute, invoice.number) | {"note": note},
    )  # fmt: skip
    return dispute


def resolve_dispute(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    dispute_id: int,
    resolution: str,
    note: str,
    resolved_on: dt.date,
    credit_note_number: str | None = None,
) -> Dispute:
    """Close a dispute by credit note, correction or rejection (see the module text)."""
    try:
        how = rules.Resolution(resolution)
    except ValueError:
        choices = ", ".join(r.value for r in rules.Resolution)
        raise InvalidInput(
            f"处理方式 {resolution} 无效，可选 {choices} / unknown resolution: one of {choices}"
        ) from None
    dispute = session.scalar(
        select(Dispute)
        .where(Dispute.company_id == company_id, Dispute.id == dispute_id)
        .with_for_update()
    )
    if dispute is None:
        raise NotFound(f"没有争议 #{dispute_id} / no dispute #{dispute_id}")
    if dispute.status != "open":
        raise Conflict(f"争议 #{dispute_id} 已处理 / dispute #{dispute_id} is already resolved")
    if resolved_on < dispute.raised_on:
        raise InvalidInput("处理日期早于提出日期 / resolved before it was raised")
    if credit_note_number and how is not rules.Resolution.CREDIT_NOTE:
        raise InvalidInput(
            "只有贷项通知处理才有贷项通知号 / a credit note number needs credit_note"
        )
    invoice = session.get_one(Invoice, dispute.invoice_id)
    before = _facts(dispute, invoice.number)
    dispute.status = "resolved"
    dispute.resolution = how.value
    dispute.resolution_note = note
    dispute.resolved_on = resolved_on
    dispute.resolved_by = actor.name
    if how is rules.Resolution.CREDIT_NOTE:
        customer = session.get_one(Customer, dispute.customer_id)
        credit = record_credit_note(
            session,
            actor=actor,
            company_id=company_id,
            customer=customer,
            number=credit_note_number or f"CN-{invoice.number}-D{dispute.id}",
            issued_on=resolved_on,
            amount=dispute.amount,
            currency=invoice.currency,
            reason=f"争议 #{dispute.id} ({dispute.reason}) / dispute #{dispute.id}",
            invoice_numbers=(invoice.number,),
        )
        dispute.credit_note_id = credit.id
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="dispute", entity_id=dispute.id,
        action=f"resolve_{how.value}", before=before, after=_facts(dispute, invoice.number),
    )  # fmt: skip
    return dispute


@dataclass(frozen=True, slots=True)
class DisputeRow:
    id: int
    customer: str
    invoice: str
    amount: int
    reason: str
    raised_on: dt.date
    within_window: bool | None
    window_ends_on: dt.date | None
    status: str
    resolution: str
    resolved_on: dt.date | None


def list_disputes(
    session: Session, *, company_id: int, open_only: bool = False, customer_id: int | None = None
) -> list[DisputeRow]:
    query = (
        select(Dispute, Customer.code, Invoice.number)
        .join(Customer, Customer.id == Dispute.customer_id)
        .join(Invoice, Invoice.id == Dispute.invoice_id)
        .where(Dispute.company_id == company_id)
        .order_by(Dispute.raised_on, Dispute.id)
    )
    if open_only:
        query = query.where(Dispute.status == "open")
    if customer_id is not None:
        query = query.where(Dispute.customer_id == customer_id)
    return [
        DisputeRow(
            d.id,
            code,
            number,
            d.amount,
            d.reason,
            d.raised_on,
            d.within_window,
            d.window_ends_on,
            d.status,
            d.resolution,
            d.resolved_on,
        )
        for d, code, number in session.execute(query)
    ]


@dataclass(frozen=True, slots=True)
class AgeingRow:
    customer: str
    name: str
    count: int
    total: int
    buckets: dict[str, int]


@dataclass(frozen=True, slots=True)
class DisputeAgeing:
    as_of: dt.date
    bucket_names: tuple[str, ...]
    rows: list[AgeingRow]
    count: int
    total: int
    bucket_totals: dict[str, int]


def dispute_ageing(session: Session, *, company_id: int, as_of: dt.date) -> DisputeAgeing:
    """Disputes open on ``as_of`` (raised by then, not resolved by then) per customer, by how
    long they have been open, in one grouped statement. Totals are the sums of the rows."""
    open_then = and_(
        Dispute.company_id == company_id,
        Dispute.raised_on <= as_of,
        or_(Dispute.status == "open", Dispute.resolved_on > as_of),
    )
    columns = []
    for _name, earliest, latest in rules.raised_bounds(as_of):
        inside = Dispute.raised_on <= latest
        if earliest is not None:
            inside = and_(inside, Dispute.raised_on >= earliest)
        columns.append(func.sum(case((inside, Dispute.amount), else_=0)))
    result = session.execute(
        select(
            Customer.code,
            Customer.name,
            func.count(Dispute.id),
            func.sum(Dispute.amount),
            *columns,
        )
        .join(Customer, Customer.id == Dispute.customer_id)
        .where(open_then)
        .group_by(Customer.id, Customer.code, Customer.name)
        .order_by(Customer.code)
    ).all()
    names = rules.BUCKET_NAMES
    rows = [
        AgeingRow(
            customer=r[0],
            name=r[1],
            count=int(r[2]),
            total=int(r[3]),
            buckets={n: int(v or 0) for n, v in zip(names, r[4:], strict=True)},
        )
        for r in result
    ]
    return DisputeAgeing(
        as_of=as_of,
        bucket_names=names,
        rows=rows,
        count=sum(r.count for r in rows),
        total=sum(r.total for r in rows),
        bucket_totals={n: sum(r.buckets[n] for r in rows) for n in names},
    )
