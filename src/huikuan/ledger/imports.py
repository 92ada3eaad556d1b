"""Importing invoices and payments from CSV or XLSX exports of any ERP or bank.

Validation reads the whole file first and reports every bad row (row, column, reason); only a
clean file is written, in the caller's transaction. Re-importing the same file changes nothing:
an invoice number already present with the same facts is skipped, and each payment row carries
a key (its facts plus which occurrence of identical rows it is) that is skipped when present.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.dates import DateError, parse_date
from huikuan.core.errors import ImportRejected, RowError
from huikuan.core.money import AmountError, parse_amount
from huikuan.core.tabular import FieldSpec, ImportResult, Row, Table, map_columns, rows_of
from huikuan.customers.models import Customer, CustomerType
from huikuan.customers.service import customer_facts
from huikuan.ledger import daily_totals, service
from huikuan.ledger.models import Invoice, InvoiceStatus, Payment

Progress = Callable[[int, int], None]
CHUNK = 500

CUSTOMER_CODE = ("customer", "客户编码", "客户代码", "客户编号", "客户")
INVOICE_FIELDS = (
    FieldSpec(
        "number",
        True,
        ("invoice_number", "invoice_no", "发票号", "发票号码", "发票编号", "单据号", "单据编号"),
    ),
    FieldSpec("customer_code", True, CUSTOMER_CODE),
    FieldSpec("customer_name", False, ("客户名称", "单位名称")),
    FieldSpec("order_number", False, ("order_no", "订单号", "销售订单号", "订单编号")),
    FieldSpec(
        "issue_date", True, ("invoice_date", "date", "开票日期", "发票日期", "单据日期", "日期")
    ),
    FieldSpec("due_date", False, ("到期日", "到期日期", "应收日期", "应收款日期")),
    FieldSpec("payment_terms_days", False, ("terms", "账期", "账期天数", "信用期")),
    FieldSpec(
        "amount", True, ("invoice_amount", "金额", "发票金额", "价税合计", "含税金额", "应收金额")
    ),
    FieldSpec("currency", False, ("币种", "币别")),
    FieldSpec("description", False, ("摘要", "备注", "说明")),
)
PAYMENT_FIELDS = (
    FieldSpec("customer_code", True, CUSTOMER_CODE),
    FieldSpec(
        "received_on", True, ("payment_date", "date", "收款日期", "到账日期", "交易日期", "日期")
    ),
    FieldSpec(
        "amount", True, ("payment_amount", "金额", "收款金额", "到账金额", "贷方金额", "收入金额")
    ),
    FieldSpec("method", False, ("收款方式", "结算方式", "付款方式", "方式")),
    FieldSpec(
        "reference", False, ("流水号", "交易流水号", "交易参考号", "凭证号", "参考号", "票据号")
    ),
    FieldSpec(
        "payer_name", False, ("payer", "付款方", "付款人", "付款单位", "对方户名", "对方名称")
    ),
    FieldSpec(
        "invoice_numbers",
        False,
        ("invoice_number", "invoice", "发票号", "发票号码", "对应发票", "核销发票"),
    ),
    FieldSpec("currency", False, ("币种", "币别")),
)
METHODS = {
    "转账": "bank_transfer",
    "银行转账": "bank_transfer",
    "电汇": "bank_transfer",
    "网银": "bank_transfer",
    "承兑": "acceptance_bill",
    "承兑汇票": "acceptance_bill",
    "银行承兑": "acceptance_bill",
    "银行承兑汇票": "acceptance_bill",
    "商业承兑汇票": "acceptance_bill",
    "现金": "cash",
    "支票": "cheque",
}


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    row: int
    number: str
    customer_code: str
    customer_name: str
    order_number: str
    issue_date: dt.date
    due_date: dt.date
    amount: int
    currency: str
    description: str


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    row: int
    customer_code: str
    received_on: dt.date
    amount: int
    currency: str
    method: str
    reference: str
    payer_name: str
    invoice_numbers: tuple[str, ...]
    import_key: str = ""


# --- reading one row (pure) ------------------------------------------------------------------


def _amount(row: Row, name: str, errors: list[RowError]) -> int | None:
    try:
        value = parse_amount(row.raw(name) if row.raw(name) is not None else "")
    except AmountError as exc:
        errors.append(RowError(row.number, row.column(name), str(exc)))
        return None
    if value <= 0:
        errors.append(
            RowError(
                row.number,
                row.column(name),
                f"金额必须大于零，得到 {row.text(name)} / amount must be positive",
            )
        )
        return None
    return value


def _date(row: Row, name: str, date_format: str | None, errors: list[RowError]) -> dt.date | None:
    value = row.raw(name)
    try:
        return parse_date(value if value is not None else "", date_format)
    except DateError as exc:
        errors.append(RowError(row.number, row.column(name), str(exc)))
        return None


def _currency(row: Row, default: str, errors: list[RowError]) -> str:
    text = row.text("currency").upper() or default
    if text in ("RMB", "人民币"):
        text = "CNY"
    if not re.fullmatch(r"[A-Z]{3}", text):
        errors.append(
            RowError(
                row.number,
                row.column("currency"),
                f"币种应为三个字母如 CNY，得到 '{text}' / currency must be a code like CNY",
            )
        )
    return text


def _text(row: Row, name: str, limit: int, errors: list[RowError]) -> str:
    text = row.text(name)
    if len(text) > limit:
        errors.append(
            RowError(
                row.number, row.column(name), f"超过 {limit} 字 / longer than {limit} characters"
            )
        )
    return text


def parse_invoice_row(
    row: Row, *, currency: str, date_format: str | None
) -> InvoiceRecord | list[RowError]:
    errors: list[RowError] = []
    number = _text(row, "number", 60, errors)
    code = _text(row, "customer_code", 60, errors)
    if not number:
        errors.append(
            RowError(row.number, row.column("number"), "发票号为空 / invoice number is empty")
        )
    if not code:
        errors.append(
            RowError(
                row.number, row.column("customer_code"), "客户编码为空 / customer code is empty"
            )
        )
    issued = _date(row, "issue_date", date_format, errors)
    due = _due_date(row, issued, date_format, errors)
    amount = _amount(row, "amount", errors)
    cur = _currency(row, currency, errors)
    if issued and due and due < issued:
        errors.append(
            RowError(
                row.number,
                row.column("due_date"),
                f"到期日 {due} 早于开票日 {issued} / due date before issue date",
            )
        )
    if errors:
        return errors
    assert issued is not None and due is not None and amount is not None
    return InvoiceRecord(
        row.number,
        number,
        code,
        _text(row, "customer_name", 200, errors),
        _text(row, "order_number", 60, errors),
        issued,
        due,
        amount,
        cur,
        _text(row, "description", 500, errors),
    )


def _due_date(
    row: Row, issued: dt.date | None, date_format: str | None, errors: list[RowError]
) -> dt.date | None:
    if row.text("due_date"):
        return _date(row, "due_date", date_format, errors)
    terms = row.text("payment_terms_days")
    if not terms:
        errors.append(
            RowError(
                row.number,
                "due_date",
                "需要到期日或账期天数 / needs a due date or payment terms in days",
            )
        )
        return None
    if not re.fullmatch(r"\d{1,4}", terms.removesuffix("天")):
        errors.append(
            RowError(
                row.number,
                row.column("payment_terms_days"),
                f"账期应为天数，得到 '{terms}' / terms must be whole days",
            )
        )
        return None
    return issued + dt.timedelta(days=int(terms.removesuffix("天"))) if issued else None


def split_invoice_numbers(text: str) -> tuple[str, ...]:
    """``"INV-1, INV-2；INV-3"`` → three numbers (commas, semicolons, 、 and spaces separate)."""
    return tuple(part for part in re.split(r"[,，;；、\s/]+", text) if part)


def parse_payment_row(
    row: Row, *, currency: str, date_format: str | None
) -> PaymentRecord | list[RowError]:
    errors: list[RowError] = []
    code = _text(row, "customer_code", 60, errors)
    if not code:
        errors.append(
            RowError(
                row.number, row.column("customer_code"), "客户编码为空 / customer code is empty"
            )
        )
    received = _date(row, "received_on", date_format, errors)
    amount = _amount(row, "amount", errors)
    cur = _currency(row, currency, errors)
    method_text = _text(row, "method", 30, errors)
    reference = _text(row, "reference", 120, errors)
    payer = _text(row, "payer_name", 200, errors)
    if errors:
        return errors
    assert received is not None and amount is not None
    method = METHODS.get(method_text, method_text or "bank_transfer")
    numbers = split_invoice_numbers(row.text("invoice_numbers"))
    return PaymentRecord(row.number, code, received, amount, cur, method, reference, payer, numbers)


def payment_key(company_id: int, record: PaymentRecord, occurrence: int) -> str:
    """Identifies a payment row across re-imports. Identical rows in one file are different
    payments (two equal transfers on one day happen), told apart by their occurrence."""
    facts = "|".join(
        [
            str(company_id),
            record.customer_code,
            record.received_on.isoformat(),
            str(record.amount),
            record.currency,
            record.reference,
            record.payer_name,
            ",".join(sorted(record.invoice_numbers)),
            str(occurrence),
        ]
    )
    return hashlib.sha256(facts.encode("utf-8")).hexdigest()


# --- validating the file against the database --------------------------------------------------


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    unique = sorted(set(values))
    for i in range(0, len(unique), CHUNK):
        yield unique[i : i + CHUNK]


def _customers_by_code(
    session: Session, company_id: int, codes: Sequence[str]
) -> dict[str, Customer]:
    return {c.code: c for c in _rows_with(session, Customer, Customer.code, company_id, codes)}


def _invoices_by_number(
    session: Session, company_id: int, numbers: Sequence[str]
) -> dict[str, Invoice]:
    return {i.number: i for i in _rows_with(session, Invoice, Invoice.number, company_id, numbers)}


def _rows_with(
    session: Session, model: Any, column: Any, company_id: int, values: Sequence[str]
) -> list[Any]:
    """The company's rows whose ``column`` is one of ``values``, fetched in chunks (no query per row)."""
    found: list[Any] = []
    for chunk in _chunks(values):
        found.extend(
            session.scalars(select(model).where(model.company_id == company_id, column.in_(chunk)))
        )
    return found


def _parse_all(table: Table, fields, overrides, parse) -> tuple[list, list[RowError]]:
    mapping = map_columns(table.headers, fields, overrides)
    records, errors = [], []
    for row in rows_of(table, mapping):
        parsed = parse(row)
        if isinstance(parsed, list):
            errors.extend(parsed)
        else:
            records.append(parsed)
    return records, errors


def _same_invoice(existing: Invoice, record: InvoiceRecord, customer: Customer | None) -> bool:
    return (
        customer is not None
        and existing.customer_id == customer.id
        and (existing.issue_date, existing.due_date, existing.amount, existing.currency)
        == (record.issue_date, record.due_date, record.amount, record.currency)
    )


def import_invoices(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    table: Table,
    overrides: dict[str, str],
    currency: str = "CNY",
    date_format: str | None = None,
    create_customers: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    records, errors = _parse_all(
        table,
        INVOICE_FIELDS,
        overrides,
        lambda r: parse_invoice_row(r, currency=currency, date_format=date_format),
    )
    customers = _customers_by_code(session, company_id, [r.customer_code for r in records])
    existing = _invoices_by_number(session, company_id, [r.number for r in records])
    seen: dict[str, int] = {}
    new: list[InvoiceRecord] = []
    result = ImportResult()
    for record in records:
        if record.number in seen:
            errors.append(
                RowError(
                    record.row,
                    "number",
                    f"发票号 {record.number} 与第 {seen[record.number]} 行重复 / duplicate of row {seen[record.number]}",
                )
            )
            continue
        seen[record.number] = record.row
        if record.customer_code not in customers and not create_customers:
            errors.append(
                RowError(
                    record.row,
                    "customer_code",
                    f"没有客户 {record.customer_code}（先导入客户或加 --create-customers）/ unknown customer {record.customer_code} (import customers first or use --create-customers)",
                )
            )
            continue
        known = existing.get(record.number)
        if known is None:
            new.append(record)
        elif _same_invoice(known, record, customers.get(record.customer_code)):
            result.unchanged += 1
        else:
            errors.append(
                RowError(
                    record.row,
                    "number",
                    f"发票 {record.number} 已存在且内容不同（客户、日期或金额）/ invoice {record.number} already exists with different customer, dates or amount",
                )
            )
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    _create_missing_customers(session, actor, company_id, new, customers)
    for start in range(0, len(new), 5000):
        session.execute(
            insert(Invoice),
            [_invoice_row(company_id, r, customers) for r in new[start : start + 5000]],
        )
        if progress:
            progress(min(start + 5000, len(new)), len(new))
    result.created = len(new)
    per_day: dict[tuple[str, dt.date], int] = {}
    for r in new:
        per_day[(r.currency, r.issue_date)] = per_day.get((r.currency, r.issue_date), 0) + r.amount
    for (cur, day), amount in per_day.items():
        daily_totals.add(session, company_id=company_id, currency=cur, day=day, invoiced=amount)
    record_change(
        session, actor=actor, company_id=company_id, entity="import", entity_id="invoices",
        action="import", after={
            "file_sha256": table.sha256, "created": result.created, "unchanged": result.unchanged,
            "amount": sum(r.amount for r in new),
            "first": new[0].number if new else None, "last": new[-1].number if new else None,
        },
    )  # fmt: skip
    return result


def _create_missing_customers(
    session: Session,
    actor: Actor,
    company_id: int,
    records: list[InvoiceRecord],
    customers: dict[str, Customer],
) -> None:
    for record in records:
        if record.customer_code not in customers:
            customer = Customer(
                company_id=company_id,
                code=record.customer_code,
                name=record.customer_name or record.customer_code,
                customer_type=CustomerType.OTHER.value,
            )
            session.add(customer)
            session.flush()
            record_change(
                session, actor=actor, company_id=company_id, entity="customer", entity_id=customer.code,
                action="create", after=customer_facts(customer),
            )  # fmt: skip
            customers[record.customer_code] = customer


def _invoice_row(
    company_id: int, r: InvoiceRecord, customers: dict[str, Customer]
) -> dict[str, object]:
    return {
        "company_id": company_id,
        "customer_id": customers[r.customer_code].id,
        "number": r.number,
        "order_number": r.order_number,
        "issue_date": r.issue_date,
        "due_date": r.due_date,
        "amount": r.amount,
        "currency": r.currency,
        "status": InvoiceStatus.OPEN.value,
        "open_amount": r.amount,
        "settled_on": None,
        "description": r.description,
    }


def import_payments(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    table: Table,
    overrides: dict[str, str],
    currency: str = "CNY",
    date_format: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Record each new payment and apply it: to the invoices the row names, else oldest first.
    Payments are applied in date order, so older invoices are settled by older money."""
    records, errors = _parse_all(
        table,
        PAYMENT_FIELDS,
        overrides,
        lambda r: parse_payment_row(r, currency=currency, date_format=date_format),
    )
    records = _with_keys(company_id, records)
    customers = _customers_by_code(session, company_id, [r.customer_code for r in records])
    invoices = _invoices_by_number(
        session, company_id, [n for r in records for n in r.invoice_numbers]
    )
    known_keys = _existing_keys(session, company_id, [r.import_key for r in records])
    result = ImportResult()
    new: list[PaymentRecord] = []
    for record in records:
        errors.extend(_payment_errors(record, customers, invoices))
        if record.import_key in known_keys:
            result.unchanged += 1
        else:
            new.append(record)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    for done, record in enumerate(sorted(new, key=lambda r: (r.received_on, r.row)), start=1):
        payment = service.record_payment(
            session,
            actor=actor,
            company_id=company_id,
            customer=customers[record.customer_code],
            received_on=record.received_on,
            amount=record.amount,
            currency=record.currency,
            method=record.method,
            reference=record.reference,
            payer_name=record.payer_name,
            invoice_numbers=record.invoice_numbers,
            import_key=record.import_key,
        )
        result.applied += payment.amount - payment.unapplied_amount
        result.unapplied += payment.unapplied_amount
        if progress and (done % 1000 == 0 or done == len(new)):
            progress(done, len(new))
    result.created = len(new)
    return result


def _with_keys(company_id: int, records: list[PaymentRecord]) -> list[PaymentRecord]:
    occurrences: dict[str, int] = {}
    keyed = []
    for record in records:
        base = payment_key(company_id, record, 0)
        occurrences[base] = occurrences.get(base, 0) + 1
        keyed.append(replace(record, import_key=payment_key(company_id, record, occurrences[base])))
    return keyed


def _existing_keys(session: Session, company_id: int, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(
            k
            for k in session.scalars(
                select(Payment.import_key).where(
                    Payment.company_id == company_id, Payment.import_key.in_(chunk)
                )
            )
            if k
        )
    return found


def _payment_errors(
    record: PaymentRecord, customers: dict[str, Customer], invoices: dict[str, Invoice]
) -> list[RowError]:
    customer = customers.get(record.customer_code)
    if customer is None:
        return [
            RowError(
                record.row,
                "customer_code",
                f"没有客户 {record.customer_code} / unknown customer {record.customer_code}",
            )
        ]
    errors = []
    for number in record.invoice_numbers:
        invoice = invoices.get(number)
        if invoice is None:
            errors.append(
                RowError(record.row, "invoice_numbers", f"没有发票 {number} / no invoice {number}")
            )
        elif invoice.customer_id != customer.id:
            errors.append(
                RowError(
                    record.row,
                    "invoice_numbers",
                    f"发票 {number} 属于其他客户 / invoice {number} belongs to another customer",
                )
            )
        elif invoice.currency != record.currency:
            errors.append(
                RowError(
                    record.row,
                    "invoice_numbers",
                    f"发票 {number} 币种为 {invoice.currency} / invoice {number} is in {invoice.currency}",
                )
            )
    return errors
