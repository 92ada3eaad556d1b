"""Calls and visits: the collector's contact log, the call assistant's follow-ups and the
customer card.

``log_contact`` records one contact in a few seconds (who was reached, how, what came of it,
the excuse given with its facts, the next step) and, in the same transaction, completes the
phone or visit task it answers and opens the follow-ups the excuse names:

- ``verify_payment`` — due two working days later; ``check_follow_ups`` then looks for money
  received since the claimed date for the claimed amount and records whether the claim held;
- ``debt_acknowledgment`` — a 欠款确认书 PDF listing the open invoices, kept as a document for
  the customer to sign and seal;
- ``credit_review`` / ``limit_review`` — rows the credit manager's review list reads;
- ``dispute_window_check`` — decided at once: was the quality claim made within the contract's
  dispute window (counted from the invoice's issue date)? A late claim is recorded as late;
- ``reissue_invoice`` / ``confirm_amount`` — the invoice copies to reissue with the customer's
  order number, and the amount to have confirmed.

Nothing here reads the clock: the contact's own time and the caller's ``as_of`` decide.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from huikuan.channels.context import PaymentInstructions
from huikuan.channels.letters import render_letter_pdf
from huikuan.channels.templates import LANGUAGES, Template
from huikuan.collections.actions import complete_action
from huikuan.collections.daily import collection_settings
from huikuan.collections.excuses import FOLLOW_UP_LABELS_ZH, ExcuseSpec, FactSpec, get_excuse
from huikuan.collections.messages import message_context
from huikuan.collections.models import (
    CollectionAction,
    ContactLog,
    Document,
    FollowUp,
    MessageTemplate,
)
from huikuan.core.audit import Actor, record_change
from huikuan.core.dates import DateError, parse_date
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.core.money import AmountError, format_amount, parse_amount
from huikuan.core.workdays import WorkCalendar
from huikuan.customers.models import Contact, Contract, Customer
from huikuan.customers.service import current_contacts
from huikuan.ledger.models import Invoice, InvoiceStatus, Payment

CHANNELS = ("phone", "visit", "wechat", "email", "sms", "other")
CHANNEL_LABELS_ZH = {
    "phone": "电话",
    "visit": "上门拜访",
    "wechat": "微信",
    "email": "邮件",
    "sms": "短信",
    "other": "其他",
}
OUTCOMES = ("reached", "no_answer", "refused", "promised", "disputed", "paid_claimed", "other")
OUTCOME_LABELS_ZH = {
    "reached": "已联系上",
    "no_answer": "无人接听",
    "refused": "拒绝付款",
    "promised": "承诺付款",
    "disputed": "提出异议",
    "paid_claimed": "称已付款",
    "other": "其他",
}
TASK_CHANNELS = ("phone_task", "visit_task")
ACKNOWLEDGMENT = "debt_acknowledgment"
# Working days the follow-ups allow: a transfer takes up to two to arrive; a signed copy of the
# acknowledgment and a confirmed amount take about a week.
VERIFY_AFTER_WORKDAYS = 2
DUE_WORKDAYS = {
    "verify_payment": VERIFY_AFTER_WORKDAYS,
    "debt_acknowledgment": 5,
    "credit_review": 0,
    "limit_review": 0,
    "dispute_window_check": 0,
    "reissue_invoice": 1,
    "confirm_amount": 5,
}


@dataclass(frozen=True, slots=True)
class LoggedContact:
    log: ContactLog
    follow_ups: tuple[FollowUp, ...]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What ``check_follow_ups`` found for one claimed payment."""

    follow_up_id: int
    customer_code: str
    held: bool  # False: the claimed payment was not received (flagged)
    result: str


@dataclass(frozen=True, slots=True)
class ContactPerson:
    name: str
    role: str
    phone: str  # the phone to call today ("" when the person is no longer a contact)
    email: str
    since: dt.date
    still_valid: bool
    last_known_phone: str  # as last recorded, even when no longer valid


@dataclass(frozen=True, slots=True)
class ContactEntry:
    id: int
    contacted_at: dt.datetime
    channel: str
    reached: str
    outcome: str
    excuse: str
    facts: Mapping[str, Any]
    note: str
    next_step_on: dt.date | None
    logged_by: str


@dataclass(frozen=True, slots=True)
class FollowUpView:
    id: int
    customer_code: str
    kind: str
    due_on: dt.date
    status: str
    detail: str
    result: str
    document_id: int | None


@dataclass(frozen=True, slots=True)
class CustomerCard:
    customer_code: str
    customer_name: str
    original_contact: ContactPerson | None  # the earliest contact ever recorded
    decision_maker: ContactPerson | None  # the current one
    current_contacts: tuple[ContactPerson, ...]
    last_contacts: tuple[ContactEntry, ...]  # newest first
    last_outcome: str  # the newest contact's outcome, "" when never contacted
    next_step_on: dt.date | None
    open_follow_ups: tuple[FollowUpView, ...]


# ---------------------------------------------------------------- facts (pure)


def read_facts(
    excuse: ExcuseSpec | None, facts: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The facts as stored (dates ISO, amounts in fen, invoices as a list) and every problem:
    a required fact missing, an unknown one, a date or amount that cannot be read."""
    problems: list[str] = []
    specs = {f.name: f for f in excuse.facts} if excuse else {}
    for name in facts:
        if name not in specs:
            known = "、".join(specs) or "无 none"
            problems.append(
                f"理由 {excuse.code if excuse else '（未选）'} 没有事实 {name}（可填：{known}）/ "
                f"the excuse takes no fact {name} (known: {', '.join(specs) or 'none'})"
            )
    stored: dict[str, Any] = {}
    for spec in specs.values():
        raw = str(facts.get(spec.name, "")).strip()
        if not raw:
            if not spec.optional:
                problems.append(
                    f"缺少“{spec.label}”（--fact {spec.name}=…）/ "
                    f"missing fact {spec.name} ({spec.label}) required by this excuse"
                )
            continue
        value, problem = _fact_value(spec, raw)
        if problem:
            problems.append(problem)
        else:
            stored[spec.name] = value
    return stored, problems


def _fact_value(spec: FactSpec, raw: str) -> tuple[Any, str]:
    if spec.type == "date":
        try:
            return parse_date(raw).isoformat(), ""
        except DateError as exc:
            return None, f"“{spec.label}”不是日期：{raw} / fact {spec.name} is not a date: {exc}"
    if spec.type == "amount":
        try:
            fen = parse_amount(raw)
        except AmountError as exc:
            return None, f"“{spec.label}”不是金额：{raw} / fact {spec.name} is not an amount: {exc}"
        if fen <= 0:
            return None, f"“{spec.label}”须大于零 / fact {spec.name} must be positive"
        return fen, ""
    if spec.type == "invoices":
        numbers = [n for n in raw.replace("，", ",").replace(",", " ").split() if n]
        return list(dict.fromkeys(numbers)), ""
    return raw[:500], ""


def dispute_window_result(
    claim_on: dt.date, windows: Sequence[tuple[str, dt.date | None]]
) -> tuple[bool, str]:
    """(late, text) for a quality claim made on ``claim_on`` about invoices whose dispute
    windows end on the dates given (None: no contract covers the invoice)."""
    late = [(n, end) for n, end in windows if end is not None and claim_on > end]
    within = [(n, end) for n, end in windows if end is not None and claim_on <= end]
    unknown = [n for n, end in windows if end is None]
    parts: list[str] = []
    if late:
        listed = "，".join(f"{n}（异议期至 {end:%Y-%m-%d}）" for n, end in late)
        parts.append(f"异议逾期 claim late: {listed}")
    if within:
        listed = "，".join(f"{n}（至 {end:%Y-%m-%d}）" for n, end in within)
        parts.append(f"在异议期内 within window: {listed}")
    if unknown:
        parts.append(f"无合同可查 no contract: {'，'.join(unknown)}")
    if not windows:
        parts.append("没有未结发票 no open invoices")
    return bool(late), "；".join(parts)


# ---------------------------------------------------------------- logging a contact


def log_contact(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    customer: Customer,
    contacted_at: dt.datetime,
    channel: str,
    outcome: str,
    reached: str = "",
    contact_id: int | None = None,
    excuse: str = "",
    facts: Mapping[str, str] | None = None,
    note: str = "",
    next_step_on: dt.date | None = None,
    action_id: int | None = None,
    calendar: WorkCalendar,
) -> LoggedContact:
    """Record one contact and start what it calls for; all or nothing. Every problem with the
    input is reported at once (``InvalidInput``), naming each missing fact."""
    if customer.company_id != company_id:
        raise NotFound("客户不存在 / no such customer")
    contacted_at = contacted_at.replace(tzinfo=None)
    day = contacted_at.date()
    problems: list[str] = []
    if channel not in CHANNELS:
        problems.append(
            f"渠道须为 {'、'.join(CHANNELS)} 之一 / channel must be one of {', '.join(CHANNELS)}"
        )
    if outcome not in OUTCOMES:
        problems.append(
            f"结果须为 {'、'.join(OUTCOMES)} 之一 / outcome must be one of {', '.join(OUTCOMES)}"
        )
    if next_step_on is not None and next_step_on < day:
        problems.append(
            f"下一步日期 {next_step_on} 早于联系日 {day} / "
            f"next step {next_step_on} is before the contact on {day}"
        )
    if len(note) > 2000 or len(reached) > 100:
        problems.append("备注或联系人过长 / note or name reached too long")
    spec = None
    if excuse:
        try:
            spec = get_excuse(session, company_id=company_id, code=excuse)
        except NotFound as exc:
            problems.append(exc.message)
    if spec is not None and not spec.active:
        problems.append(f"理由 {excuse} 已停用 / excuse {excuse} is no longer in use")
    stored, fact_problems = read_facts(spec, facts or {})
    problems += fact_problems
    invoices = _invoices_named(session, customer, stored.get("invoices", []), problems)
    contact = _contact(session, customer, contact_id, problems)
    action = _open_task(session, customer, action_id, problems)
    if problems:
        raise InvalidInput("；".join(problems))
    log = ContactLog(
        company_id=company_id,
        customer_id=customer.id,
        action_id=action_id,
        contacted_at=contacted_at,
        channel=channel,
        contact_id=contact_id,
        reached=reached.strip() or (contact.name if contact else ""),
        outcome=outcome,
        excuse=excuse,
        facts=json.dumps(stored, ensure_ascii=False, sort_keys=True),
        note=note.strip(),
        next_step_on=next_step_on,
        logged_by=actor.name,
    )
    session.add(log)
    session.flush()
    if action is not None:
        summary = f"{CHANNEL_LABELS_ZH[channel]}：{OUTCOME_LABELS_ZH[outcome]}"
        if spec is not None:
            summary += f"（{spec.title}）"
        complete_action(session, actor=actor, action=action, outcome=summary, now=contacted_at)
    follow_ups = tuple(
        _start(session, customer, log, kind, stored, invoices, calendar)
        for kind in (spec.follow_ups if spec else ())
    )
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="contact_log",
        entity_id=log.id,
        action="create",
        before=None,
        after={
            "customer": customer.code,
            "contacted_at": contacted_at.isoformat(),
            "channel": channel,
            "reached": log.reached,
            "outcome": outcome,
            "excuse": excuse,
            "facts": stored,
            "note": log.note,
            "next_step_on": next_step_on,
            "task": action_id,
            "follow_ups": [
                {"kind": f.kind, "due_on": f.due_on, "status": f.status} for f in follow_ups
            ],
        },
    )
    return LoggedContact(log, follow_ups)


def _invoices_named(
    session: Session, customer: Customer, numbers: Sequence[str], problems: list[str]
) -> list[Invoice]:
    if not numbers:
        return []
    found = {
        i.number: i
        for i in session.scalars(
            select(Invoice).where(
                Invoice.company_id == customer.company_id,
                Invoice.customer_id == customer.id,
                Invoice.number.in_(list(numbers)),
            )
        )
    }
    missing = [n for n in numbers if n not in found]
    if missing:
        problems.append(
            f"客户 {customer.code} 没有发票 {'、'.join(missing)} / "
            f"customer {customer.code} has no invoice {', '.join(missing)}"
        )
    return [found[n] for n in numbers if n in found]


def _contact(
    session: Session, customer: Customer, contact_id: int | None, problems: list[str]
) -> Contact | None:
    if contact_id is None:
        return None
    contact = session.get(Contact, contact_id)
    if contact is None or contact.customer_id != customer.id:
        problems.append(
            f"联系人 {contact_id} 不属于客户 {customer.code} / "
            f"contact {contact_id} is not a contact of {customer.code}"
        )
        return None
    return contact


def _open_task(
    session: Session, customer: Customer, action_id: int | None, problems: list[str]
) -> CollectionAction | None:
    if action_id is None:
        return None
    action = session.get(CollectionAction, action_id)
    if action is None or action.customer_id != customer.id:
        problems.append(
            f"任务 {action_id} 不是客户 {customer.code} 的 / "
            f"task {action_id} is not one of {customer.code}'s"
        )
        return None
    if action.channel not in TASK_CHANNELS:
        problems.append(
            f"动作 {action_id} 不是电话或拜访任务 / action {action_id} is not a call or visit task"
        )
        return None
    if action.status != "open":
        raise Conflict(
            f"任务 {action_id} 状态为 {action.status}，已不是待办 / "
            f"task {action_id} is {action.status}, no longer open"
        )
    return action


def _start(
    session: Session,
    customer: Customer,
    log: ContactLog,
    kind: str,
    facts: Mapping[str, Any],
    invoices: Sequence[Invoice],
    calendar: WorkCalendar,
) -> FollowUp:
    day = log.contacted_at.date()
    follow_up = FollowUp(
        company_id=customer.company_id,
        customer_id=customer.id,
        contact_log_id=log.id,
        kind=kind,
        due_on=calendar.add_workdays(day, DUE_WORKDAYS[kind]),
        status="open",
        detail=FOLLOW_UP_LABELS_ZH[kind],
        result="",
    )
    numbers = "、".join(i.number for i in invoices)
    if kind == "verify_payment":
        follow_up.detail = (
            f"核实所称付款 verify claimed payment: {facts.get('date', '')} "
            f"{format_amount(int(facts.get('amount', 0)))} 流水号 ref {facts.get('reference', '')}"
        )
    elif kind in ("credit_review", "limit_review"):
        label = "信用复评 credit review" if kind == "credit_review" else "额度复核 limit review"
        follow_up.detail = f"{label}：客户理由 excuse {log.excuse}（{log.contacted_at:%Y-%m-%d}）"
    elif kind == "reissue_invoice":
        follow_up.detail = (
            f"补发发票副本并注明订单号 {facts.get('order_number', '')} / reissue invoice copy "
            f"with order number: {numbers}"
        )
    elif kind == "confirm_amount":
        total = sum(i.open_amount for i in invoices)
        follow_up.detail = (
            f"请客户确认金额 {format_amount(total)} / get the amount confirmed: {numbers}"
        )
    elif kind == "dispute_window_check":
        checked = list(invoices) or _open_invoices(session, customer)
        late, text = dispute_window_result(
            day, [(i.number, _window_end(session, customer, i)) for i in checked]
        )
        follow_up.status = "done"
        follow_up.result = text
        follow_up.detail = (
            "质量异议逾期，记录为逾期异议 / claim late"
            if late
            else "质量异议在异议期内 / claim within window"
        )
    elif kind == ACKNOWLEDGMENT:
        follow_up.document_id = _acknowledgment(session, customer, log, calendar)
        follow_up.detail = "打印欠款确认书，请客户签字盖章后寄回 / have the acknowledgment signed"
    session.add(follow_up)
    session.flush()
    return follow_up


def _open_invoices(session: Session, customer: Customer) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.company_id == customer.company_id,
                Invoice.customer_id == customer.id,
                Invoice.open_amount > 0,
                Invoice.status == InvoiceStatus.OPEN.value,
            )
            .order_by(Invoice.issue_date, Invoice.number)
        )
    )


def _window_end(session: Session, customer: Customer, invoice: Invoice) -> dt.date | None:
    """The last day of the dispute window of the contract in force when the invoice was issued
    (the latest signed one), counted from the issue date; None when no contract covers it."""
    contract = session.scalar(
        select(Contract)
        .where(
            Contract.company_id == customer.company_id,
            Contract.customer_id == customer.id,
            Contract.signed_on <= invoice.issue_date,
            or_(Contract.ends_on.is_(None), Contract.ends_on >= invoice.issue_date),
        )
        .order_by(Contract.signed_on.desc(), Contract.id.desc())
        .limit(1)
    )
    if contract is None:
        return None
    return invoice.issue_date + dt.timedelta(days=contract.dispute_window_days)


def _acknowledgment(
    session: Session, customer: Customer, log: ContactLog, calendar: WorkCalendar
) -> int:
    day = log.contacted_at.date()
    settings = collection_settings(session, company_id=customer.company_id)
    reference = f"HK-ACK-{day:%Y%m%d}-{customer.code}-{log.id}"
    context = message_context(
        session,
        customer=customer,
        invoice_ids=[i.id for i in _open_invoices(session, customer)],
        as_of=day,
        calendar=calendar,
        settings=settings,
        reference=reference,
        step_name="欠款确认书",
        sender_name=customer.collector,
    )
    # The customer confirms a debt: no pay-by date and no bank box on this page.
    context = dataclasses.replace(context, pay_by=None, payment=PaymentInstructions())
    template = acknowledgment_template(
        session, company_id=customer.company_id, language=context.language
    )
    pdf = render_letter_pdf(template, context)
    document = Document(
        company_id=customer.company_id,
        customer_id=customer.id,
        action_id=log.action_id,
        kind=ACKNOWLEDGMENT,
        filename=f"欠款确认书-{customer.code}-{day.isoformat()}.pdf",
        mime_type="application/pdf",
        content=pdf,
        reference=reference,
        created_on=day,
    )
    session.add(document)
    session.flush()
    return document.id


def acknowledgment_template(session: Session, *, company_id: int, language: str) -> Template:
    """The company's wording of the 欠款确认书 if it saved one (code ``debt_acknowledgment``),
    else the one Huikuan ships."""
    own = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.company_id == company_id,
            MessageTemplate.code == ACKNOWLEDGMENT,
            MessageTemplate.language == language,
        )
    )
    if own is not None:
        return Template(
            code=own.code,
            language=own.language,
            channel=own.channel,
            subject=own.subject,
            body=own.body,
            html=own.html,
            signature=own.signature,
        )
    return _shipped_acknowledgment(language if language in LANGUAGES else "zh")


def _shipped_acknowledgment(language: str) -> Template:
    folder = resources.files("huikuan.channels") / "default_templates"
    data = yaml.safe_load((folder / f"{ACKNOWLEDGMENT}.yaml").read_text(encoding="utf-8"))
    part = data[language]
    return Template(
        code=ACKNOWLEDGMENT,
        language=language,
        channel=data["channel"],
        subject=part["subject"].strip(),
        body=part["text"],
        signature=part.get("signature", ""),
    )


# ---------------------------------------------------------------- checking follow-ups


def check_follow_ups(
    session: Session, *, company_id: int, as_of: dt.date, actor: Actor
) -> list[CheckResult]:
    """Check every open ``verify_payment`` follow-up due by ``as_of``: money received (and
    not reversed) between the claimed date and ``as_of`` — one payment of the claimed amount,
    else several adding up to it — means the claim held; otherwise it is flagged as not held.
    Each check closes the follow-up and is audited."""
    rows = session.execute(
        select(FollowUp, ContactLog, Customer)
        .join(ContactLog, ContactLog.id == FollowUp.contact_log_id)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(
            FollowUp.company_id == company_id,
            FollowUp.kind == "verify_payment",
            FollowUp.status == "open",
            FollowUp.due_on <= as_of,
        )
        .order_by(FollowUp.due_on, FollowUp.id)
    ).all()
    results: list[CheckResult] = []
    for follow_up, log, customer in rows:
        claim = json.loads(log.facts or "{}")
        held, text = _verify(session, customer, claim, as_of)
        before = {"status": follow_up.status, "result": follow_up.result}
        follow_up.status = "done"
        follow_up.result = text[:2000]
        record_change(
            session,
            actor=actor,
            company_id=company_id,
            entity="follow_up",
            entity_id=follow_up.id,
            action="verified" if held else "claim_not_held",
            before=before,
            after={"status": "done", "result": follow_up.result, "as_of": as_of},
        )
        results.append(CheckResult(follow_up.id, customer.code, held, follow_up.result))
    session.flush()
    return results


def _verify(
    session: Session, customer: Customer, claim: Mapping[str, Any], as_of: dt.date
) -> tuple[bool, str]:
    since = dt.date.fromisoformat(str(claim.get("date", as_of.isoformat())))
    amount = int(claim.get("amount", 0))
    payments = list(
        session.scalars(
            select(Payment)
            .where(
                Payment.company_id == customer.company_id,
                Payment.customer_id == customer.id,
                Payment.received_on >= since,
                Payment.received_on <= as_of,
                or_(Payment.reversed_on.is_(None), Payment.reversed_on > as_of),
            )
            .order_by(Payment.received_on, Payment.id)
        )
    )
    exact = [p for p in payments if p.amount == amount]
    reference = str(claim.get("reference", ""))
    exact.sort(key=lambda p: p.reference != reference)  # the claimed reference first
    if exact:
        p = exact[0]
        ref = f" 流水号 ref {p.reference}" if p.reference else ""
        return True, f"已找到付款 found payment {p.received_on} {format_amount(p.amount)}{ref}"
    total = sum(p.amount for p in payments)
    if payments and total >= amount:
        days = "、".join(f"{p.received_on} {format_amount(p.amount)}" for p in payments)
        return True, f"已找到付款 found payment (合计 total {format_amount(total)}): {days}"
    got = f"（期间只收到 {format_amount(total)} / only {format_amount(total)} received）"
    return False, (
        f"未找到 not found: the claim did not hold — 自 {since} 起未收到 "
        f"{format_amount(amount)}{got if total else ''}"
    )


# ---------------------------------------------------------------- closing by hand

CLOSINGS = ("done", "not_needed")


def close_follow_up(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    follow_up_id: int,
    outcome: str,
    note: str,
    closed_on: dt.date,
) -> FollowUp:
    """Close an open follow-up by hand: ``done`` (the note says what was done) or
    ``not_needed`` (the note says why not). The follow-up table has no column for who closed
    it and when, so the result keeps the note followed by both; the audit trail records them."""
    note = note.strip()
    if outcome not in CLOSINGS:
        raise InvalidInput(
            f"关闭方式须为 done 或 not_needed：{outcome} / close as done or not_needed, not {outcome}"
        )
    if not note:
        raise InvalidInput("关闭后续事项须写明说明 / closing a follow-up needs a note")
    follow_up = session.scalar(
        select(FollowUp)
        .where(FollowUp.company_id == company_id, FollowUp.id == follow_up_id)
        .with_for_update()
    )
    if follow_up is None:
        raise NotFound(f"没有后续事项 #{follow_up_id} / no follow-up #{follow_up_id}")
    if follow_up.status != "open":
        raise Conflict(
            f"后续事项 #{follow_up_id} 已关闭（{follow_up.status}）/ "
            f"follow-up #{follow_up_id} is already {follow_up.status}"
        )
    before = {"status": follow_up.status, "result": follow_up.result}
    follow_up.status = outcome
    follow_up.result = f"{note[:1800]}（{actor.name}，{closed_on.isoformat()}）"
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="follow_up",
        entity_id=follow_up.id,
        action="close",
        before=before,
        after={"status": outcome, "result": follow_up.result, "closed_on": closed_on},
    )
    session.flush()
    return follow_up


# ---------------------------------------------------------------- reading


def contact_history(session: Session, *, customer: Customer, limit: int = 50) -> list[ContactEntry]:
    """The customer's contacts, newest first."""
    rows = session.scalars(
        select(ContactLog)
        .where(ContactLog.company_id == customer.company_id, ContactLog.customer_id == customer.id)
        .order_by(ContactLog.contacted_at.desc(), ContactLog.id.desc())
        .limit(limit)
    )
    return [_entry(r) for r in rows]


def _entry(row: ContactLog) -> ContactEntry:
    return ContactEntry(
        id=row.id,
        contacted_at=row.contacted_at,
        channel=row.channel,
        reached=row.reached,
        outcome=row.outcome,
        excuse=row.excuse,
        facts=json.loads(row.facts or "{}"),
        note=row.note,
        next_step_on=row.next_step_on,
        logged_by=row.logged_by,
    )


def list_follow_ups(
    session: Session,
    *,
    company_id: int,
    customer: Customer | None = None,
    status: str | None = "open",
    kinds: Sequence[str] = (),
    only: tuple[str, str] | None = None,
) -> list[FollowUpView]:
    """Follow-ups by due date (open ones unless ``status`` says otherwise; None: all). The
    credit manager's review list reads ``kinds=("credit_review", "limit_review")``; ``only``
    keeps the customers a user sees (customer column, value)."""
    query = (
        select(FollowUp, Customer.code)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .where(FollowUp.company_id == company_id)
    )
    if customer is not None:
        query = query.where(FollowUp.customer_id == customer.id)
    if only is not None:
        query = query.where(getattr(Customer, only[0]) == only[1])
    if status is not None:
        query = query.where(FollowUp.status == status)
    if kinds:
        query = query.where(FollowUp.kind.in_(list(kinds)))
    rows = session.execute(query.order_by(FollowUp.due_on, FollowUp.id)).all()
    return [
        FollowUpView(f.id, code, f.kind, f.due_on, f.status, f.detail, f.result, f.document_id)
        for f, code in rows
    ]


def customer_card(session: Session, *, customer: Customer, as_of: dt.date) -> CustomerCard:
    """Who to call: the original contact (the earliest ever recorded, with the phone to use
    today if they are still a contact, under any role), the current decision maker, the
    other current contacts, the last contacts and what is still open."""
    everyone = list(
        session.scalars(
            select(Contact)
            .where(Contact.company_id == customer.company_id, Contact.customer_id == customer.id)
            .order_by(Contact.valid_from, Contact.id)
        )
    )
    current = current_contacts(session, customer_id=customer.id, as_of=as_of)
    original = None
    if everyone:
        first = everyone[0]
        now = next((c for c in current if c.id == first.id), None) or next(
            (c for c in current if c.name == first.name), None
        )
        original = ContactPerson(
            name=first.name,
            role=now.role if now else first.role,
            phone=now.phone if now else "",
            email=now.email if now else "",
            since=first.valid_from,
            still_valid=now is not None,
            last_known_phone=first.phone,
        )
    deciders = [c for c in current if c.is_decision_maker]
    decision_maker = _person(deciders[-1]) if deciders else None
    history = contact_history(session, customer=customer, limit=5)
    return CustomerCard(
        customer_code=customer.code,
        customer_name=customer.name,
        original_contact=original,
        decision_maker=decision_maker,
        current_contacts=tuple(_person(c) for c in current),
        last_contacts=tuple(history),
        last_outcome=history[0].outcome if history else "",
        next_step_on=history[0].next_step_on if history else None,
        open_follow_ups=tuple(
            list_follow_ups(session, company_id=customer.company_id, customer=customer)
        ),
    )


def _person(contact: Contact) -> ContactPerson:
    return ContactPerson(
        name=contact.name,
        role=contact.role,
        phone=contact.phone,
        email=contact.email,
        since=contact.valid_from,
        still_valid=True,
        last_known_phone=contact.phone,
    )
