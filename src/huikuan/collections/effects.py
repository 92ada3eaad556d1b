"""Carrying out one planned action: record it, and do what its channel means.

* email / SMS / alert: the message is rendered now and recorded as a delivery (sent at the end of
  the run, SMS not during quiet hours);
* letter: a PDF is made and kept, the collector posts it (the action stays open), and a copy goes
  by email when we have an address;
* phone and visit: a task on the collector's worklist;
* stop supply: a supply stop through the credit service (``credit.holds``), released on its own
  when the overdue balance is cleared (:func:`release_cleared_holds`);
* agency, lawyer letter, litigation: a referral to legal with the evidence list the case needs.

A failure to render or to find a recipient marks that one action (failed or skipped, with the
reason) and the run goes on: one company's broken template must not stop everyone's reminders.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from huikuan.channels.context import MessageContext
from huikuan.channels.letters import render_letter_pdf
from huikuan.channels.statement import render_statement_pdf, render_statement_xlsx
from huikuan.channels.templates import Template, render
from huikuan.collections import daily, rules
from huikuan.collections.messages import Recipients, message_context, recipients, template_for
from huikuan.collections.models import (
    CollectionAction,
    Delivery,
    Dispute,
    Document,
    PromiseToPay,
    Referral,
)
from huikuan.core.audit import Actor
from huikuan.core.errors import HuikuanError
from huikuan.core.money import format_amount
from huikuan.credit.holds import active_holds, place_on_hold, release_hold
from huikuan.credit.models import CreditHold, HoldKind
from huikuan.customers.models import Contract, Customer
from huikuan.ledger.models import Invoice, InvoiceStatus

Channel = rules.Channel
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Job:
    """One action being carried out, with everything its channel's handler needs."""

    session: Session
    ctx: daily.RunContext
    action: CollectionAction
    planned: rules.PlannedAction
    customer: Customer
    summary: daily.RunSummary

    @property
    def step(self) -> rules.Step:
        return self.planned.step

    def recipients(self) -> Recipients:
        return recipients(self.session, customer=self.customer, as_of=self.ctx.as_of)

    def template(self, code: str, language: str) -> Template:
        return template_for(
            self.session, company_id=self.ctx.company_id, code=code, language=language
        )

    def message(self, invoice_ids: Sequence[int] | None = None) -> MessageContext:
        """The template context for this action's invoices (or the ones given)."""
        return message_context(
            self.session,
            customer=self.customer,
            invoice_ids=self.planned.invoice_ids if invoice_ids is None else invoice_ids,
            as_of=self.ctx.as_of,
            calendar=self.ctx.calendar,
            settings=self.ctx.settings,
            reference=f"HK-{self.ctx.as_of:%Y%m%d}-{self.customer.code}-{self.action.id}",
            step_name=self.step.name,
            sender_name=self.customer.collector,
        )


def carry_out(
    session: Session,
    context: daily.RunContext,
    run_id: int | None,
    planned: rules.PlannedAction,
    summary: daily.RunSummary,
) -> None:
    if context.dry_run:
        return
    customer = session.get_one(Customer, planned.customer_id)
    action = _record(session, context, run_id, planned, customer)
    try:
        with session.begin_nested():
            _HANDLERS[planned.step.channel](
                Job(session, context, action, planned, customer, summary)
            )
    except HuikuanError as exc:
        action.status, action.detail = "failed", exc.message[:1000]
        summary.errors.append(f"{customer.code} {planned.step.name}: {exc.message}")
    session.flush()


def _record(
    session: Session,
    context: daily.RunContext,
    run_id: int | None,
    planned: rules.PlannedAction,
    customer: Customer,
) -> CollectionAction:
    step = planned.step
    action = CollectionAction(
        company_id=context.company_id,
        customer_id=customer.id,
        run_id=run_id,
        as_of=context.as_of,
        strategy_id=context.assigned[customer.id],
        step_id=step.id,
        step_name=step.name,
        channel=step.channel.value,
        template=step.template,
        amount=planned.amount,
        invoice_count=len(planned.invoice_ids),
        status="done",
        assignee=customer.collector,
        created_at=context.now.replace(tzinfo=None),
    )
    session.add(action)
    session.flush()
    daily.record_items(session, context, action, planned)
    return action


def _email(job: Job) -> None:
    to = job.recipients().emails
    if not to:
        job.action.status, job.action.detail = (
            "skipped",
            "客户没有邮箱地址 / no email address on file",
        )
        return
    message = job.message()
    _queue_email(job, to[0], message, job.step.template, _statement(job, message))
    job.action.status = "sent"


def _queue_email(
    job: Job, to: str, message: MessageContext, code: str, attachments: list[int]
) -> None:
    rendered = render(job.template(code, message.language), message)
    _queue(
        job,
        channel="email",
        recipient=to,
        subject=rendered.subject,
        body=rendered.text,
        html=rendered.html,
        attachments=attachments,
        send_after=job.ctx.now,
    )


def _statement(job: Job, message: MessageContext) -> list[int]:
    """The statement of open items attached to reminders, in the company's chosen format. It
    lists every open invoice of the customer, not only those at this step."""
    form = job.ctx.settings.statement_format
    if form not in ("xlsx", "pdf"):
        return []
    statement = job.message(open_invoice_ids(job.session, job.customer))
    content = (
        render_statement_xlsx(statement) if form == "xlsx" else render_statement_pdf(statement)
    )
    name = f"对账明细-{job.customer.code}-{job.ctx.as_of.isoformat()}.{form}"
    mime = XLSX if form == "xlsx" else "application/pdf"
    return [_document(job, "statement", name, mime, content, message.reference)]


def open_invoice_ids(session: Session, customer: Customer) -> list[int]:
    return list(
        session.scalars(
            select(Invoice.id).where(
                Invoice.company_id == customer.company_id,
                Invoice.customer_id == customer.id,
                Invoice.open_amount > 0,
                Invoice.status == InvoiceStatus.OPEN.value,
            )
        )
    )


def _document(job: Job, kind: str, filename: str, mime: str, content: bytes, reference: str) -> int:
    document = Document(
        company_id=job.ctx.company_id,
        customer_id=job.customer.id,
        action_id=job.action.id,
        kind=kind,
        filename=filename,
        mime_type=mime,
        content=content,
        reference=reference,
        created_on=job.ctx.as_of,
    )
    job.session.add(document)
    job.session.flush()
    return document.id


def _queue(
    job: Job,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    html: str = "",
    attachments: list[int] | None = None,
    send_after: dt.datetime,
) -> Delivery:
    count = job.session.scalar(select(func.count()).where(Delivery.action_id == job.action.id))
    delivery = Delivery(
        company_id=job.ctx.company_id,
        action_id=job.action.id,
        customer_id=job.customer.id,
        channel=channel,
        recipient=recipient[:300],
        subject=subject[:300],
        body=body,
        html=html,
        attachments="|".join(str(a) for a in attachments or []),
        message_id=f"hk-{job.ctx.company_id}-{job.action.id}-{channel}-{(count or 0) + 1}",
        status="pending",
        send_after=send_after.replace(tzinfo=None),
    )
    job.session.add(delivery)
    job.session.flush()
    return delivery


def _sms(job: Job) -> None:
    mobiles = job.recipients().mobiles
    if not mobiles:
        job.action.status, job.action.detail = (
            "skipped",
            "客户没有手机号码 / no mobile number on file",
        )
        return
    message = job.message()
    text = render(job.template(job.step.template, message.language), message).text
    settings = job.ctx.settings
    when = rules.sms_send_time(
        job.ctx.now,
        quiet_start=dt.time.fromisoformat(settings.quiet_start),
        quiet_end=dt.time.fromisoformat(settings.quiet_end),
        calendar=job.ctx.calendar,
    )
    _queue(job, channel="sms", recipient=mobiles[0], subject="", body=text, send_after=when)
    job.action.status = "sent"
    if when > job.ctx.now:
        job.action.detail = (
            f"免打扰时段，{when:%Y-%m-%d %H:%M} 发送 / quiet hours: sent at {when:%Y-%m-%d %H:%M}"
        )


def _letter(job: Job) -> None:
    """A formal letter: the PDF is kept; the collector prints and posts it (registered mail
    is the proof of the demand); a copy goes by email when we have an address."""
    message = job.message()
    template = job.template(job.step.template, message.language)
    pdf = render_letter_pdf(template, message)
    name = f"{job.step.name}-{job.customer.code}-{job.ctx.as_of.isoformat()}.pdf"
    document_id = _document(job, job.step.template, name, "application/pdf", pdf, message.reference)
    job.action.status = "open"
    job.action.detail = (
        "打印并以挂号信/快递寄出，保留回执 / print, post by registered mail, keep the receipt"
    )
    to = job.recipients().emails
    if to:
        rendered = render(template, message)
        _queue(
            job,
            channel="email",
            recipient=to[0],
            subject=rendered.subject,
            body=rendered.text,
            html=rendered.html,
            attachments=[document_id],
            send_after=job.ctx.now,
        )


def _task(job: Job) -> None:
    job.action.status = "open"
    job.action.assignee = job.customer.collector or job.customer.salesperson
    count = len(job.planned.invoice_ids)
    job.action.detail = f"{job.step.name}：{count} 张发票，{format_amount(job.planned.amount)}"


def _stop_supply(job: Job) -> None:
    """Supply stops through the credit service, so orders and shipments see it at once."""
    holds = active_holds(job.session, company_id=job.ctx.company_id, customer_id=job.customer.id)
    if any(h.kind == HoldKind.SUPPLY_STOP.value for h in holds):
        job.action.detail = "已在暂停供货中 / supply already stopped"
    else:
        place_on_hold(
            job.session,
            actor=job.ctx.actor,
            company_id=job.ctx.company_id,
            customer=job.customer,
            kind=HoldKind.SUPPLY_STOP.value,
            origin="collections",
            reason=f"催收阶梯「{job.step.name}」：逾期 {format_amount(job.planned.amount)}",
        )
        job.summary.holds_placed += 1
    to = job.recipients().emails
    if job.step.template and to:
        _queue_email(job, to[0], job.message(), job.step.template, [])
    _alert(job)
    job.action.status = "done"


def _referral(job: Job) -> None:
    """Hand the customer to an agency or to legal, with the evidence the case will need."""
    if job.step.channel is Channel.LAWYER_LETTER:
        _letter(job)
        job.action.detail = (
            "律师函待法务/律师审核后寄出 / lawyer letter for legal to review and send"
        )
    found = evidence(job.session, job.ctx.company_id, job.customer)
    job.session.add(
        Referral(
            company_id=job.ctx.company_id,
            customer_id=job.customer.id,
            action_id=job.action.id,
            kind=job.step.channel.value,
            amount=job.planned.amount,
            opened_on=job.ctx.as_of,
            evidence=json.dumps(found, ensure_ascii=False, default=str),
        )
    )
    job.action.status, job.action.assignee = "open", "legal"
    job.summary.referrals += 1


def evidence(session: Session, company_id: int, customer: Customer) -> list[dict[str, Any]]:
    """What a lawyer asks for first: contracts, the open invoices, the demands we made and
    when (letters, messages), promises and disputes. Each item says where to find it."""
    items: list[dict[str, Any]] = []
    for contract in session.scalars(
        select(Contract).where(
            Contract.company_id == company_id, Contract.customer_id == customer.id
        )
    ):
        items.append({"kind": "contract", "number": contract.number, "date": contract.signed_on})
    for invoice in session.scalars(
        select(Invoice)
        .where(
            Invoice.company_id == company_id,
            Invoice.customer_id == customer.id,
            Invoice.open_amount > 0,
            Invoice.status == InvoiceStatus.OPEN.value,
        )
        .order_by(Invoice.due_date)
    ):
        items.append(
            {
                "kind": "invoice",
                "number": invoice.number,
                "order": invoice.order_number,
                "due": invoice.due_date,
                "open": invoice.open_amount,
            }
        )
    for document in session.scalars(
        select(Document)
        .where(Document.company_id == company_id, Document.customer_id == customer.id)
        .order_by(Document.created_on)
    ):
        items.append(
            {
                "kind": "document",
                "id": document.id,
                "type": document.kind,
                "reference": document.reference,
                "date": document.created_on,
            }
        )
    sent = select(Delivery.channel, Delivery.sent_at, Delivery.recipient).where(
        Delivery.company_id == company_id,
        Delivery.customer_id == customer.id,
        Delivery.status == "sent",
    )
    for channel, sent_at, recipient in session.execute(sent):
        items.append({"kind": "message", "channel": channel, "at": sent_at, "to": recipient})
    for promise in session.scalars(
        select(PromiseToPay).where(
            PromiseToPay.company_id == company_id, PromiseToPay.customer_id == customer.id
        )
    ):
        items.append(
            {
                "kind": "promise",
                "date": promise.promised_on,
                "amount": promise.amount,
                "status": promise.status,
            }
        )
    for dispute in session.scalars(
        select(Dispute).where(Dispute.company_id == company_id, Dispute.customer_id == customer.id)
    ):
        items.append(
            {
                "kind": "dispute",
                "raised": dispute.raised_on,
                "amount": dispute.amount,
                "status": dispute.status,
            }
        )
    return items


def _alert(job: Job) -> None:
    """An internal note to the salesperson's and collector's group robot."""
    message = job.message()
    text = render(job.template("internal_alert", message.language), message).text
    names = "、".join(
        n for n in dict.fromkeys([job.customer.salesperson, job.customer.collector]) if n
    )
    _queue(
        job,
        channel="alert",
        recipient=names or "robot",
        subject="",
        body=text,
        send_after=job.ctx.now,
    )
    if job.step.channel is Channel.ALERT:
        job.action.status = "sent"


_HANDLERS = {
    Channel.EMAIL: _email,
    Channel.SMS: _sms,
    Channel.LETTER: _letter,
    Channel.PHONE_TASK: _task,
    Channel.VISIT_TASK: _task,
    Channel.STOP_SUPPLY: _stop_supply,
    Channel.AGENCY: _referral,
    Channel.LAWYER_LETTER: _referral,
    Channel.LITIGATION: _referral,
    Channel.ALERT: _alert,
}


def release_cleared_holds(
    session: Session, *, company_id: int, as_of: dt.date, actor: Actor
) -> int:
    """Lift the supply stops the ladder placed once the customer owes nothing overdue that we
    chase (disputed amounts do not keep a customer stopped). A stop placed by a person is
    released by a person."""
    overdue = exists().where(
        Invoice.company_id == company_id,
        Invoice.customer_id == CreditHold.customer_id,
        Invoice.open_amount > 0,
        Invoice.status == InvoiceStatus.OPEN.value,
        Invoice.due_date < as_of,
        Invoice.open_amount
        > select(func.coalesce(func.sum(Dispute.amount), 0))
        .where(Dispute.invoice_id == Invoice.id, Dispute.status == "open")
        .scalar_subquery(),
    )
    cleared = session.scalars(
        select(CreditHold.customer_id).where(
            and_(
                CreditHold.company_id == company_id,
                CreditHold.kind == HoldKind.SUPPLY_STOP.value,
                CreditHold.origin == "collections",
                CreditHold.released_at.is_(None),
                ~overdue,
            )
        )
    ).all()
    for customer_id in cleared:
        customer = session.get_one(Customer, customer_id)
        release_hold(
            session,
            actor=actor,
            company_id=company_id,
            customer=customer,
            kind=HoldKind.SUPPLY_STOP.value,
            reason="逾期款项已结清，自动恢复供货 / overdue balance cleared",
        )
    return len(cleared)
