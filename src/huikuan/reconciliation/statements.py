"""Customer statements (对账单) as records: issued, sent, confirmed or disputed line by line, the
differences worked off as adjustment tasks; the schedule the daily run sends them on.

A statement is issued once per customer, period end and currency (issuing again returns the one
on file, so a repeated daily run sends nothing twice); its PDF is kept as sent, as evidence. A
confirmation records who signed for the customer and when, with the signed copy if scanned: it
is the customer acknowledging the debt, which interrupts the limitation period (诉讼时效中断),
so the legal file can cite it. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.channels.templates import money_text
from huikuan.collections.messages import recipients
from huikuan.collections.models import Delivery, Document
from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.customers.models import Customer, CustomerStatus
from huikuan.reconciliation import schedule_rules
from huikuan.reconciliation.models import (
    CustomerStatement,
    StatementDifference,
    StatementSchedule,
)
from huikuan.reconciliation.statement_content import build_statement
from huikuan.reconciliation.statement_documents import render_statement_pdf
from huikuan.reconciliation.statement_rules import Statement

RESOLUTIONS = ("adjusted", "explained", "rejected")
PDF = "application/pdf"


def statement_reference(customer: Customer, end: dt.date, currency: str) -> str:
    suffix = "" if currency == "CNY" else f"-{currency}"
    return f"DZ-{end:%Y%m%d}-{customer.code}{suffix}"


def issue_statements(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    start: dt.date,
    end: dt.date,
    issued_on: dt.date,
    language: str = "zh",
) -> list[CustomerStatement]:
    """The customer's statements for ``start``..``end`` (one per currency), issued now with
    their PDFs, or those already on file for that period end."""
    issued = []
    for content in build_statement(
        session, company_id=customer.company_id, customer_id=customer.id, start=start, end=end
    ):
        found = session.scalar(
            select(CustomerStatement).where(
                CustomerStatement.company_id == customer.company_id,
                CustomerStatement.customer_id == customer.id,
                CustomerStatement.period_end == end,
                CustomerStatement.currency == content.currency,
            )
        )
        issued.append(found or _issue(session, actor, customer, content, issued_on, language))
    return issued


def _issue(
    session: Session,
    actor: Actor,
    customer: Customer,
    content: Statement,
    issued_on: dt.date,
    language: str,
) -> CustomerStatement:
    reference = statement_reference(customer, content.end, content.currency)
    document = Document(
        company_id=customer.company_id,
        customer_id=customer.id,
        kind="account_statement",
        filename=f"{reference}.pdf",
        mime_type=PDF,
        content=render_statement_pdf(content, language, reference=reference, issued_on=issued_on),
        reference=reference,
        created_on=issued_on,
    )
    session.add(document)
    session.flush()
    statement = CustomerStatement(
        company_id=customer.company_id,
        customer_id=customer.id,
        period_start=content.start,
        period_end=content.end,
        currency=content.currency,
        opening=content.opening,
        closing=content.closing,
        status="issued",
        document_id=document.id,
        issued_by=actor.name,
        issued_on=issued_on,
    )
    session.add(statement)
    session.flush()
    _audit(session, actor, statement, "issue", {
        "customer": customer.code, "reference": reference, "start": content.start,
        "end": content.end, "currency": content.currency, "opening": content.opening,
        "closing": content.closing,
    })  # fmt: skip
    return statement


def send_statement(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    statement_id: int,
    now: dt.datetime,
    recipient: str = "",
) -> CustomerStatement:
    """Queue the statement's email (to ``recipient`` or the customer's decision maker) with
    the PDF attached; the sending pass delivers it at most once."""
    statement = _statement(session, company_id, statement_id, lock=True)
    if statement.delivery_id is not None:
        return statement  # queued before: never twice
    customer = session.get_one(Customer, statement.customer_id)
    address = recipient.strip() or next(
        iter(recipients(session, customer=customer, as_of=now.date()).emails), ""
    )
    if "@" not in address:
        raise InvalidInput(
            f"客户 {customer.code} 没有电子邮箱，请填写收件人 / customer {customer.code} has no "
            "email address: give a recipient"
        )
    reference = statement_reference(customer, statement.period_end, statement.currency)
    delivery = Delivery(
        company_id=company_id,
        action_id=None,
        customer_id=customer.id,
        channel="email",
        recipient=address,
        subject=f"对账单 {reference} / Statement of account",
        body=_email_body(customer, statement, reference),
        attachments=str(statement.document_id or ""),
        message_id=f"statement-{statement.id}@{company_id}",
        status="pending",
        send_after=now.replace(tzinfo=None),
    )
    session.add(delivery)
    session.flush()
    statement.delivery_id = delivery.id
    statement.sent_to = address
    statement.sent_on = now.date()
    if statement.status == "issued":
        statement.status = "sent"
    _audit(session, actor, statement, "send", {"to": address, "delivery": delivery.id})
    return statement


def _email_body(customer: Customer, statement: CustomerStatement, reference: str) -> str:
    closing = money_text(statement.closing, statement.currency)
    return (
        f"{customer.name}：\n\n"
        f"附件是贵司 {statement.period_start} 至 {statement.period_end} 的对账单（{reference}），"
        f"期末余额 {closing}。请核对后签字盖章回传；如有不符，请在对账单上列明差异。\n\n"
        f"Please find attached your statement of account for {statement.period_start} to "
        f"{statement.period_end} ({reference}), closing balance {closing}. Please confirm it "
        "by signing and returning it, or list any differences on it.\n"
    )


def confirm_statement(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    statement_id: int,
    confirmed_by: str,
    confirmed_on: dt.date,
    signed_copy: tuple[str, bytes] | None = None,
    note: str = "",
) -> CustomerStatement:
    """Record the customer's confirmation: who signed and when, with the signed copy
    (filename, bytes) if there is one. A disputed statement is confirmed once every
    difference is resolved."""
    statement = _statement(session, company_id, statement_id, lock=True)
    if not confirmed_by.strip():
        raise InvalidInput("请填写客户方签字人 / say who signed for the customer")
    if confirmed_on < statement.period_end:
        raise InvalidInput(
            "确认日期早于对账截止日 / the confirmation is dated before the period end"
        )
    if statement.status == "confirmed":
        raise Conflict(f"对账单已于 {statement.confirmed_on} 确认 / already confirmed")
    if _open_differences(session, statement.id):
        raise Conflict(
            "还有未解决的差异，请先处理 / differences are still open: resolve them first"
        )
    if signed_copy is not None:
        statement.signed_copy_id = _keep_copy(session, statement, signed_copy, confirmed_on)
    statement.status = "confirmed"
    statement.confirmed_by = confirmed_by.strip()[:100]
    statement.confirmed_on = confirmed_on
    statement.recorded_by = actor.name
    statement.note = note.strip()[:1000]
    _audit(session, actor, statement, "confirm", {
        "confirmed_by": statement.confirmed_by, "confirmed_on": confirmed_on,
        "closing": statement.closing, "signed_copy": statement.signed_copy_id,
    })  # fmt: skip
    return statement


def _keep_copy(
    session: Session, statement: CustomerStatement, copy: tuple[str, bytes], on: dt.date
) -> int:
    filename, content = copy
    if not content:
        raise InvalidInput("签字回执文件是空的 / the signed copy is empty")
    document = Document(
        company_id=statement.company_id,
        customer_id=statement.customer_id,
        kind="signed_statement",
        filename=filename[:200] or "signed.pdf",
        mime_type=_mime(filename),
        content=content,
        reference=f"signed-{statement.id}",
        created_on=on,
    )
    session.add(document)
    session.flush()
    return document.id


def _mime(filename: str) -> str:
    lowered = filename.lower()
    for ending, mime in ((".pdf", PDF), (".png", "image/png"), (".jpg", "image/jpeg"), (".jpeg", "image/jpeg")):  # fmt: skip
        if lowered.endswith(ending):
            return mime
    return "application/octet-stream"


@dataclass(frozen=True, slots=True)
class DifferenceInput:
    description: str
    reference: str = ""
    our_amount: int = 0
    their_amount: int = 0


def dispute_statement(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    statement_id: int,
    differences: Sequence[DifferenceInput],
    raised_on: dt.date,
) -> list[StatementDifference]:
    """Record the differences the customer reports, line by line; each is an adjustment task
    until resolved."""
    statement = _statement(session, company_id, statement_id, lock=True)
    if statement.status == "confirmed":
        raise Conflict("对账单已确认，不能再提出差异 / the statement is confirmed")
    if not differences:
        raise InvalidInput("请至少列出一条差异 / list at least one difference")
    problems = [
        f"第 {n} 条差异缺少说明 / difference {n} has no description"
        for n, d in enumerate(differences, start=1)
        if not d.description.strip()
    ]
    if problems:
        raise InvalidInput("；".join(problems))
    rows = [
        StatementDifference(
            company_id=company_id,
            statement_id=statement.id,
            reference=d.reference.strip()[:120],
            our_amount=d.our_amount,
            their_amount=d.their_amount,
            description=d.description.strip()[:1000],
            status="open",
        )
        for d in differences
    ]
    session.add_all(rows)
    statement.status = "disputed"
    session.flush()
    _audit(session, actor, statement, "dispute", {
        "raised_on": raised_on,
        "differences": [[d.reference, d.our_amount, d.their_amount, d.description] for d in rows],
    })  # fmt: skip
    return rows


def resolve_difference(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    difference_id: int,
    resolution: str,
    note: str,
    resolved_on: dt.date,
) -> StatementDifference:
    """Settle one difference: ``adjusted`` (our books were changed, say how), ``explained``
    (timing: a payment in transit, an invoice not yet received) or ``rejected`` (their books
    are wrong). When the last one is settled the statement is ``resolved``, ready to confirm."""
    if resolution not in RESOLUTIONS:
        raise InvalidInput(
            f"处理方式须为 {'、'.join(RESOLUTIONS)} / resolution must be one of {', '.join(RESOLUTIONS)}"
        )
    if not note.strip():
        raise InvalidInput("请说明处理情况 / say what was done")
    difference = session.scalar(
        select(StatementDifference)
        .where(
            StatementDifference.company_id == company_id,
            StatementDifference.id == difference_id,
        )
        .with_for_update()
    )
    if difference is None:
        raise NotFound(f"没有差异 {difference_id} / no difference {difference_id}")
    if difference.status == "resolved":
        raise Conflict(f"差异 {difference_id} 已处理 / difference {difference_id} is resolved")
    difference.status = "resolved"
    difference.resolution = resolution
    difference.resolution_note = note.strip()[:1000]
    difference.resolved_by = actor.name
    difference.resolved_on = resolved_on
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="statement_difference",
        entity_id=difference.id, action="resolve",
        before={"status": "open"},
        after={"resolution": resolution, "note": difference.resolution_note, "on": resolved_on},
    )  # fmt: skip
    statement = _statement(session, company_id, difference.statement_id, lock=True)
    if statement.status == "disputed" and not _open_differences(session, statement.id):
        statement.status = "resolved"
    return difference


def _open_differences(session: Session, statement_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                StatementDifference.statement_id == statement_id,
                StatementDifference.status == "open",
            )
        )
        or 0
    )


def _statement(
    session: Session, company_id: int, statement_id: int, *, lock: bool = False
) -> CustomerStatement:
    query = select(CustomerStatement).where(
        CustomerStatement.company_id == company_id, CustomerStatement.id == statement_id
    )
    statement = session.scalar(query.with_for_update() if lock else query)
    if statement is None:
        raise NotFound(f"没有对账单 {statement_id} / no statement {statement_id}")
    return statement


def _audit(
    session: Session,
    actor: Actor,
    statement: CustomerStatement,
    action: str,
    after: dict[str, object],
) -> None:
    record_change(
        session, actor=actor, company_id=statement.company_id, entity="customer_statement",
        entity_id=statement.id, action=action, after=after,
    )  # fmt: skip


# --- schedules ---------------------------------------------------------------------------------


def set_schedule(
    session: Session,
    *,
    actor: Actor,
    customer: Customer,
    frequency: str,
    day: int | None = None,
    active: bool = True,
    starts_on: dt.date,
) -> StatementSchedule:
    """When ``customer`` gets its statement, from ``starts_on`` (no statement due before it is
    sent). A retail chain on ``settlement`` uses its own settlement day unless ``day`` says
    otherwise."""
    if day is None:
        day = customer.settlement_day if frequency == "settlement" else None
        if day is None:
            raise InvalidInput("请指定发送日 / say on which day of the month")
    problem = schedule_rules.schedule_problem(frequency, day)
    if problem:
        raise InvalidInput(problem)
    row = session.get(StatementSchedule, (customer.company_id, customer.id))
    before = None if row is None else {"frequency": row.frequency, "day": row.day, "active": row.active}  # fmt: skip
    after = {"frequency": frequency, "day": day, "active": active}
    if before == after:
        return row  # type: ignore[return-value]
    if row is None:
        row = StatementSchedule(company_id=customer.company_id, customer_id=customer.id)
        session.add(row)
    row.frequency, row.day, row.active = frequency, day, active
    row.starts_on = starts_on
    session.flush()
    record_change(
        session, actor=actor, company_id=customer.company_id, entity="statement_schedule",
        entity_id=customer.code, action="set", before=before, after=after | {"starts_on": starts_on},
    )  # fmt: skip
    return row


@dataclass(slots=True)
class ScheduledRun:
    issued: int = 0
    queued: int = 0
    no_email: list[str] | None = None


def send_scheduled(
    session: Session, *, actor: Actor, company_id: int, as_of: dt.date, now: dt.datetime
) -> ScheduledRun:
    """Issue and queue every statement whose scheduled day has come (the latest period of each
    active schedule not issued yet). Idempotent: a second run the same day does nothing."""
    run = ScheduledRun(no_email=[])
    rows = session.execute(
        select(StatementSchedule, Customer)
        .join(Customer, Customer.id == StatementSchedule.customer_id)
        .where(
            StatementSchedule.company_id == company_id,
            StatementSchedule.active.is_(True),
            Customer.status == CustomerStatus.ACTIVE.value,
        )
        .order_by(Customer.code)
    ).all()
    due = [
        (customer, period)
        for schedule, customer in rows
        if (period := schedule_rules.latest_period(schedule.frequency, schedule.day, as_of)).due_on
        >= schedule.starts_on
    ]
    issued = _issued_since(session, company_id, min((p.end for _, p in due), default=as_of))
    for customer, period in due:
        if (customer.id, period.end) in issued:
            continue
        for statement in issue_statements(
            session, actor=actor, customer=customer, start=period.start, end=period.end,
            issued_on=as_of,
        ):  # fmt: skip
            run.issued += 1
            try:
                with session.begin_nested():
                    send_statement(
                        session, actor=actor, company_id=company_id,
                        statement_id=statement.id, now=now,
                    )  # fmt: skip
                run.queued += 1
            except InvalidInput:
                run.no_email.append(customer.code)  # type: ignore[union-attr]
    return run


def _issued_since(
    session: Session, company_id: int, first_end: dt.date
) -> set[tuple[int, dt.date]]:
    """(customer, period end) of the statements issued for periods ending on or after
    ``first_end``: one query for the whole schedule list."""
    return {
        (customer_id, _as_date(end))
        for customer_id, end in session.execute(
            select(CustomerStatement.customer_id, CustomerStatement.period_end).where(
                CustomerStatement.company_id == company_id,
                CustomerStatement.period_end >= first_end,
            )
        )
    }


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
