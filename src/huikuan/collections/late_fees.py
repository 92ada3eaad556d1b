"""Late fees charged (逾期违约金计收), their waivers, and what letters show.

Charging periods are **calendar months**: ``charge_late_fees`` charges every invoice for each
whole month, ending on or before ``as_of``, not charged yet (from the day after its last charge,
or from its first fee day: the holiday-adjusted due date plus the contract's grace days, plus
one). The result is the same whether it runs every day or once a month, and running it again
finds nothing to charge (a charge is also unique per invoice and period end).

The fee base on a day is the invoice's open amount less its open disputes at the start of the
day (``fee_rules``), and nothing while the invoice is under a payment plan that waives late
fees (from the day after it was agreed until the day it defaulted, if it did; a cancelled plan
waives nothing). The rate is the contract in force on the invoice's issue date: a daily
fraction (``late_fee_rate_per_day``) or an annual rate with its day count
(``late_fee_rate_per_year``, ``late_fee_day_count``), simple interest unless
``late_fee_compound``: then the fees charged on the invoice in earlier months and not waived
join the base of the next month (the ledger records no payment of fees: a fee is owed until
waived or invoiced separately). A month whose fee rounds to 0 fen leaves no charge.

A waiver is asked for with a reason (``request_waiver``) and lowers what is owed only when
another person with the ``manage_credit`` right approves it (``decide_waiver``); requests
waiting and waivers approved together never add up to more than the charge (its row is locked).
A plan waives fees only once approved (a proposed or rejected plan waives nothing), from the
day after its agreement date: months already charged while it waited for approval stay
charged, and are waived, if at all, by a waiver request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from huikuan.collections import fee_rules
from huikuan.collections.models import (
    Dispute,
    LateFeeCharge,
    LateFeeWaiver,
    PaymentPlan,
    PaymentPlanInvoice,
)
from huikuan.collections.rules import effective_due
from huikuan.core.audit import Actor, Change, record_change, record_changes
from huikuan.core.calendar import load_calendar
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.customers.models import Contract
from huikuan.ledger.models import Allocation, Invoice, InvoiceStatus

# A plan waives fees once approved, until it defaults (its default date); a cancelled plan
# waives nothing, nor does one proposed or rejected.
_WAIVING = ("active", "completed", "defaulted")


@dataclass(slots=True)
class ChargeResult:
    through: dt.date  # the last day charged (a month end)
    invoices: int = 0  # invoices charged
    charges: int = 0  # charge rows written (one per invoice and month)
    amount: int = 0  # fen
    waived_by_plan: int = 0  # invoices looked at with a waiving plan
    charged_ids: list[int] = field(default_factory=list)


def fee_rate(contract: Contract) -> fee_rules.FeeRate | None:
    """The contract's late-fee rate, or None when it states none. A daily rate wins if a
    contract (wrongly) states both; ``contracts.add_contract`` refuses that."""
    compound = bool(contract.late_fee_compound)
    if contract.late_fee_rate_per_day and contract.late_fee_rate_per_day > 0:
        return fee_rules.FeeRate.per_day(Decimal(contract.late_fee_rate_per_day), compound=compound)
    if contract.late_fee_rate_per_year and contract.late_fee_rate_per_year > 0:
        return fee_rules.FeeRate.per_year(
            Decimal(contract.late_fee_rate_per_year),
            day_count=fee_rules.DayCount(contract.late_fee_day_count),
            compound=compound,
        )
    return None


def contract_on(contracts: Sequence[Contract], day: dt.date) -> Contract | None:
    """The contract in force when an invoice was issued: the latest signed by then."""
    found = None
    for contract in sorted(contracts, key=lambda c: (c.signed_on, c.id)):
        if contract.signed_on <= day and (contract.ends_on is None or contract.ends_on >= day):
            found = contract
    return found


def charge_late_fees(
    session: Session, *, company_id: int, as_of: dt.date, actor: Actor
) -> ChargeResult:
    """Charge every overdue invoice under a contract rate for the whole months through the
    last month end on or before ``as_of`` that were not charged yet (see the module)."""
    through = fee_rules.last_closed_month_end(as_of)
    result = ChargeResult(through=through)
    rated = (
        Contract.company_id == company_id,
        (Contract.late_fee_rate_per_day > 0) | (Contract.late_fee_rate_per_year > 0),
    )
    contracts: dict[int, list[Contract]] = {}
    for row in session.scalars(select(Contract).where(*rated)):
        contracts.setdefault(row.customer_id, []).append(row)
    if not contracts:
        return result
    invoices = session.scalars(
        select(Invoice)
        .where(
            Invoice.company_id == company_id,
            # a subquery, not a list: PostgreSQL takes at most 65,535 parameters
            Invoice.customer_id.in_(select(Contract.customer_id).where(*rated)),
            Invoice.status != InvoiceStatus.VOID.value,
            Invoice.due_date < through,
            (Invoice.open_amount > 0) | (Invoice.settled_on > Invoice.due_date),
        )
        .order_by(Invoice.customer_id, Invoice.id)
    ).all()
    if not invoices:
        return result
    calendar = load_calendar(session, company_id=company_id)
    last_end = dict(
        session.execute(
            select(LateFeeCharge.invoice_id, func.max(LateFeeCharge.period_end))
            .where(LateFeeCharge.company_id == company_id)
            .group_by(LateFeeCharge.invoice_id)
        ).all()
    )
    planned: list[tuple[Invoice, Contract, dt.date, dt.date]] = []
    for invoice in invoices:
        contract = contract_on(contracts.get(invoice.customer_id, []), invoice.issue_date)
        if contract is None:
            continue
        first_day = fee_rules.first_fee_day(
            effective_due(invoice.due_date, calendar), contract.grace_days
        )
        previous = last_end.get(invoice.id)
        start = first_day
        if previous is not None:
            start = max(start, _as_date(previous) + fee_rules.ONE_DAY)
        settled = invoice.open_amount <= 0 and invoice.settled_on is not None
        if settled and invoice.settled_on < start:  # type: ignore[operator]
            continue  # paid before any day still to charge (the day paid is charged)
        if start <= through:
            planned.append((invoice, contract, first_day, start))
    if not planned:
        return result
    histories = _histories(session, company_id, [p[0] for p in planned], through)
    unpaid = _unpaid_fees(session, company_id, [p[0].id for p in planned if _compounds(p[1])])
    batch: list[_NewCharge] = []
    for invoice, contract, first_day, start in planned:
        history, by_plan = histories[invoice.id]
        result.waived_by_plan += int(by_plan)
        rate = fee_rate(contract)
        assert rate is not None  # the contracts read all state a rate
        quiet_from = fee_rules.zero_from(history)
        charged = 0
        for period_start, period_end in fee_rules.month_periods(start, through):
            if quiet_from is not None and period_start >= quiet_from:
                break  # the base stays 0 from here on: every later month's fee is 0
            fee = fee_rules.late_fee(
                history,
                start=period_start,
                end=period_end,
                first_day=first_day,
                rate=rate,
                unpaid_fees=unpaid.get(invoice.id, 0),
            )
            if fee.amount <= 0:
                continue
            if rate.compound:
                unpaid[invoice.id] = unpaid.get(invoice.id, 0) + fee.amount
            charge = {
                "company_id": company_id,
                "customer_id": invoice.customer_id,
                "invoice_id": invoice.id,
                "period_start": fee.start,
                "period_end": fee.end,
                "days": fee.days,
                "base": fee.base,
                "rate": rate.text,
                "amount": fee.amount,
                "waived": 0,
                "waiver_reason": "",
                "waiver_approved_by": "",
            }
            batch.append(_NewCharge(charge, invoice.id, fee.end, invoice.number, contract.number))
            charged += 1
            result.amount += fee.amount
        if charged:
            result.invoices += 1
            result.charges += charged
        if len(batch) >= WRITE_BATCH:
            result.charged_ids += _write_charges(session, actor, company_id, batch)
            batch = []
    result.charged_ids += _write_charges(session, actor, company_id, batch)
    return result


WRITE_BATCH = 5000  # charges written (and audited) per insert


@dataclass(frozen=True, slots=True)
class _NewCharge:
    row: dict[str, object]  # the late_fee_charge row to insert
    invoice_id: int
    period_end: dt.date
    invoice_number: str
    contract_number: str


def _write_charges(
    session: Session, actor: Actor, company_id: int, batch: list[_NewCharge]
) -> list[int]:
    """Insert the charges in order, then one audit record each in the same order: the rows
    and the chain of adding and recording them one by one, in a few statements. The new ids
    are read back by the unique invoice and period end (SQLite cannot return them in order
    from one multi-row insert)."""
    if not batch:
        return []
    session.execute(insert(cast(Table, LateFeeCharge.__table__)), [c.row for c in batch])
    found: dict[tuple[int, dt.date], int] = {}
    for chunk in _chunks(sorted({c.invoice_id for c in batch})):
        rows = session.execute(
            select(LateFeeCharge.invoice_id, LateFeeCharge.period_end, LateFeeCharge.id).where(
                LateFeeCharge.company_id == company_id, LateFeeCharge.invoice_id.in_(chunk)
            )
        )
        found.update({(invoice_id, _as_date(end)): id_ for invoice_id, end, id_ in rows})
    ids = [found[(c.invoice_id, c.period_end)] for c in batch]
    changes = [
        Change(
            entity="late_fee_charge",
            entity_id=charge_id,
            action="charge",
            after=_facts(c.row, c.invoice_number) | {"contract": c.contract_number},
        )
        for charge_id, c in zip(ids, batch, strict=True)
    ]
    record_changes(session, actor=actor, company_id=company_id, changes=changes)
    return ids


def _compounds(contract: Contract) -> bool:
    rate = fee_rate(contract)
    return rate is not None and rate.compound


def _unpaid_fees(session: Session, company_id: int, invoice_ids: list[int]) -> dict[int, int]:
    """Fees charged on each invoice and not waived: the extra base of a compounding rate."""
    unpaid: dict[int, int] = {}
    for chunk in _chunks(invoice_ids):
        rows = session.execute(
            select(
                LateFeeCharge.invoice_id,
                func.sum(LateFeeCharge.amount - LateFeeCharge.waived),
            )
            .where(LateFeeCharge.company_id == company_id, LateFeeCharge.invoice_id.in_(chunk))
            .group_by(LateFeeCharge.invoice_id)
        )
        unpaid.update({invoice_id: int(total or 0) for invoice_id, total in rows})
    return unpaid


def _histories(
    session: Session, company_id: int, invoices: list[Invoice], through: dt.date
) -> dict[int, tuple[list[tuple[dt.date, int]], bool]]:
    """Per invoice, the fee base after each day something changed it (allocations and their
    reversals, disputes raised and resolved, a waiving plan agreed and defaulted), and whether
    a waiving plan applied at all."""
    ids = [i.id for i in invoices]
    events: dict[int, list[tuple[dt.date, str, int]]] = {i.id: [] for i in invoices}
    for invoice in invoices:
        events[invoice.id].append((invoice.issue_date, "open", invoice.amount))
    for chunk in _chunks(ids):
        for invoice_id, amount, effective_on, reversed_on in session.execute(
            select(
                Allocation.invoice_id,
                Allocation.amount,
                Allocation.effective_on,
                Allocation.reversed_on,
            ).where(Allocation.company_id == company_id, Allocation.invoice_id.in_(chunk))
        ):
            events[invoice_id].append((_as_date(effective_on), "open", -int(amount)))
            if reversed_on is not None:
                events[invoice_id].append((_as_date(reversed_on), "open", int(amount)))
        for invoice_id, amount, raised_on, resolved_on in session.execute(
            select(
                Dispute.invoice_id, Dispute.amount, Dispute.raised_on, Dispute.resolved_on
            ).where(Dispute.company_id == company_id, Dispute.invoice_id.in_(chunk))
        ):
            events[invoice_id].append((_as_date(raised_on), "disputed", int(amount)))
            if resolved_on is not None:
                events[invoice_id].append((_as_date(resolved_on), "disputed", -int(amount)))
        for invoice_id, agreed_on, defaulted_on in session.execute(
            select(PaymentPlanInvoice.invoice_id, PaymentPlan.agreed_on, PaymentPlan.defaulted_on)
            .join(PaymentPlan, PaymentPlan.id == PaymentPlanInvoice.plan_id)
            .where(
                PaymentPlanInvoice.company_id == company_id,
                PaymentPlanInvoice.invoice_id.in_(chunk),
                PaymentPlan.waive_late_fees.is_(True),
                PaymentPlan.status.in_(_WAIVING),
            )
        ):
            events[invoice_id].append((_as_date(agreed_on), "waiver", 1))
            if defaulted_on is not None:
                events[invoice_id].append((_as_date(defaulted_on), "waiver", -1))
    histories: dict[int, tuple[list[tuple[dt.date, int]], bool]] = {}
    for invoice_id, found in events.items():
        open_amount = disputed = waivers = 0
        by_plan = False
        points: dict[dt.date, int] = {}
        for day, kind, delta in sorted(found, key=lambda e: e[0]):
            if kind == "open":
                open_amount += delta
            elif kind == "disputed":
                disputed += delta
            else:
                waivers += delta
                by_plan = True
            base = 0 if waivers > 0 else max(open_amount - max(disputed, 0), 0)
            if day <= through:
                points[day] = base
        histories[invoice_id] = (sorted(points.items()), by_plan)
    return histories


def _locked_charge(session: Session, company_id: int, charge_id: int) -> LateFeeCharge:
    charge = session.scalar(
        select(LateFeeCharge)
        .where(LateFeeCharge.company_id == company_id, LateFeeCharge.id == charge_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if charge is None:
        raise NotFound(f"没有违约金记录 {charge_id} / no late fee charge {charge_id}")
    return charge


def pending_amount(session: Session, *, charge_id: int) -> int:
    """Fen asked for in the charge's waiver requests still waiting for a decision."""
    query = select(func.coalesce(func.sum(LateFeeWaiver.amount), 0)).where(
        LateFeeWaiver.charge_id == charge_id, LateFeeWaiver.status == "pending"
    )
    return int(session.scalar(query) or 0)


def request_waiver(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    charge_id: int,
    reason: str,
    amount: int | None = None,
) -> LateFeeWaiver:
    """Ask to waive ``amount`` fen of a charge (None: all that may still be asked for, i.e.
    the charge less what is waived and what other requests wait for). A reason is required;
    nothing changes until another person who may manage credit approves it."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("减免违约金必须说明理由 / a waiver needs a reason")
    charge = _locked_charge(session, company_id, charge_id)
    waiting = pending_amount(session, charge_id=charge.id)
    left = charge.amount - charge.waived - waiting
    if amount is None:
        if left <= 0:
            raise Conflict(
                "这笔违约金已全部减免或已有待审批的减免申请 / "
                "nothing is left to waive: all of it is waived or asked for"
            )
        amount = left
    if amount <= 0:
        raise InvalidInput("减免金额必须大于零 / the amount waived must be positive")
    if amount > left:
        raise InvalidInput(
            f"减免金额 {amount / 100:.2f} 超过可申请减免的违约金 {left / 100:.2f}"
            f"（违约金减去已减免和待审批的申请） / the amount waived {amount / 100:.2f} exceeds "
            f"what is left {left / 100:.2f} (the fee less what is waived and asked for)"
        )
    waiver = LateFeeWaiver(
        company_id=company_id, charge_id=charge.id, amount=amount, reason=reason[:500],
        requested_by=actor.name, requested_at=actor.at, status="pending",
    )  # fmt: skip
    session.add(waiver)
    session.flush()
    invoice_number = session.scalar(select(Invoice.number).where(Invoice.id == charge.invoice_id))
    record_change(
        session, actor=actor, company_id=company_id, entity="late_fee_waiver",
        entity_id=waiver.id, action="request",
        after=_waiver_facts(waiver, invoice_number or "") | {"left_before": left},
    )  # fmt: skip
    return waiver


def decide_waiver(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    waiver_id: int,
    approve: bool,
    note: str = "",
) -> LateFeeWaiver:
    """Approve a waiver request (the charge's ``waived`` goes up by its amount, with its reason
    and the approver) or reject it (nothing else changes). The requester cannot decide their
    own; a request is decided once; the charge is locked, so concurrent approvals never waive
    more than it."""
    waiver = session.scalar(
        select(LateFeeWaiver)
        .where(LateFeeWaiver.company_id == company_id, LateFeeWaiver.id == waiver_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if waiver is None:
        raise NotFound(f"没有减免申请 #{waiver_id} / no waiver request #{waiver_id}")
    if waiver.status != "pending":
        raise Conflict(
            f"减免申请 #{waiver_id} 已处理（{waiver.status}） / "
            f"waiver request #{waiver_id} was already decided ({waiver.status})"
        )
    if actor.same_person(waiver.requested_by):
        raise Conflict(
            "不能审批自己提出的减免，请另一位信用经理审批 / "
            "you cannot approve your own waiver: another credit manager must"
        )
    charge = _locked_charge(session, company_id, waiver.charge_id)
    invoice_number = session.scalar(select(Invoice.number).where(Invoice.id == charge.invoice_id))
    number = invoice_number or ""
    before = _waiver_facts(waiver, number)
    if approve:
        left = charge.amount - charge.waived
        if waiver.amount > left:
            raise Conflict(
                f"减免金额 {waiver.amount / 100:.2f} 超过未减免的违约金 {left / 100:.2f} / "
                f"the amount waived {waiver.amount / 100:.2f} exceeds what is left {left / 100:.2f}"
            )
        _waive(session, actor, company_id, charge, waiver, number)
    waiver.status = "approved" if approve else "rejected"
    waiver.decided_by = actor.name
    waiver.decided_at = actor.at
    waiver.note = note.strip()[:1000]
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="late_fee_waiver",
        entity_id=waiver.id, action="approve" if approve else "reject", before=before,
        after=_waiver_facts(waiver, number),
    )  # fmt: skip
    return waiver


def _waive(
    session: Session, actor: Actor, company_id: int, charge: LateFeeCharge,
    waiver: LateFeeWaiver, invoice_number: str,
) -> None:  # fmt: skip
    """Add an approved request to the charge (audited on the charge, before and after)."""
    before = _charge_facts(charge, invoice_number)
    charge.waived += waiver.amount
    reason = (
        waiver.reason if not charge.waiver_reason else f"{charge.waiver_reason}; {waiver.reason}"
    )
    charge.waiver_reason = reason[:500]
    charge.waiver_approved_by = actor.name[:100]
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="late_fee_charge",
        entity_id=charge.id, action="waive", before=before,
        after=_charge_facts(charge, invoice_number)
        | {"waived_now": waiver.amount, "waiver_request": waiver.id,
           "requested_by": waiver.requested_by},
    )  # fmt: skip


def _waiver_facts(waiver: LateFeeWaiver, invoice_number: str) -> dict[str, object]:
    return {
        "charge": waiver.charge_id, "invoice": invoice_number, "amount": waiver.amount,
        "reason": waiver.reason, "status": waiver.status, "requested_by": waiver.requested_by,
        "decided_by": waiver.decided_by, "note": waiver.note,
    }  # fmt: skip


def charges(
    session: Session, *, company_id: int, customer_id: int
) -> list[tuple[LateFeeCharge, str]]:
    """A customer's charges with their invoice numbers, by invoice and period."""
    return [
        (charge, number)
        for charge, number in session.execute(
            select(LateFeeCharge, Invoice.number)
            .join(Invoice, Invoice.id == LateFeeCharge.invoice_id)
            .where(
                LateFeeCharge.company_id == company_id,
                LateFeeCharge.customer_id == customer_id,
            )
            .order_by(Invoice.number, LateFeeCharge.period_end)
        ).all()
    ]


def open_late_fees(session: Session, *, company_id: int, customer_id: int) -> dict[int, int]:
    """Per invoice id, the fees charged and not waived, in fen (invoices with none absent)."""
    rows = session.execute(
        select(LateFeeCharge.invoice_id, func.sum(LateFeeCharge.amount - LateFeeCharge.waived))
        .where(LateFeeCharge.company_id == company_id, LateFeeCharge.customer_id == customer_id)
        .group_by(LateFeeCharge.invoice_id)
    ).all()
    return {invoice_id: int(total) for invoice_id, total in rows if int(total or 0) > 0}


def charged_fees(
    session: Session, *, company_id: int, invoice_ids: Sequence[int]
) -> dict[int, tuple[int, dt.date]]:
    """Per invoice with charges: (charged less waived, fen; the last day charged)."""
    if not invoice_ids:
        return {}
    rows = session.execute(
        select(
            LateFeeCharge.invoice_id,
            func.sum(LateFeeCharge.amount - LateFeeCharge.waived),
            func.max(LateFeeCharge.period_end),
        )
        .where(
            LateFeeCharge.company_id == company_id,
            LateFeeCharge.invoice_id.in_(list(invoice_ids)),
        )
        .group_by(LateFeeCharge.invoice_id)
    ).all()
    return {row[0]: (int(row[1] or 0), _as_date(row[2])) for row in rows}


_FACTS = ("period_start", "period_end", "days", "base", "rate", "amount", "waived", "waiver_reason", "waiver_approved_by")  # fmt: skip


def _charge_facts(charge: LateFeeCharge, invoice_number: str) -> dict[str, object]:
    return _facts({key: getattr(charge, key) for key in _FACTS}, invoice_number)


def _facts(charge: dict[str, object], invoice_number: str) -> dict[str, object]:
    """What the audit trail keeps of a charge (a row of ``late_fee_charge``)."""
    facts = {"invoice": invoice_number} | {key: charge[key] for key in _FACTS}
    for key in ("period_start", "period_end"):
        facts[key] = _as_date(charge[key]).isoformat()
    return facts


def _chunks(values: list[int], size: int = 1000) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
