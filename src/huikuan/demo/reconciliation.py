"""The demo company's reconciliation: last month's statements (some confirmed by the customer,
one disputed with a difference being worked, the rest sent), statement schedules for retail
chains on their settlement day and a few monthly customers, and this week's bank statement from
the company's bank, written as the bank's GBK export and imported through the same path a clerk
uses, so the matching queue holds lines applied automatically, lines to confirm and an unknown
payer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor
from huikuan.customers.models import Customer
from huikuan.ledger.models import Invoice
from huikuan.reconciliation.bank_import import import_bank_statement
from huikuan.reconciliation.matching import match_waiting
from huikuan.reconciliation.statements import (
    DifferenceInput,
    confirm_statement,
    dispute_statement,
    issue_statements,
    resolve_difference,
    send_statement,
    set_schedule,
)

ACCOUNT = "1202021009001234567"  # the demo company's account (see demo/collections.py)
HEADER = ["交易日期", "交易流水号", "摘要", "借方发生额", "贷方发生额", "余额", "对方户名", "对方账号", "附言"]  # fmt: skip


def demo_reconciliation(
    session: Session, *, actor: Actor, company_id: int, as_of: dt.date, seed: int
) -> dict[str, int]:
    rng = random.Random(seed * 31 + 7)
    statements = _statements(session, actor, company_id, as_of, rng)
    schedules = _schedules(session, actor, company_id, as_of)
    bank = _bank_week(session, actor, company_id, as_of, rng)
    return {"statements": statements, "schedules": schedules, **bank}


def _customers_owing(session: Session, company_id: int, as_of: dt.date) -> list[Customer]:
    ids = session.scalars(
        select(Invoice.customer_id)
        .where(Invoice.company_id == company_id, Invoice.open_amount > 0)
        .group_by(Invoice.customer_id)
        .order_by(Invoice.customer_id)
    ).all()
    return [session.get_one(Customer, i) for i in ids]


def _statements(
    session: Session, actor: Actor, company_id: int, as_of: dt.date, rng: random.Random
) -> int:
    """Last month's statements for eight customers: three confirmed, one disputed (one
    difference resolved, one open), the rest sent and waiting for an answer."""
    end = as_of.replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    issued_on = end + dt.timedelta(days=3)
    chosen = rng.sample(_customers_owing(session, company_id, as_of), k=8)
    now = dt.datetime.combine(issued_on, dt.time(9, 30))
    count = 0
    for n, customer in enumerate(chosen):
        for statement in issue_statements(
            session, actor=actor, customer=customer, start=start, end=end, issued_on=issued_on
        ):
            count += 1
            send_statement(session, actor=actor, company_id=company_id, statement_id=statement.id, now=now)  # fmt: skip
            if n < 3:
                confirm_statement(
                    session, actor=actor, company_id=company_id, statement_id=statement.id,
                    confirmed_by="财务 " + customer.name[:2] + "会计",
                    confirmed_on=issued_on + dt.timedelta(days=2 + n),
                )  # fmt: skip
            elif n == 3:
                _disputed(session, actor, company_id, statement.id, issued_on)
    return count


def _disputed(
    session: Session, actor: Actor, company_id: int, statement_id: int, issued_on: dt.date
) -> None:
    rows = dispute_statement(
        session, actor=actor, company_id=company_id, statement_id=statement_id,
        raised_on=issued_on + dt.timedelta(days=4),
        differences=[
            DifferenceInput("月底已付 8,000.00，贵司未入账", "", 0, 8_000_00),
            DifferenceInput("运费 350.00 不应由我方承担", "", 350_00, 0),
        ],
    )  # fmt: skip
    resolve_difference(
        session, actor=actor, company_id=company_id, difference_id=rows[0].id,
        resolution="explained", note="款项次月 2 日到账，属在途", resolved_on=issued_on + dt.timedelta(days=5),
    )  # fmt: skip


def _schedules(session: Session, actor: Actor, company_id: int, as_of: dt.date) -> int:
    """Retail chains on their settlement day; the first ten others monthly on the 3rd."""
    count = 0
    customers = session.scalars(
        select(Customer).where(Customer.company_id == company_id).order_by(Customer.code)
    ).all()
    monthly = 0
    for customer in customers:
        if customer.customer_type == "retail_chain" and customer.settlement_day:
            set_schedule(session, actor=actor, customer=customer, frequency="settlement", starts_on=as_of)  # fmt: skip
        elif monthly < 10:
            set_schedule(session, actor=actor, customer=customer, frequency="monthly", day=3, starts_on=as_of)  # fmt: skip
            monthly += 1
        else:
            continue
        count += 1
    return count


def _bank_week(
    session: Session, actor: Actor, company_id: int, as_of: dt.date, rng: random.Random
) -> dict[str, int]:
    """This week's money in: payments naming their invoices, one paying two invoices at once,
    one with the payer's boss as the name, one short by a bank fee, and an unknown payer; plus
    the bank's own charge going out."""
    invoices = session.execute(
        select(Invoice, Customer)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.company_id == company_id, Invoice.open_amount > 0, Invoice.due_date < as_of)
        .order_by(Invoice.id)
    ).all()
    by_customer: dict[int, list[tuple[Invoice, Customer]]] = {}
    for invoice, customer in invoices:
        by_customer.setdefault(customer.id, []).append((invoice, customer))
    pool = [rows for rows in by_customer.values() if len(rows) >= 2]
    picked = rng.sample(pool, k=min(10, len(pool)))
    day = as_of - dt.timedelta(days=4)
    lines: list[list[str]] = []
    for n, rows in enumerate(picked):
        (first, customer), (second, _) = rows[0], rows[1]
        booked = day + dt.timedelta(days=n % 4)
        if n < 5:  # the invoice number in the remittance, the whole amount
            lines.append(_line(booked, n, first.open_amount, customer.name, f"货款 {first.number}"))
        elif n == 5:  # two invoices at once
            total = first.open_amount + second.open_amount
            lines.append(_line(booked, n, total, customer.name, f"付 {first.number}、{second.number}"))  # fmt: skip
        elif n == 6:  # the boss pays from a personal account, no reference
            lines.append(_line(booked, n, first.open_amount, "张建国", "货款"))
        elif n == 7:  # short by a 15.00 fee
            lines.append(_line(booked, n, first.open_amount - 15_00, customer.name, first.number))
        elif n == 8:  # part payment naming the invoice
            lines.append(_line(booked, n, first.open_amount // 2, customer.name, f"{first.number} 部分"))  # fmt: skip
        else:  # nobody we know
            lines.append(_line(booked, n, 3_280_00, "深圳前海某某咨询有限公司", "服务费"))
    lines.append(
        [str(as_of - dt.timedelta(days=1)), "", "手续费", "15.50", "", "", "", "", "跨行汇款手续费"]
    )
    result = import_bank_statement(
        session, actor=actor, company_id=company_id, data=_gbk_export(lines, as_of),
        filename=f"工行流水-{as_of:%Y%m%d}.csv",
    )  # fmt: skip
    run = match_waiting(session, actor=actor, company_id=company_id, line_ids=result.added_ids)
    return {"bank_lines": result.added, "auto_applied": run.auto, "waiting": run.suggested + run.unknown}  # fmt: skip


def _line(day: dt.date, n: int, amount: int, payer: str, note: str) -> list[str]:
    return [
        day.isoformat(),
        f"HQ{day:%Y%m%d}{n:06d}",
        "转账",
        "",
        f"{amount / 100:,.2f}",
        "",
        payer,
        f"6222 0210 {n:04d} 5566 7",
        note,
    ]


def _gbk_export(lines: list[list[str]], as_of: dt.date) -> bytes:
    """The lines as the bank's own CSV export: title rows, the header, GBK."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["中国工商银行 对公账户历史明细"])
    writer.writerow([f"账号：{ACCOUNT}", "", "户名：示例贸易有限公司"])
    writer.writerow([f"起止日期：{as_of - dt.timedelta(days=5)} 至 {as_of}"])
    writer.writerow(HEADER)
    writer.writerows(lines)
    return out.getvalue().encode("gbk")
