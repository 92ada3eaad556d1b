"""Exporting customers, invoices and payments to CSV or XLSX, streamed in chunks.

Headers are the field names the importers read, so an export can be imported again (into
another company or database) as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.dates import format_date
from huikuan.core.money import decimal_string, to_decimal
from huikuan.customers.models import Customer
from huikuan.ledger.models import Allocation, Invoice, Payment

STREAM = 5000


class Money(int):
    """Marks an int of fen so each format writes it right (text 12.34 / a number cell)."""


def customer_rows(session: Session, *, company_id: int) -> tuple[list[str], Iterator[list[Any]]]:
    headers = ["code", "name", "customer_type", "salesperson", "collector", "aliases", "tags"]
    query = select(Customer).where(Customer.company_id == company_id).order_by(Customer.code)

    def rows() -> Iterator[list[Any]]:
        for c in session.scalars(query.execution_options(yield_per=STREAM)):
            yield [c.code, c.name, c.customer_type, c.salesperson, c.collector, c.aliases, c.tags]

    return headers, rows()


def invoice_rows(
    session: Session, *, company_id: int, as_of: dt.date
) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [
        "number", "customer_code", "customer_name", "order_number", "issue_date", "due_date",
        "amount", "currency", "description", "open_amount", "status", "days_overdue",
    ]  # fmt: skip
    query = (
        select(Invoice, Customer.code, Customer.name)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.company_id == company_id)
        .order_by(Invoice.issue_date, Invoice.number)
    )

    def rows() -> Iterator[list[Any]]:
        for inv, code, name in session.execute(query.execution_options(yield_per=STREAM)):
            overdue = (as_of - inv.due_date).days if inv.open_amount else 0
            yield [
                inv.number, code, name, inv.order_number, inv.issue_date, inv.due_date,
                Money(inv.amount), inv.currency, inv.description, Money(inv.open_amount),
                inv.status, max(0, overdue),
            ]  # fmt: skip

    return headers, rows()


def payment_rows(session: Session, *, company_id: int) -> tuple[list[str], Iterator[list[Any]]]:
    headers = [
        "customer_code", "received_on", "amount", "currency", "method", "reference",
        "payer_name", "invoice_numbers", "unapplied_amount", "reversed_on",
    ]  # fmt: skip
    query = (
        select(Payment, Customer.code)
        .join(Customer, Customer.id == Payment.customer_id)
        .where(Payment.company_id == company_id)
        .order_by(Payment.received_on, Payment.id)
    )

    def rows() -> Iterator[list[Any]]:
        batch: list[tuple[Payment, str]] = []
        for payment, code in session.execute(query.execution_options(yield_per=STREAM)):
            batch.append((payment, code))
            if len(batch) == STREAM:
                yield from _payment_batch(session, batch)
                batch = []
        yield from _payment_batch(session, batch)

    return headers, rows()


def _payment_batch(session: Session, batch: list[tuple[Payment, str]]) -> Iterator[list[Any]]:
    """Rows for a batch of payments, with the invoices each paid found in one query."""
    if not batch:
        return
    paid: dict[int, list[str]] = {}
    for payment_id, number in session.execute(
        select(Allocation.payment_id, Invoice.number)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(
            Allocation.payment_id.in_([p.id for p, _ in batch]), Allocation.reversed_on.is_(None)
        )
        .order_by(Allocation.id)
    ):
        if payment_id is not None:
            paid.setdefault(payment_id, []).append(number)
    for p, code in batch:
        yield [
            code, p.received_on, Money(p.amount), p.currency, p.method, p.reference,
            p.payer_name, ",".join(paid.get(p.id, [])), Money(p.unapplied_amount), p.reversed_on,
        ]  # fmt: skip


def write_csv(path: Path, headers: Sequence[str], rows: Iterator[list[Any]]) -> int:
    """UTF-8 with a BOM, so that Excel opens Chinese text correctly. Returns rows written."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
            count += 1
    return count


def _csv_cell(value: Any) -> Any:
    if isinstance(value, Money):
        return decimal_string(value)
    if isinstance(value, dt.date):
        return format_date(value)
    return "" if value is None else value


def write_xlsx(path: Path, headers: Sequence[str], rows: Iterator[list[Any]]) -> int:
    """Numbers as numbers with #,##0.00, dates as dates shown YYYY-MM-DD; streamed to disk."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(list(headers))
    count = 0
    for row in rows:
        sheet.append([xlsx_cell(sheet, v) for v in row])
        count += 1
    workbook.save(path)
    return count


def xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, Money):
        cell = WriteOnlyCell(sheet, value=to_decimal(value))
        cell.number_format = "#,##0.00"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value


def write_table(path: Path, headers: Sequence[str], rows: Iterator[list[Any]]) -> int:
    if path.suffix.lower() == ".xlsx":
        return write_xlsx(path, headers, rows)
    return write_csv(path, headers, rows)
