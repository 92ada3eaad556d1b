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
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from huikuan.channels.context import MessageContext
from huikuan.channels.letters import render_letter_pdf
from huikuan.channels.statement import render_statement_pdf, render_statement_xlsx
from huikuan.channels.templates import render
from huikuan.collections import daily, rules
from huikuan.collections.messages import message_context, recipients, template_for
from huikuan.collections.models import (
    CollectionAction,
    CollectionActionItem,
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
            _HANDLERS[planned.step.channel](session, context, action, planned, customer, summary)
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


def _reference(context: daily.RunContext, customer: Customer, action: CollectionAction) -> str:
    return f"HK-{context.as_of:%Y%m%d}-{customer.code}-{action.id}"


def _context(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    customer: Customer,
    planned: rules.PlannedAction,
) -> MessageContext:
    return message_context(
        session,
        customer=customer,
        invoice_ids=planned.invoice_ids,
        as_of=ctx.as_of,
        calendar=ctx.calendar,
        settings=ctx.settings,
        reference=_reference(ctx, customer, action),
        step_name=planned.step.name,
        sender_name=customer.collector,
    )


def _email(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    planned: rules.PlannedAction,
    customer: Customer,
    summary: daily.RunSummary,
) -> None:
    to = recipients(session, customer=customer, as_of=ctx.as_of).emails
    if not to:
        action.status, action.detail = "skipped", "客户没有邮箱地址 / no email address on file"
        return
    message = _context(session, ctx, action, customer, planned)
    attachments = _statement(session, ctx, action, customer, message)
    _queue_email(session, ctx, action, customer, to[0], message, planned.step.template, attachments)
    action.status = "sent"


def _queue_email(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    customer: Customer,
    to: str,
    message: MessageContext,
    template_code: str,
    attachments: list[int],
) -> None:
    template = template_for(
        session, company_id=ctx.company_id, code=template_code, language=message.language
    )
    rendered = render(template, message)
    _queue(
        session,
        ctx,
        action,
        customer,
        channel="email",
        recipient=to,
        subject=rendered.subject,
        body=rendered.text,
        html=rendered.html,
        attachments=attachments,
        send_after=ctx.now,
    )


def _statement(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    customer: Customer,
    message: MessageContext,
) -> list[int]:
    """The statement of open items attached to reminders, in the company's chosen format."""
    form = ctx.settings.statement_format
    if form not in ("xlsx", "pdf"):
        return []
    statement = open_items_context(session, ctx, customer, message)
    content = (
        render_statement_xlsx(statement) if form == "xlsx" else render_statement_pdf(statement)
    )
    name = f"对账明细-{customer.code}-{ctx.as_of.isoformat()}.{form}"
    mime = XLSX if form == "xlsx" else "application/pdf"
    return [
        _document(
            session, ctx, action, customer, "statement", name, mime, content, message.reference
        )
    ]


def open_items_context(
    session: Session, ctx: daily.RunContext, customer: Customer, message: MessageContext
) -> MessageContext:
    """A statement lists every open invoice of the customer, not only those at this step."""
    ids = session.scalars(
        select(Invoice.id).where(
            Invoice.company_id == ctx.company_id,
            Invoice.customer_id == customer.id,
            Invoice.open_amount > 0,
            Invoice.status == InvoiceStatus.OPEN.value,
        )
    ).all()
    return message_context(
        session,
        customer=customer,
        invoice_ids=ids,
        as_of=ctx.as_of,
        calendar=ctx.calendar,
        settings=ctx.settings,
        reference=message.reference,
        step_name=message.step_name,
        sender_name=message.sender_name,
    )


def _document(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    customer: Customer,
    kind: str,
    filename: str,
    mime: str,
    content: bytes,
    reference: str,
) -> int:
    document = Document(
        company_id=ctx.company_id,
        customer_id=customer.id,
        action_id=action.id,
        kind=kind,
        filename=filename,
        mime_type=mime,
        content=content,
        reference=reference,
        created_on=ctx.as_of,
    )
    session.add(document)
    session.flush()
    return document.id


def _queue(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    customer: Customer,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    html: str = "",
    attachments: list[int] | None = None,
    send_after: dt.datetime,
) -> Delivery:
    count = session.scalar(select(func.count()).where(Delivery.action_id == action.id)) or 0
    delivery = Delivery(
        company_id=ctx.company_id,
        action_id=action.id,
        customer_id=customer.id,
        channel=channel,
        recipient=recipient[:300],
        subject=subject[:300],
        body=body,
        html=html,
        attachments="|".join(str(a) for a in attachments or []),
        message_id=f"hk-{ctx.company_id}-{action.id}-{channel}-{count + 1}",
        status="pending",
        send_after=send_after.replace(tzinfo=None),
    )
    session.add(delivery)
    session.flush()
    return delivery


def _sms(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    planned: rules.PlannedAction,
    customer: Customer,
    summary: daily.RunSummary,
) -> None:
    mobiles = recipients(session, customer=customer, as_of=ctx.as_of).mobiles
    if not mobiles:
        action.status, action.detail = "skipped", "客户没有手机号码 / no mobile number on file"
        return
    message = _context(session, ctx, action, customer, planned)
    template = template_for(
        session, company_id=ctx.company_id, code=planned.step.template, language=message.language
    )
    text = render(template, message).text
    when = rules.sms_send_time(
        ctx.now,
        quiet_start=_time(ctx.settings.quiet_start),
        quiet_end=_time(ctx.settings.quiet_end),
        calendar=ctx.calendar,
    )
    _queue(
        session,
        ctx,
        action,
        customer,
        channel="sms",
        recipient=mobiles[0],
        subject="",
        body=text,
        send_after=when,
    )
    action.status = "sent"
    if when > ctx.now:
        action.detail = (
            f"免打扰时段，{when:%Y-%m-%d %H:%M} 发送 / quiet hours: sent at {when:%Y-%m-%d %H:%M}"
        )


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _letter(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    planned: rules.PlannedAction,
    customer: Customer,
    summary: daily.RunSummary,
) -> None:
    """A formal letter: the PDF is kept; the collector prints and posts it (registered mail
    is the proof of the demand); a copy goes by email when we have an address."""
    message = _context(session, ctx, action, customer, planned)
    template = template_for(
        session, company_id=ctx.company_id, code=planned.step.template, language=message.language
    )
    pdf = render_letter_pdf(template, message)
    name = f"{planned.step.name}-{customer.code}-{ctx.as_of.isoformat()}.pdf"
    document_id = _document(
        session,
        ctx,
        action,
        customer,
        planned.step.template,
        name,
        "application/pdf",
        pdf,
        message.reference,
    )
    action.status = "open"
    action.detail = (
        "打印并以挂号信/快递寄出，保留回执 / print, post by registered mail, keep the receipt"
    )
    to = recipients(session, customer=customer, as_of=ctx.as_of).emails
    if to:
        rendered = render(template, message)
        _queue(
            session,
            ctx,
            action,
            customer,
            channel="email",
            recipient=to[0],
            subject=rendered.subject,
            body=rendered.text,
            html=rendered.html,
            attachments=[document_id],
            send_after=ctx.now,
        )


def _task(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    planned: rules.PlannedAction,
    customer: Customer,
    summary: daily.RunSummary,
) -> None:
    action.status = "open"
    who = customer.collector or customer.salesperson
    action.assignee = who
    action.detail = (
        f"{planned.step.name}：{len(planned.invoice_ids)} 张发票，{format_amount(planned.amount)}"
    )


def _stop_supply(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    planned: rules.PlannedAction,
    customer: Customer,
    summary: daily.RunSummary,
) -> None:
    """Supply stops through the credit service, so orders and shipments see it at once."""
    held = any(
        h.kind == HoldKind.SUPPLY_STOP.value
        for h in active_holds(session, company_id=ctx.company_id, customer_id=customer.id)
    )
    if held:
        action.detail = "已在暂停供货中 / supply already stopped"
    else:
        reason = f"催收阶梯「{planned.step.name}」：逾期 {format_amount(planned.amount)}"
        place_on_hold(
            session,
            actor=ctx.actor,
            company_id=ctx.company_id,
            customer=customer,
            kind=HoldKind.SUPPLY_STOP.value,
            reason=reason,
            origin="collections",
        )
        summary.holds_placed += 1
    if planned.step.template:
        to = recipients(session, customer=customer, as_of=ctx.as_of).emails
        if to:
            message = _context(session, ctx, action, customer, planned)
            _queue_email(session, ctx, action, customer, to[0], message, planned.step.template, [])
    _alert(session, ctx, action, planned, customer, summary)
    action.status = "done"


def _referral(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    planned: rules.PlannedAction,
    customer: Customer,
    summary: daily.RunSummary,
) -> None:
    """Hand the customer to an agency or to legal, with the evidence the case will need."""
    if planned.step.channel is Channel.LAWYER_LETTER:
        _letter(session, ctx, action, planned, customer, summary)
        action.detail = "律师函待法务/律师审核后寄出 / lawyer letter for legal to review and send"
    session.add(
        Referral(
            company_id=ctx.company_id,
            customer_id=customer.id,
            action_id=action.id,
            kind=planned.step.channel.value,
            amount=planned.amount,
            opened_on=ctx.as_of,
            evidence=json.dumps(
                evidence(session, ctx.company_id, customer), ensure_ascii=False, default=str
            ),
        )
    )
    action.status, action.assignee = "open", "legal"
    summary.referrals += 1


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


def _alert(
    session: Session,
    ctx: daily.RunContext,
    action: CollectionAction,
    planned: rules.PlannedAction,
    customer: Customer,
    summary: daily.RunSummary,
) -> None:
    """An internal note to the salesperson's and collector's group robot."""
    message = _context(session, ctx, action, customer, planned)
    template = template_for(
        session, company_id=ctx.company_id, code="internal_alert", language=message.language
    )
    text = render(template, message).text
    names = "、".join(n for n in dict.fromkeys([customer.salesperson, customer.collector]) if n)
    _queue(
        session,
        ctx,
        action,
        customer,
        channel="alert",
        recipient=names or "robot",
        subject="",
        body=text,
        send_after=ctx.now,
    )
    if planned.step.channel is Channel.ALERT:
        action.status = "sent"


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


# The items a referral covers are already recorded by the action (collection_action_item).
__all__ = ["CollectionActionItem", "carry_out", "evidence", "release_cleared_holds"]
