"""The demo company: deterministic, realistic receivables at any scale.

The same generator fills a 300-customer demo and a 100k-customer / 1M+-invoice benchmark. It
writes with bulk inserts in chunks of customers and computes allocations as it goes, using the
ledger rules, so the demo satisfies every ledger invariant that the services keep
(``huikuan ledger check`` passes on it).

Behaviours, in our own words:

- *good* payers pay within a few days of the due date;
- *slow* payers pay 20–90 days late;
- *bad* debtors paid slowly for a while, then stopped: their newest invoices are never paid;
- *project* contractors pay in lumps on project milestones, usually late;
- *retail chains* pay everything that fell due on their monthly settlement day;
- some payments are partial, a few overpay (the rest stays as credit), some goods come back
  (credit notes), and some contacts change over time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select, text

from huikuan.customers.models import Contact, Contract, Customer
from huikuan.demo import names
from huikuan.ledger import daily_totals, rules
from huikuan.ledger.models import Allocation, CreditNote, Invoice, Payment, SalesOrder

Progress = Callable[[int, int], None]
CHUNK_CUSTOMERS = 2000

TYPE_WEIGHTS = {"project": 20, "dealer": 25, "industrial": 25, "retail_chain": 15, "other": 15}
# Invoice amounts in yuan (low, high) by customer type.
AMOUNT_RANGE = {
    "project": (50_000, 1_500_000),
    "dealer": (5_000, 300_000),
    "industrial": (10_000, 500_000),
    "retail_chain": (2_000, 80_000),
    "other": (1_000, 50_000),
}
TERMS = {"project": (60, 90), "dealer": (30, 60), "industrial": (30, 45, 60), "other": (30,)}


@dataclass(frozen=True, slots=True)
class DemoSpec:
    as_of: dt.date
    customers: int = 300
    years: int = 2
    seed: int = 7
    invoices_per_customer_year: float = 10.0
    with_orders: bool = True


@dataclass(slots=True)
class DemoSummary:
    customers: int = 0
    invoices: int = 0
    payments: int = 0
    credit_notes: int = 0
    allocations: int = 0
    contacts: int = 0


@dataclass(slots=True)
class _Ids:
    """Next id per table: ids are assigned here so that rows can refer to each other before
    they are inserted, in one pass."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass(slots=True)
class _OpenInvoice:
    row: dict[str, Any]
    balance: int
    live: list[rules.DatedAllocation] = field(default_factory=list)


@dataclass(slots=True)
class _Book:
    """One customer's invoices while their payments are replayed in date order. Only issued,
    unsettled invoices are in ``open``, so each payment looks at a handful of rows, not at
    the customer's whole history."""

    pending: deque[_OpenInvoice]  # not yet issued, in issue-date order
    open: list[_OpenInvoice] = field(default_factory=list)
    settled: list[_OpenInvoice] = field(default_factory=list)

    def advance_to(self, day: dt.date) -> None:
        while self.pending and self.pending[0].row["issue_date"] <= day:
            self.open.append(self.pending.popleft())

    def open_items(self) -> list[rules.OpenItem]:
        return [
            rules.OpenItem(
                i.row["id"], i.row["number"], i.row["issue_date"], i.row["due_date"], i.balance
            )
            for i in self.open
        ]

    def find(self, invoice_id: int) -> _OpenInvoice:
        return next(i for i in self.open if i.row["id"] == invoice_id)

    def prune(self) -> None:
        self.settled.extend(i for i in self.open if i.balance == 0)
        self.open = [i for i in self.open if i.balance > 0]

    def everything(self) -> list[_OpenInvoice]:
        return self.settled + self.open + list(self.pending)


@dataclass(slots=True)
class _Rows:
    customers: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    credit_notes: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[dict[str, Any]] = field(default_factory=list)


TABLES = (
    ("customers", Customer),
    ("contacts", Contact),
    ("contracts", Contract),
    ("orders", SalesOrder),
    ("invoices", Invoice),
    ("payments", Payment),
    ("credit_notes", CreditNote),
    ("allocations", Allocation),
)


def build_demo(
    conn: Connection, *, company_id: int, spec: DemoSpec, progress: Progress | None = None
) -> DemoSummary:
    """Write the demo company's customers and ledger through ``conn`` (the caller's transaction)."""
    rng = random.Random(spec.seed)
    ids = _Ids({name: _next_id(conn, model) for name, model in TABLES})
    summary = DemoSummary()
    for start in range(0, spec.customers, CHUNK_CUSTOMERS):
        rows = _Rows()
        for index in range(start, min(start + CHUNK_CUSTOMERS, spec.customers)):
            _one_customer(rng, rows, ids, company_id=company_id, index=index, spec=spec)
        _insert(conn, rows, summary)
        if progress:
            progress(min(start + CHUNK_CUSTOMERS, spec.customers), spec.customers)
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn)
    daily_totals.rebuild(conn, company_id)  # bulk inserts bypass the service: total up once
    return summary


def _next_id(conn: Connection, model: Any) -> int:
    return int(conn.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one()) + 1


def _insert(conn: Connection, rows: _Rows, summary: DemoSummary) -> None:
    for name, model in TABLES:
        batch = getattr(rows, name)
        for i in range(0, len(batch), 10_000):
            conn.execute(insert(model), batch[i : i + 10_000])
    summary.customers += len(rows.customers)
    summary.invoices += len(rows.invoices)
    summary.payments += len(rows.payments)
    summary.credit_notes += len(rows.credit_notes)
    summary.allocations += len(rows.allocations)
    summary.contacts += len(rows.contacts)


def _reset_sequences(conn: Connection) -> None:
    """Ids were assigned here; move PostgreSQL's sequences past them for later inserts."""
    for _, model in TABLES:
        table = model.__tablename__
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        )


# --- one customer ----------------------------------------------------------------------------


def _one_customer(
    rng: random.Random, rows: _Rows, ids: _Ids, *, company_id: int, index: int, spec: DemoSpec
) -> None:
    ctype = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
    behaviour = rng.choices(["good", "slow", "bad"], weights=[60, 33, 7])[0]
    history_start = spec.as_of - dt.timedelta(days=365 * spec.years)
    customer_id = ids.take("customers")
    rows.customers.append(
        {
            "id": customer_id,
            "company_id": company_id,
            "code": f"C{index + 1:06d}",
            "name": _company_name(rng, ctype, index),
            "aliases": "",
            "customer_type": ctype,
            "status": "active",
            "salesperson": rng.choice(names.SALESPEOPLE),
            "collector": rng.choice(names.COLLECTORS),
            "tags": "|".join(
                t
                for t in (
                    "重点客户" if rng.random() < 0.1 else "",
                    (behaviour == "bad" and "高风险") or "",
                )
                if t
            ),
        }
    )
    terms = 0 if ctype == "retail_chain" else rng.choice(TERMS[ctype])
    _contacts(rng, rows, ids, company_id, customer_id, history_start, spec.as_of)
    rows.contracts.append(
        {
            "id": ids.take("contracts"),
            "company_id": company_id,
            "customer_id": customer_id,
            "number": f"HT-{index + 1:06d}",
            "signed_on": history_start,
            "ends_on": None,
            "payment_terms_days": terms,
            "dispute_window_days": rng.choice((7, 15, 30)),
            "late_fee_rate_per_day": rng.choice(("0", "0.0003", "0.0005")),
            "grace_days": rng.choice((0, 3, 5)),
            "guarantee": "法人代表个人担保" if ctype == "project" and rng.random() < 0.3 else "",
            "credit_limit": None,
        }
    )
    invoices = _invoices(rng, rows, ids, company_id, customer_id, ctype, terms, history_start, spec)
    _settle(rng, rows, ids, company_id, customer_id, ctype, behaviour, invoices, spec.as_of)


def _company_name(rng: random.Random, ctype: str, index: int) -> str:
    # The index keeps names unique at any scale without a lookup.
    region, word = rng.choice(names.REGIONS), rng.choice(names.WORDS)
    industry = rng.choice(names.INDUSTRY_BY_TYPE[ctype])
    suffix = "" if index < 500 else f"{index % 997}号"
    return f"{region}{word}{industry}{suffix}有限公司"


def _person(rng: random.Random) -> str:
    return rng.choice(names.SURNAMES) + rng.choice(names.GIVEN)


def _contacts(
    rng: random.Random,
    rows: _Rows,
    ids: _Ids,
    company_id: int,
    customer_id: int,
    start: dt.date,
    as_of: dt.date,
) -> None:
    """Buyer, accountant and boss; a quarter of them change during the history."""
    for position, role in enumerate(names.CONTACT_ROLES):
        contact = {
            "id": ids.take("contacts"),
            "company_id": company_id,
            "customer_id": customer_id,
            "name": _person(rng),
            "role": role,
            "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
            # Reserved example.com addresses: a demo never writes to a real mailbox.
            "email": f"c{customer_id}.{position}@example.com",
            "is_decision_maker": role == "老板",
            "valid_from": start,
            "valid_to": None,
        }
        rows.contacts.append(contact)
        if role != "老板" and rng.random() < 0.25:
            changed = start + dt.timedelta(days=rng.randrange(30, max(31, (as_of - start).days)))
            contact["valid_to"] = changed - dt.timedelta(days=1)
            rows.contacts.append(
                {
                    **contact,
                    "id": ids.take("contacts"),
                    "name": _person(rng),
                    "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                    "valid_from": changed,
                    "valid_to": None,
                }
            )


def _due_date(ctype: str, issued: dt.date, terms: int) -> dt.date:
    if ctype == "retail_chain":
        # 月结: everything invoiced in a month falls due at the end of the next month.
        first_next = (issued.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        return (first_next + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return issued + dt.timedelta(days=terms)


def _invoices(
    rng: random.Random,
    rows: _Rows,
    ids: _Ids,
    company_id: int,
    customer_id: int,
    ctype: str,
    terms: int,
    start: dt.date,
    spec: DemoSpec,
) -> list[dict[str, Any]]:
    mean = spec.invoices_per_customer_year * spec.years
    count = max(1, int(rng.uniform(0.3, 1.7) * mean))
    span = (spec.as_of - start).days
    low, high = AMOUNT_RANGE[ctype]
    created = []
    for issued in sorted(start + dt.timedelta(days=rng.randrange(span + 1)) for _ in range(count)):
        invoice_id = ids.take("invoices")
        amount = rng.randrange(low, high) * 100 + rng.choice((0, 0, 0, rng.randrange(100)))
        order_number = f"SO-{issued.year}-{invoice_id:07d}"
        if spec.with_orders:
            rows.orders.append(
                {
                    "id": ids.take("orders"),
                    "company_id": company_id,
                    "customer_id": customer_id,
                    "number": order_number,
                    "ordered_on": issued - dt.timedelta(days=rng.randrange(0, 10)),
                    "amount": amount,
                    "currency": "CNY",
                    "status": "closed",
                    "approval": "approved",
                    "invoiced_amount": amount,
                    "shipped_amount": amount,
                }
            )
        row = {
            "id": invoice_id,
            "company_id": company_id,
            "customer_id": customer_id,
            "number": f"INV-{issued.year}-{invoice_id:07d}",
            "order_number": order_number,
            "issue_date": issued,
            "due_date": _due_date(ctype, issued, terms),
            "amount": amount,
            "currency": "CNY",
            "status": "open",
            "open_amount": amount,
            "settled_on": None,
            "description": "",
        }
        rows.invoices.append(row)
        created.append(row)
    return created


# --- payments, credit notes and allocations ----------------------------------------------------


def _planned_payment_date(
    rng: random.Random, ctype: str, behaviour: str, due: dt.date, stop: dt.date | None
) -> dt.date | None:
    if stop is not None and due > stop:
        return None  # a bad debtor stopped paying
    if behaviour == "good":
        delay = rng.randrange(-5, 8)
    elif behaviour == "slow":
        delay = rng.randrange(20, 90)
    else:
        delay = rng.randrange(40, 150)
    day = due + dt.timedelta(days=delay)
    if ctype == "retail_chain":
        # Paid on the chain's settlement day, the 25th, on or after the day it intended to pay.
        day = (
            day.replace(day=25)
            if day.day <= 25
            else (day.replace(day=1) + dt.timedelta(days=32)).replace(day=25)
        )
    elif ctype == "project":
        # Contractors pay when a milestone is reached: round up to the end of a quarter.
        quarter_end_month = ((day.month - 1) // 3 + 1) * 3
        day = (dt.date(day.year, quarter_end_month, 1) + dt.timedelta(days=32)).replace(
            day=1
        ) - dt.timedelta(days=1)
    return day


def _settle(
    rng: random.Random,
    rows: _Rows,
    ids: _Ids,
    company_id: int,
    customer_id: int,
    ctype: str,
    behaviour: str,
    invoices: list[dict[str, Any]],
    as_of: dt.date,
) -> None:
    stop = None
    if behaviour == "bad" and invoices:
        stop = as_of - dt.timedelta(days=rng.randrange(150, 500))
    planned: dict[dt.date, int] = {}
    notes: list[tuple[dt.date, dict[str, Any], int]] = []
    for inv in invoices:
        day = _planned_payment_date(rng, ctype, behaviour, inv["due_date"], stop)
        if rng.random() < 0.03:
            notes.append(
                (
                    inv["issue_date"] + dt.timedelta(days=rng.randrange(5, 25)),
                    inv,
                    inv["amount"] * rng.randrange(5, 30) // 100,
                )
            )
        if day is None or day > as_of:
            continue
        share = 100 if rng.random() > 0.08 else rng.randrange(30, 90)
        amount = inv["amount"] * share // 100
        if rng.random() < 0.01:
            amount += rng.randrange(100, 500_000)  # paid a little too much: stays as credit
        planned[day] = planned.get(day, 0) + amount
    events: list[tuple[dt.date, int, Any]] = [(d, 1, a) for d, a in planned.items() if a > 0]
    events += [(d, 0, (inv, a)) for d, inv, a in notes if d <= as_of and a > 0]
    book = _Book(pending=deque(_OpenInvoice(inv, inv["amount"]) for inv in invoices))
    for day, kind, payload in sorted(events, key=lambda e: (e[0], e[1])):
        book.advance_to(day)
        if kind == 0:
            _credit_note(rng, rows, ids, company_id, customer_id, day, payload, book)
        else:
            _payment(rng, rows, ids, company_id, customer_id, day, payload, book)
        book.prune()
    for item in book.everything():
        item.row["open_amount"] = item.balance
        item.row["status"] = "open" if item.balance else "paid"
        item.row["settled_on"] = rules.settled_on(item.row["amount"], item.live)


def _apply(
    rows: _Rows,
    ids: _Ids,
    company_id: int,
    source: dict[str, Any],
    plan: rules.AllocationPlan,
    day: dt.date,
    book: _Book,
    source_key: str,
) -> None:
    for application in plan.applications:
        item = book.find(application.invoice_id)
        item.balance -= application.amount
        effective = rules.effective_date(day, item.row["issue_date"])
        item.live.append(rules.DatedAllocation(application.amount, effective))
        rows.allocations.append(
            {
                "id": ids.take("allocations"),
                "company_id": company_id,
                "invoice_id": application.invoice_id,
                "payment_id": source["id"] if source_key == "payment_id" else None,
                "credit_note_id": source["id"] if source_key == "credit_note_id" else None,
                "amount": application.amount,
                "effective_on": effective,
                "reversed_on": None,
            }
        )
    source["unapplied_amount"] = plan.unapplied


def _payment(
    rng: random.Random,
    rows: _Rows,
    ids: _Ids,
    company_id: int,
    customer_id: int,
    day: dt.date,
    amount: int,
    book: _Book,
) -> None:
    payment = {
        "id": ids.take("payments"),
        "company_id": company_id,
        "customer_id": customer_id,
        "received_on": day,
        "amount": amount,
        "currency": "CNY",
        "method": rng.choices(("bank_transfer", "acceptance_bill", "cash"), weights=(85, 12, 3))[0],
        "reference": f"BK{day:%Y%m%d}{rng.randrange(10**6):06d}",
        "payer_name": "",
        "unapplied_amount": amount,
        "reversed_on": None,
        "import_key": None,
    }
    rows.payments.append(payment)
    plan = rules.allocate_oldest_first(amount, book.open_items())
    _apply(rows, ids, company_id, payment, plan, day, book, "payment_id")


def _credit_note(
    rng: random.Random,
    rows: _Rows,
    ids: _Ids,
    company_id: int,
    customer_id: int,
    day: dt.date,
    payload: tuple[dict[str, Any], int],
    book: _Book,
) -> None:
    invoice, amount = payload
    note = {
        "id": ids.take("credit_notes"),
        "company_id": company_id,
        "customer_id": customer_id,
        "number": f"CN-{day.year}-{invoice['id']:07d}",
        "issued_on": day,
        "amount": amount,
        "currency": "CNY",
        "reason": rng.choice(("质量问题退货", "数量短缺", "价格折让", "运输破损")),
        "unapplied_amount": amount,
    }
    rows.credit_notes.append(note)
    named = [i for i in book.open_items() if i.invoice_id == invoice["id"]]
    plan = rules.allocate_to_named(amount, named)
    _apply(rows, ids, company_id, note, plan, day, book, "credit_note_id")
