"""Cash application: bank lines turned into payments applied to invoices.

``match_waiting`` reads the company's open invoices and customers once (names, aliases from
the customer record and the payer names clerks confirmed), asks ``matching_rules`` who paid
each waiting line and for what, and then:

- **auto**: the rules are sure (see ``matching_rules.decide``): a payment is recorded for the
  customer, applied to the candidate's invoices with the candidate's amounts, and anything left
  stays as unapplied cash on the customer;
- **suggest**: the line waits in the queue with its best three candidates and their reasons;
- **unknown**: nobody fits; the line waits, its money is still on the bank line, never lost.

Two lines in one run that claim the same invoice beyond what is open are both left to a clerk.
A line a person undid is never applied automatically again.

``apply_line`` is the one way a line becomes a payment (automatic or by a clerk): it locks the
line row (``SELECT … FOR UPDATE``) and refuses a line already applied, so two clerks confirming
the same line at once record exactly one payment; the payment's ``import_key`` names the line
and its application count, a second guard in the database. ``undo_line`` reverses the payment
(the ledger keeps both) and puts the line back in the queue.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.credit.blacklist_rules import split_aliases
from huikuan.customers.models import Customer
from huikuan.ledger import service as ledger
from huikuan.ledger.models import Invoice
from huikuan.reconciliation import matching_rules as rules
from huikuan.reconciliation.models import BankLine, MatchSuggestion, PayerAlias

WAITING = ("new", "suggested", "unknown")
AUTO = "auto"


@dataclass(slots=True)
class MatchRun:
    lines: int = 0
    auto: int = 0
    suggested: int = 0
    unknown: int = 0
    applied_amount: int = 0  # fen applied automatically (payments recorded)
    decisions: dict[int, str] = field(default_factory=dict)  # line id → auto/suggest/unknown


@dataclass(frozen=True, slots=True)
class Book:
    """What matching reads once per run: open items and who the customers are."""

    references: rules.ReferenceIndex
    names: rules.NameIndex
    items: dict[int, list[rules.OpenItem]]
    numbers: dict[int, str]  # invoice id → number


def load_book(session: Session, *, company_id: int) -> Book:
    """Open invoices (one query) and customer names with every alias (two queries)."""
    items: dict[int, list[rules.OpenItem]] = {}
    numbers: dict[int, str] = {}
    for row in session.execute(
        select(
            Invoice.id,
            Invoice.number,
            Invoice.order_number,
            Invoice.customer_id,
            Invoice.open_amount,
            Invoice.due_date,
            Invoice.issue_date,
        ).where(Invoice.company_id == company_id, Invoice.open_amount > 0)
    ):
        item = rules.OpenItem(row[0], row[1], row[2] or "", row[3], row[4], row[5], row[6])
        items.setdefault(item.customer_id, []).append(item)
        numbers[item.invoice_id] = item.number
    learned_names: dict[int, list[str]] = {}
    learned_accounts: dict[int, list[str]] = {}
    for customer_id, name, account in session.execute(
        select(PayerAlias.customer_id, PayerAlias.name, PayerAlias.account).where(
            PayerAlias.company_id == company_id
        )
    ):
        if name:
            learned_names.setdefault(customer_id, []).append(name)
        if account:
            learned_accounts.setdefault(customer_id, []).append(account)
    customers = [
        rules.CustomerName(
            customer_id,
            name,
            split_aliases(aliases or "") + tuple(learned_names.get(customer_id, ())),
            tuple(learned_accounts.get(customer_id, ())),
        )
        for customer_id, name, aliases in session.execute(
            select(Customer.id, Customer.name, Customer.aliases).where(
                Customer.company_id == company_id
            )
        )
    ]
    every_item = [item for group in items.values() for item in group]
    return Book(rules.ReferenceIndex(every_item), rules.NameIndex(customers), items, numbers)


def incoming(line: BankLine) -> rules.IncomingLine:
    return rules.IncomingLine(
        amount=line.amount,
        payer_name=line.payer_name,
        payer_account=line.payer_account,
        remittance=line.remittance,
        booked_on=line.booked_on,
    )


def match_waiting(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    line_ids: Sequence[int] | None = None,
    settings: rules.MatchSettings | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> MatchRun:
    """Match the waiting lines (or those named) and act on each decision (see the module).
    With ``dry_run`` nothing is written: the run only says what it would do."""
    settings = settings or rules.MatchSettings()
    query = select(BankLine).where(
        BankLine.company_id == company_id, BankLine.status.in_(WAITING), BankLine.amount > 0
    )
    if line_ids is not None:
        query = query.where(BankLine.id.in_(list(line_ids)))
    lines = list(session.scalars(query.order_by(BankLine.booked_on, BankLine.id)))
    run = MatchRun(lines=len(lines))
    if not lines:
        return run
    book = load_book(session, company_id=company_id)
    still_open = {i.invoice_id: i.open_amount for group in book.items.values() for i in group}
    for done, line in enumerate(lines, start=1):
        found = rules.candidates(incoming(line), book.references, book.names, book.items, settings)
        decision = rules.decide(incoming(line), found, settings)
        kind = decision.kind
        if kind == "auto" and (line.applications > 0 or not _fits(decision.chosen, still_open)):
            kind = "suggest"
        run.decisions[line.id] = kind
        if kind == "auto":
            assert decision.chosen is not None
            for invoice_id, amount in decision.chosen.allocations:
                still_open[invoice_id] -= amount
            run.auto += 1
            run.applied_amount += line.amount
            if not dry_run:
                apply_line(
                    session,
                    actor=actor,
                    company_id=company_id,
                    line_id=line.id,
                    customer_id=decision.chosen.customer_id,
                    allocations=decision.chosen.allocations,
                    confidence=decision.chosen.confidence,
                    reasons=decision.chosen.reasons,
                    by=AUTO,
                )
        else:
            run.suggested += kind == "suggest"
            run.unknown += kind == "unknown"
            if not dry_run:
                _wait(session, line, "suggested" if kind == "suggest" else "unknown", decision.top)
        if progress and (done % 500 == 0 or done == len(lines)):
            progress(done, len(lines))
    return run


def _fits(candidate: rules.Candidate | None, still_open: dict[int, int]) -> bool:
    return candidate is not None and all(
        amount <= still_open.get(invoice_id, 0) for invoice_id, amount in candidate.allocations
    )


def _wait(session: Session, line: BankLine, status: str, top: Iterable[rules.Candidate]) -> None:
    session.execute(delete(MatchSuggestion).where(MatchSuggestion.bank_line_id == line.id))
    rows = [
        {
            "company_id": line.company_id,
            "bank_line_id": line.id,
            "rank": rank,
            "customer_id": candidate.customer_id,
            "allocations": json.dumps([list(a) for a in candidate.allocations]),
            "unapplied": candidate.unapplied,
            "confidence": round(candidate.confidence, 4),
            "reasons": reasons_json(candidate.reasons),
        }
        for rank, candidate in enumerate(top, start=1)
    ]
    if rows:
        session.execute(insert(MatchSuggestion), rows)
    line.status = status


def reasons_json(reasons: Iterable[rules.Reason]) -> str:
    return json.dumps([[r.code, r.zh, r.en] for r in reasons], ensure_ascii=False)


def apply_line(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    line_id: int,
    customer_id: int,
    allocations: Sequence[tuple[int, int]],
    confidence: float | None = None,
    reasons: Sequence[rules.Reason] = (),
    by: str,
    learn_payer: bool = False,
) -> BankLine:
    """Record the line's money as a payment of ``customer_id`` applied as ``allocations``
    ((invoice id, fen), the rest unapplied on the customer). ``by`` is ``auto`` or the clerk;
    ``learn_payer`` remembers the payer name and account for this customer."""
    line = session.scalar(
        select(BankLine)
        .where(BankLine.company_id == company_id, BankLine.id == line_id)
        .with_for_update()
    )
    if line is None:
        raise NotFound(f"没有银行流水 {line_id} / no bank line {line_id}")
    if line.status == "applied":
        raise Conflict(
            f"流水 {line_id} 已由 {line.decided_by} 处理 / line {line_id} was already applied by "
            f"{line.decided_by}"
        )
    if line.amount <= 0:
        raise InvalidInput(f"流水 {line_id} 是付出款项 / line {line_id} is money out")
    customer = session.get(Customer, customer_id)
    if customer is None or customer.company_id != company_id:
        raise NotFound(f"没有客户 {customer_id} / no customer {customer_id}")
    numbers, amounts = _allocations(session, company_id, customer, line, allocations)
    payment = ledger.record_payment(
        session,
        actor=actor,
        company_id=company_id,
        customer=customer,
        received_on=line.booked_on,
        amount=line.amount,
        currency=line.currency,
        reference=(line.bank_reference or line.remittance)[:120],
        payer_name=line.payer_name,
        invoice_numbers=numbers,
        amounts=amounts,
        apply=bool(numbers),
        import_key=f"bank-line:{line.id}:{line.applications + 1}",
    )
    line.status = "applied"
    line.customer_id = customer.id
    line.payment_id = payment.id
    line.decided_by = by
    line.confidence = confidence
    line.reasons = reasons_json(reasons)
    line.applications += 1
    session.execute(delete(MatchSuggestion).where(MatchSuggestion.bank_line_id == line.id))
    if learn_payer:
        learn_alias(session, actor=actor, line=line, customer=customer)
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="bank_line",
        entity_id=line.id,
        action="apply",
        after={
            "by": by,
            "customer": customer.code,
            "payment": payment.id,
            "amount": line.amount,
            "applied": [[n, a] for n, a in zip(numbers, amounts, strict=True)],
            "unapplied": line.amount - sum(amounts),
            "confidence": confidence,
            "reasons": [r.code for r in reasons],
        },
    )
    return line


def _allocations(
    session: Session,
    company_id: int,
    customer: Customer,
    line: BankLine,
    allocations: Sequence[tuple[int, int]],
) -> tuple[list[str], list[int]]:
    """Invoice numbers and amounts, checked: the customer's invoices, positive amounts, each
    invoice once, no more than the line brings (the ledger refuses more than is open)."""
    ids = [invoice_id for invoice_id, _ in allocations]
    if len(set(ids)) != len(ids):
        raise InvalidInput("同一发票出现两次 / the same invoice twice")
    if any(amount <= 0 for _, amount in allocations):
        raise InvalidInput("核销金额必须大于零 / every amount applied must be positive")
    if sum(amount for _, amount in allocations) > line.amount:
        raise InvalidInput("核销合计超过到账金额 / the amounts applied exceed the money received")
    found = dict(
        session.execute(
            select(Invoice.id, Invoice.number).where(
                Invoice.company_id == company_id,
                Invoice.customer_id == customer.id,
                Invoice.id.in_(ids),
            )
        ).all()
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise NotFound(
            f"发票不属于客户 {customer.code}：{', '.join(missing)} / invoices not of customer "
            f"{customer.code}: {', '.join(missing)}"
        )
    return [found[i] for i in ids], [amount for _, amount in allocations]


def learn_alias(session: Session, *, actor: Actor, line: BankLine, customer: Customer) -> None:
    """Remember who paid for ``customer`` (name and account), unless it is its own name."""
    name = line.payer_name.strip()
    if rules.normalise_name(name) == rules.normalise_name(customer.name):
        name = ""
    account = rules.normalise_account(line.payer_account)
    if not name and not account:
        return
    exists = session.scalar(
        select(PayerAlias.id).where(
            PayerAlias.company_id == customer.company_id,
            PayerAlias.customer_id == customer.id,
            PayerAlias.name == name,
            PayerAlias.account == account,
        )
    )
    if exists is not None:
        return
    session.add(
        PayerAlias(
            company_id=customer.company_id,
            customer_id=customer.id,
            name=name,
            account=account,
            learned_from=line.id,
            learned_by=actor.name,
            learned_on=actor.at.date(),
        )
    )
    session.flush()
    record_change(
        session,
        actor=actor,
        company_id=customer.company_id,
        entity="payer_alias",
        entity_id=customer.code,
        action="learn",
        after={"name": name, "account": account, "line": line.id},
    )


def undo_line(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    line_id: int,
    on: dt.date,
    reason: str,
    settings: rules.MatchSettings | None = None,
) -> BankLine:
    """Take back an application: the payment is reversed on ``on`` (never before the money
    arrived), and the line waits for a clerk again with fresh suggestions."""
    if not reason.strip():
        raise InvalidInput("请写明撤销原因 / say why the match is undone")
    line = session.scalar(
        select(BankLine)
        .where(BankLine.company_id == company_id, BankLine.id == line_id)
        .with_for_update()
    )
    if line is None:
        raise NotFound(f"没有银行流水 {line_id} / no bank line {line_id}")
    if line.status != "applied" or line.payment_id is None:
        raise Conflict(f"流水 {line_id} 尚未核销 / line {line_id} is not applied")
    payment_id = line.payment_id
    ledger.reverse_payment(
        session,
        actor=actor,
        company_id=company_id,
        payment_id=payment_id,
        reversed_on=max(on, line.booked_on),
    )
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="bank_line",
        entity_id=line.id,
        action="undo",
        before={"customer_id": line.customer_id, "payment": payment_id, "by": line.decided_by},
        after={"reason": reason.strip()},
    )
    line.status = "new"
    line.customer_id = None
    line.payment_id = None
    line.decided_by = ""
    line.confidence = None
    line.reasons = ""
    session.flush()
    match_waiting(
        session, actor=actor, company_id=company_id, line_ids=[line.id], settings=settings
    )
    return line
