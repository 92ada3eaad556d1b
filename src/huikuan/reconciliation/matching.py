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

Every line is decided first (the book is read once and does not change while deciding), then
the run writes: the automatic lines' payments through one ``ledger.record_payments`` and their
audit records at once, then the waiting lines' suggestions in a few statements, so that a bank
file of 10,000 lines is applied in seconds (see docs/BENCHMARKS.md). The run locks the lines it
reads (``SELECT … FOR UPDATE``): a clerk applying one of them meanwhile waits, then finds it
applied or waiting with fresh suggestions.

``apply_line`` is how a clerk turns one line into a payment, and it writes exactly what the run
writes for an automatic line: it locks the line row and refuses a line already applied, so two
clerks confirming the same line at once record exactly one payment; the payment's
``import_key`` names the line and its application count, a second guard in the database.
``undo_line`` reverses the payment (the ledger keeps both) and puts the line back in the queue.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, Change, record_change, record_changes
from huikuan.core.errors import Conflict, InvalidInput, NotFound
from huikuan.credit.blacklist_rules import split_aliases
from huikuan.customers.models import Customer
from huikuan.ledger import service as ledger
from huikuan.ledger.models import Invoice, Payment
from huikuan.reconciliation import matching_rules as rules
from huikuan.reconciliation.models import BankLine, MatchSuggestion, PayerAlias

WAITING = ("new", "suggested", "unknown")
AUTO = "auto"
CHUNK = 1000  # ids per IN (...) list and rows per insert


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
    if not dry_run:  # a clerk confirming one of them meanwhile waits for the run to commit
        query = query.with_for_update()
    lines = list(session.scalars(query.order_by(BankLine.booked_on, BankLine.id)))
    run = MatchRun(lines=len(lines))
    if not lines:
        return run
    book = load_book(session, company_id=company_id)
    still_open = {i.invoice_id: i.open_amount for group in book.items.values() for i in group}
    chosen: list[tuple[BankLine, rules.Candidate]] = []
    waiting: list[tuple[BankLine, str, tuple[rules.Candidate, ...]]] = []
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
            chosen.append((line, decision.chosen))
        else:
            run.suggested += kind == "suggest"
            run.unknown += kind == "unknown"
            waiting.append((line, "suggested" if kind == "suggest" else "unknown", decision.top))
        if progress and (done % 500 == 0 or done == len(lines)):
            progress(done, len(lines))
    if not dry_run:
        _apply_chosen(session, actor, company_id, chosen, book.numbers)
        _wait(session, company_id, waiting)
    return run


def _fits(candidate: rules.Candidate | None, still_open: dict[int, int]) -> bool:
    return candidate is not None and all(
        amount <= still_open.get(invoice_id, 0) for invoice_id, amount in candidate.allocations
    )


def _apply_chosen(
    session: Session,
    actor: Actor,
    company_id: int,
    chosen: Sequence[tuple[BankLine, rules.Candidate]],
    numbers: dict[int, str],
) -> None:
    """The automatic lines applied together: what ``apply_line`` does for each, with their
    payments recorded by one ``record_payments`` and their audit records written at once. The
    lines were locked when they were read; the ledger locks the invoices."""
    if not chosen:
        return
    customers = _customers(session, company_id, {c.customer_id for _, c in chosen})
    for line, candidate in chosen:
        _check_allocations(line, candidate.allocations)
    payments = ledger.record_payments(
        session,
        actor=actor,
        company_id=company_id,
        payments=[
            _new_payment(line, customers[candidate.customer_id], candidate.allocations)
            for line, candidate in chosen
        ],
    )
    changes = []
    for (line, candidate), payment in zip(chosen, payments, strict=True):
        applied = [(numbers[invoice_id], amount) for invoice_id, amount in candidate.allocations]
        facts = _mark_applied(
            line, customers[candidate.customer_id], payment, applied, AUTO,
            candidate.confidence, candidate.reasons,
        )  # fmt: skip
        changes.append(Change("bank_line", line.id, "apply", after=facts))
    _delete_suggestions(session, [line.id for line, _ in chosen])
    record_changes(session, actor=actor, company_id=company_id, changes=changes)


def _customers(session: Session, company_id: int, ids: set[int]) -> dict[int, Customer]:
    wanted = sorted(ids)
    found: dict[int, Customer] = {}
    for start in range(0, len(wanted), CHUNK):
        found.update(
            (customer.id, customer)
            for customer in session.scalars(
                select(Customer).where(
                    Customer.company_id == company_id,
                    Customer.id.in_(wanted[start : start + CHUNK]),
                )
            )
        )
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFound(f"没有客户 {missing[0]} / no customer {missing[0]}")
    return found


def _delete_suggestions(session: Session, line_ids: Sequence[int]) -> None:
    for start in range(0, len(line_ids), CHUNK):
        session.execute(
            delete(MatchSuggestion).where(
                MatchSuggestion.bank_line_id.in_(line_ids[start : start + CHUNK])
            )
        )


def _wait(
    session: Session,
    company_id: int,
    waiting: Sequence[tuple[BankLine, str, tuple[rules.Candidate, ...]]],
) -> None:
    """The lines left to a clerk: their best candidates stored (in place of any before)."""
    _delete_suggestions(session, [line.id for line, _, _ in waiting])
    rows = [
        {
            "company_id": company_id,
            "bank_line_id": line.id,
            "rank": rank,
            "customer_id": candidate.customer_id,
            "allocations": json.dumps([list(a) for a in candidate.allocations]),
            "unapplied": candidate.unapplied,
            "confidence": round(candidate.confidence, 4),
            "reasons": reasons_json(candidate.reasons),
        }
        for line, _, top in waiting
        for rank, candidate in enumerate(top, start=1)
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(MatchSuggestion), rows[start : start + CHUNK])
    for line, status, _ in waiting:
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
    new = _new_payment(line, customer, allocations)
    payment = ledger.record_payment(
        session,
        actor=actor,
        company_id=company_id,
        customer=customer,
        received_on=new.received_on,
        amount=new.amount,
        currency=new.currency,
        reference=new.reference,
        payer_name=new.payer_name,
        invoice_numbers=numbers,
        amounts=amounts,
        apply=bool(numbers),
        import_key=new.import_key,
    )
    applied = list(zip(numbers, amounts, strict=True))
    facts = _mark_applied(line, customer, payment, applied, by, confidence, reasons)
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
        after=facts,
    )
    return line


def _new_payment(
    line: BankLine, customer: Customer, allocations: Sequence[tuple[int, int]]
) -> ledger.NewPayment:
    """The payment a line becomes; its import key names the line and its application count."""
    return ledger.NewPayment(
        customer=customer,
        received_on=line.booked_on,
        amount=line.amount,
        applications=tuple(allocations),
        currency=line.currency,
        reference=(line.bank_reference or line.remittance)[:120],
        payer_name=line.payer_name,
        import_key=f"bank-line:{line.id}:{line.applications + 1}",
    )


def _mark_applied(
    line: BankLine,
    customer: Customer,
    payment: Payment,
    applied: Sequence[tuple[str, int]],
    by: str,
    confidence: float | None,
    reasons: Sequence[rules.Reason],
) -> dict[str, object]:
    """The line marked applied as ``payment``; what its audit record says."""
    line.status = "applied"
    line.customer_id = customer.id
    line.payment_id = payment.id
    line.decided_by = by
    line.confidence = confidence
    line.reasons = reasons_json(reasons)
    line.applications += 1
    return {
        "by": by,
        "customer": customer.code,
        "payment": payment.id,
        "amount": line.amount,
        "applied": [[number, amount] for number, amount in applied],
        "unapplied": line.amount - sum(amount for _, amount in applied),
        "confidence": confidence,
        "reasons": [r.code for r in reasons],
    }


def _check_allocations(line: BankLine, allocations: Sequence[tuple[int, int]]) -> None:
    """Positive amounts, each invoice once, no more than the line brings."""
    ids = [invoice_id for invoice_id, _ in allocations]
    if len(set(ids)) != len(ids):
        raise InvalidInput("同一发票出现两次 / the same invoice twice")
    if any(amount <= 0 for _, amount in allocations):
        raise InvalidInput("核销金额必须大于零 / every amount applied must be positive")
    if sum(amount for _, amount in allocations) > line.amount:
        raise InvalidInput("核销合计超过到账金额 / the amounts applied exceed the money received")


def _allocations(
    session: Session,
    company_id: int,
    customer: Customer,
    line: BankLine,
    allocations: Sequence[tuple[int, int]],
) -> tuple[list[str], list[int]]:
    """Invoice numbers and amounts, checked: the customer's invoices, positive amounts, each
    invoice once, no more than the line brings (the ledger refuses more than is open)."""
    _check_allocations(line, allocations)
    ids = [invoice_id for invoice_id, _ in allocations]
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
