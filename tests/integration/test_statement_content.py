"""The customer statement of account on SQLite and PostgreSQL: opening balance by document date,
the period's lines with running balances to the fen, the aging of the closing balance adding up
to it on every day, late fees apart, one statement per currency, a fixed number of SQL
statements; and the PDF and XLSX a customer receives."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from huikuan.channels.templates import money_text
from huikuan.collections.late_fees import charge_late_fees
from huikuan.collections.models import LateFeeCharge
from huikuan.core.company import create_company
from huikuan.core.db import unit_of_work
from huikuan.core.errors import InvalidInput, NotFound
from huikuan.core.models import Company
from huikuan.customers.models import Contract, Customer
from huikuan.ledger import service
from huikuan.ledger.aging import aging_report
from huikuan.reconciliation.statement_content import build_statement
from huikuan.reconciliation.statement_documents import (
    render_statement_pdf,
    render_statement_xlsx,
)
from huikuan.reconciliation.statement_rules import (
    LineKind,
    Movement,
    Party,
    Statement,
    StatementLine,
    compose_statement,
)
from tests.actors import ACTOR

from .ledger_builders import customer, invoice

pytestmark = pytest.mark.usefixtures("backend")
D = dt.date
MARCH = (D(2026, 3, 1), D(2026, 3, 31))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "statements"


def pay(
    session: Session,
    company: Company,
    cust: Customer,
    on: dt.date,
    amount: int,
    reference: str,
    *invoices: str,
) -> int:
    return service.record_payment(
        session, actor=ACTOR, company_id=company.id, customer=cust, received_on=on,
        amount=amount, reference=reference, invoice_numbers=list(invoices),
    ).id  # fmt: skip


def reverse(session: Session, company: Company, payment_id: int, on: dt.date) -> None:
    service.reverse_payment(
        session, actor=ACTOR, company_id=company.id, payment_id=payment_id, reversed_on=on
    )


def build_ledger(factory: sessionmaker[Session], company: Company) -> int:
    """Before March: INV-1 100,000.00 (due 02-09), INV-2 50,000.00 (due 03-06), a payment
    reversed two days later, a 30,000.00 payment to INV-1. In March: INV-3, a credit note to
    INV-2, a partial payment of INV-1, a payment reversed (the transfer bounced), INV-2 paid,
    and a duplicate payment for INV-2 that stays unapplied. After March: more of both."""
    with unit_of_work(factory) as session:
        c = customer(session, company)
        session.add(
            Contract(
                company_id=company.id, customer_id=c.id, number="HT-1", signed_on=D(2026, 1, 1),
                late_fee_rate_per_day=Decimal("0.0005"),
            )
        )  # fmt: skip
        invoice(session, company, c, "INV-1", D(2026, 1, 10), 100_000_00)
        invoice(session, company, c, "INV-2", D(2026, 2, 4), 50_000_00)
        bounced = pay(session, company, c, D(2026, 2, 1), 20_000_00, "BANK-0201")
        reverse(session, company, bounced, D(2026, 2, 3))
        pay(session, company, c, D(2026, 2, 20), 30_000_00, "BANK-0220")
        invoice(session, company, c, "INV-3", D(2026, 3, 5), 80_000_00)
        service.record_credit_note(
            session, actor=ACTOR, company_id=company.id, customer=c, number="CN-1",
            issued_on=D(2026, 3, 5), amount=5_000_00, reason="退货", invoice_numbers=["INV-2"],
        )  # fmt: skip
        pay(session, company, c, D(2026, 3, 10), 40_000_00, "BANK-0310", "INV-1")
        bounced = pay(session, company, c, D(2026, 3, 12), 20_000_00, "BANK-0312")
        reverse(session, company, bounced, D(2026, 3, 18))
        pay(session, company, c, D(2026, 3, 20), 45_000_00, "BANK-0320", "INV-2")
        pay(session, company, c, D(2026, 3, 25), 8_888_88, "BANK-0325", "INV-2")  # twice
        invoice(session, company, c, "INV-4", D(2026, 4, 2), 10_000_00)
        pay(session, company, c, D(2026, 4, 5), 5_000_00, "BANK-0405")  # to INV-1, in April
        charge_late_fees(session, company_id=company.id, as_of=D(2026, 4, 1), actor=ACTOR)
        return c.id


def statement_for(
    session: Session, company: Company, customer_id: int, start: dt.date, end: dt.date
) -> Statement:
    [statement] = build_statement(
        session, company_id=company.id, customer_id=customer_id, start=start, end=end
    )
    return statement


def test_march_statement_to_the_fen(factory: sessionmaker[Session], company: Company) -> None:
    customer_id = build_ledger(factory, company)
    with factory() as session:
        statement = statement_for(session, company, customer_id, *MARCH)
    assert (statement.customer_code, statement.customer_name) == ("C001", "华东建材有限公司")
    assert (statement.company_name, statement.currency) == ("示例贸易有限公司", "CNY")
    # 100,000 + 50,000 − 30,000; the payment of 02-01 and its reversal cancel out.
    assert statement.opening == 120_000_00
    assert statement.lines == (
        StatementLine(D(2026, 3, 5), LineKind.INVOICE, "INV-3", 80_000_00, 0, 200_000_00),
        StatementLine(D(2026, 3, 5), LineKind.CREDIT_NOTE, "CN-1", 0, 5_000_00, 195_000_00),
        StatementLine(D(2026, 3, 10), LineKind.PAYMENT, "BANK-0310", 0, 40_000_00, 155_000_00),
        StatementLine(D(2026, 3, 12), LineKind.PAYMENT, "BANK-0312", 0, 20_000_00, 135_000_00),
        StatementLine(D(2026, 3, 18), LineKind.REVERSAL, "BANK-0312", 20_000_00, 0, 155_000_00),
        StatementLine(D(2026, 3, 20), LineKind.PAYMENT, "BANK-0320", 0, 45_000_00, 110_000_00),
        StatementLine(D(2026, 3, 25), LineKind.PAYMENT, "BANK-0325", 0, 8_888_88, 101_111_12),
    )
    assert (statement.total_debit, statement.total_credit) == (100_000_00, 118_888_88)
    assert statement.closing == 101_111_12
    # Open on 03-31: INV-1 30,000.00 (50 days late; April's payment does not count yet) and
    # INV-3 80,000.00 (not due); the duplicate payment is the customer's credit.
    assert dict((b.label, b.amount) for b in statement.aging) == {
        "current": 80_000_00, "1-30": 0, "31-60": 30_000_00, "61-90": 0, "91-180": 0,
        "181-365": 0, "366+": 0,
    }  # fmt: skip
    assert statement.unapplied == 8_888_88
    assert statement.aging_total == statement.closing
    # Late fees of the months ending in March, 0.05% a day, apart from the balance:
    # INV-1: 03-01…03-10 on 70,000, 03-11…03-12 on 30,000, 03-13…03-18 on 10,000 (the bounced
    # payment), 03-19…03-31 on 30,000 again: (700,000 + 60,000 + 60,000 + 390,000) × 0.05%.
    # INV-2: due 03-06, 03-07…03-20 on 45,000 (the day paid is charged): 14 × 22.50.
    assert [
        (f.invoice_number, f.period_start, f.period_end, f.due) for f in statement.late_fees
    ] == [
        ("INV-1", D(2026, 3, 1), D(2026, 3, 31), 605_00),
        ("INV-2", D(2026, 3, 7), D(2026, 3, 31), 315_00),
    ]
    assert statement.late_fee_total == 920_00


def test_the_aging_of_the_statement_is_the_aging_report_and_adds_up_every_day(
    factory: sessionmaker[Session], company: Company
) -> None:
    customer_id = build_ledger(factory, company)
    day = D(2026, 1, 9)
    with factory() as session:
        while day <= D(2026, 4, 8):
            statement = statement_for(session, company, customer_id, D(2026, 1, 1), day)
            assert statement.aging_total == statement.closing, day
            report = aging_report(session, company_id=company.id, as_of=day, with_dso=False)
            row = {r.key: r for r in report.rows}.get("C001")
            assert dict((b.label, b.amount) for b in statement.aging) == (
                row.buckets if row else dict.fromkeys(report.bucket_names, 0)
            ), day
            day += dt.timedelta(days=1)


def test_the_aging_adds_up_after_entries_out_of_date_order_and_a_voided_invoice(
    factory: sessionmaker[Session], company: Company
) -> None:
    """The two cases where the aging alone does not see every fen of the balance (see
    ``statement_content``): money entered out of date order that over-applied an invoice on
    past dates, and an invoice voided after the payment applied to it was reversed."""
    with unit_of_work(factory) as session:
        late = customer(session, company, "C002", "后补收款有限公司")
        invoice(session, company, late, "L-1", D(2026, 3, 1), 1_000_00)
        first = pay(session, company, late, D(2026, 8, 22), 1_000_00, "A", "L-1")
        reverse(session, company, first, D(2026, 9, 13))
        pay(session, company, late, D(2026, 3, 30), 1_000_00, "B", "L-1")  # entered later
        voided = customer(session, company, "C003", "作废发票有限公司")
        invoice(session, company, voided, "V-1", D(2026, 4, 1), 500_00)
        bounced = pay(session, company, voided, D(2026, 4, 10), 500_00, "P", "V-1")
        reverse(session, company, bounced, D(2026, 4, 20))
        service.void_invoice(session, actor=ACTOR, company_id=company.id, number="V-1")
        ids = (late.id, voided.id)
    with factory() as session:
        on_0901 = statement_for(session, company, ids[0], D(2026, 1, 1), D(2026, 9, 1))
        # Both payments count on 09-01: the customer had paid 1,000.00 too much.
        assert (on_0901.closing, on_0901.unapplied, on_0901.aging_total) == (
            -1_000_00, 1_000_00, -1_000_00,
        )  # fmt: skip
        for customer_id in ids:
            day = D(2026, 2, 28)
            while day <= D(2026, 10, 1):
                statement = statement_for(session, company, customer_id, D(2026, 1, 1), day)
                assert statement.aging_total == statement.closing, (customer_id, day)
                day += dt.timedelta(days=1)


def test_a_period_split_in_two_joins_up(factory: sessionmaker[Session], company: Company) -> None:
    customer_id = build_ledger(factory, company)
    with factory() as session:
        first = statement_for(session, company, customer_id, D(2026, 2, 1), D(2026, 3, 12))
        second = statement_for(session, company, customer_id, D(2026, 3, 13), D(2026, 4, 30))
        whole = statement_for(session, company, customer_id, D(2026, 2, 1), D(2026, 4, 30))
    assert second.opening == first.closing
    assert first.lines + second.lines == whole.lines
    assert second.closing == whole.closing == 101_111_12 + 10_000_00 - 5_000_00
    # February: the payment of 02-01 and its reversal two days later both show.
    assert [(line.on, line.kind) for line in first.lines[:2]] == [
        (D(2026, 2, 1), LineKind.PAYMENT),
        (D(2026, 2, 3), LineKind.REVERSAL),
    ]


def test_one_statement_per_currency_company_currency_first(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        c = customer(session, company)
        service.record_invoice(
            session, actor=ACTOR, company_id=company.id, customer=c, number="US-1",
            issue_date=D(2026, 3, 3), due_date=D(2026, 4, 2), amount=1_234_56, currency="USD",
        )  # fmt: skip
        invoice(session, company, c, "INV-1", D(2026, 2, 3), 500_00)
        customer_id = c.id
    with factory() as session:
        cny, usd = build_statement(
            session, company_id=company.id, customer_id=customer_id, start=MARCH[0], end=MARCH[1]
        )
    assert (cny.currency, cny.opening, cny.lines, cny.closing) == ("CNY", 500_00, (), 500_00)
    assert (usd.currency, usd.opening, usd.closing) == ("USD", 0, 1_234_56)
    assert [line.reference for line in usd.lines] == ["US-1"]
    assert usd.aging_total == usd.closing and cny.aging_total == cny.closing


def test_a_customer_with_nothing_gets_a_zero_statement_in_the_company_currency(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        customer_id = customer(session, company).id
    with factory() as session:
        [statement] = build_statement(
            session, company_id=company.id, customer_id=customer_id, start=MARCH[0], end=MARCH[1]
        )
    assert (statement.currency, statement.opening, statement.closing) == ("CNY", 0, 0)
    assert statement.lines == () and statement.late_fees == ()
    assert statement.aging_total == 0


def test_a_period_ending_before_it_starts_and_another_company_s_customer_are_refused(
    factory: sessionmaker[Session], company: Company
) -> None:
    with unit_of_work(factory) as session:
        customer_id = customer(session, company).id
        other = create_company(session, code="other", name="别家公司").id
    with factory() as session:
        with pytest.raises(InvalidInput, match="before it starts"):
            build_statement(
                session, company_id=company.id, customer_id=customer_id,
                start=D(2026, 3, 2), end=D(2026, 3, 1),
            )  # fmt: skip
        with pytest.raises(NotFound):
            build_statement(
                session, company_id=other, customer_id=customer_id, start=MARCH[0], end=MARCH[1]
            )


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_same_few_sql_statements_for_a_few_or_many_documents(
    engine: Engine, factory: sessionmaker[Session], company: Company
) -> None:
    customer_id = build_ledger(factory, company)
    with factory() as session, counting(engine) as few:
        statement_for(session, company, customer_id, *MARCH)
    with unit_of_work(factory) as session:
        c = session.get_one(Customer, customer_id)
        for n in range(60):
            invoice(session, company, c, f"M-{n:03d}", D(2026, 3, 1 + n % 28), 1_000_00 + n)
            pay(session, company, c, D(2026, 3, 1 + n % 28), 700_00, f"B-{n:03d}")
    with factory() as session, counting(engine) as many:
        statement = statement_for(session, company, customer_id, *MARCH)
    assert len(statement.lines) == 7 + 120
    assert len(many) == len(few) <= 7


# ---------------------------------------------------------------- documents


def page_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def save_first_page(data: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(data)
    try:
        image = document[0].render(scale=2).to_pil()
    finally:
        document.close()
    path = ARTIFACTS / f"{name}.png"
    image.save(path)
    return path


def march_statement(factory: sessionmaker[Session], company: Company) -> Statement:
    customer_id = build_ledger(factory, company)
    with factory() as session:
        return statement_for(session, company, customer_id, *MARCH)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_statement_pdf(
    factory: sessionmaker[Session], company: Company, backend: str, language: str
) -> None:
    statement = march_statement(factory, company)
    data = render_statement_pdf(statement, language, reference="DZ-2026-03-C001")
    assert data.startswith(b"%PDF-")
    text = "\n".join(page_texts(data))
    assert "华东建材有限公司" in text and "示例贸易有限公司" in text
    assert "¥101,111.12" in text  # the closing balance
    assert "¥120,000.00" in text  # the opening balance
    assert "¥8,888.88" in text and "BANK-0312" in text and "CN-1" in text
    assert "¥920.00" in text  # late fees, on their own
    assert "2026-03-01" in text and "2026-03-31" in text
    if language == "zh":
        assert "对账单" in text and "以上余额确认无误" in text and "如有不符" in text
    else:
        assert "Statement of account" in text and "We confirm the balance above" in text
    if backend == "sqlite":
        save_first_page(data, f"statement-{language}")


def cell_fen(value: object) -> int | None:
    """A money cell read back (openpyxl gives int or float) as fen, exactly."""
    return None if value is None else int(Decimal(str(value)) * 100)


def test_statement_xlsx_rows_are_the_lines(
    factory: sessionmaker[Session], company: Company
) -> None:
    statement = march_statement(factory, company)
    sheet = load_workbook(BytesIO(render_statement_xlsx(statement))).active
    assert sheet is not None
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    head = next(i for i, row in enumerate(rows) if row[0] == "日期")
    assert sheet.freeze_panes == f"A{head + 2}"
    opening, *body, closing = rows[head + 1 : head + 3 + len(statement.lines)]
    assert opening[1] == "期初余额" and cell_fen(opening[5]) == 120_000_00
    read = [
        (on.date(), kind, reference, cell_fen(debit) or 0, cell_fen(credit) or 0, cell_fen(balance))
        for on, kind, reference, debit, credit, balance, *_ in body
    ]
    kinds = {"收款": LineKind.PAYMENT, "收款冲销": LineKind.REVERSAL, "销售发票": LineKind.INVOICE,
             "贷项通知": LineKind.CREDIT_NOTE}  # fmt: skip
    assert [StatementLine(on, kinds[k], *rest) for on, k, *rest in read] == list(statement.lines)
    assert closing[1] == "本期合计及期末余额"
    assert [cell_fen(v) for v in closing[3:6]] == [100_000_00, 118_888_88, 101_111_12]
    money = sheet.cell(row=head + 2, column=6)
    assert money.number_format == "#,##0.00" and money.data_type == "n"
    assert sheet.cell(row=head + 3, column=1).number_format == "yyyy-mm-dd"
    # Below: the aging (the duplicate payment as a negative line, the total = closing) and fees.
    after = rows[head + 3 + len(statement.lines) :]
    labelled = {row[0]: row for row in after if isinstance(row[0], str)}
    assert cell_fen(labelled["逾期 31-60 天"][1]) == 30_000_00
    assert cell_fen(labelled["未核销收款及贷项"][1]) == -8_888_88
    assert cell_fen(labelled["合计（即期末余额）"][1]) == 101_111_12
    assert cell_fen(labelled["违约金合计"][7]) == 920_00
    assert tuple(next(row for row in after if row[0] == "INV-1")[:3]) == (
        "INV-1",
        "2026-03-01 – 2026-03-31",
        31,
    )


def test_late_fee_rows_come_from_the_charges(
    factory: sessionmaker[Session], company: Company
) -> None:
    statement = march_statement(factory, company)
    with factory() as session:
        february = session.scalars(
            select(LateFeeCharge).where(LateFeeCharge.period_end == D(2026, 2, 28))
        ).all()
    # February's charge belongs to February's statement, not March's.
    assert [f.amount for f in february] == [830_00]
    assert all(f.period_end.month == 3 for f in statement.late_fees)


def long_statement(count: int, closing_sign: int = 1) -> Statement:
    """A busy year for one customer: an invoice and a payment a day, built without a database."""
    movements = []
    for n in range(count):
        day = D(2026, 1, 1) + dt.timedelta(days=n // 2)
        if n % 2 == 0:
            movements.append(Movement(day, LineKind.INVOICE, f"FP-2026-{n:05d}", debit=12_345_67))
        else:
            movements.append(
                Movement(day, LineKind.PAYMENT, f"HX{n:010d}", credit=12_000_00, document_id=n)
            )
    return compose_statement(
        Party("示例贸易有限公司", "C042", "南昌洪都汽车配件厂", "CNY"),
        start=D(2026, 1, 1),
        end=D(2026, 12, 31),
        opening=closing_sign * 1_000_00,
        movements=movements,
    )


def test_a_long_statement_spans_pages_and_keeps_the_confirmation_whole() -> None:
    statement = long_statement(150)
    pages = page_texts(render_statement_pdf(statement, "zh"))
    assert len(pages) >= 4
    for line in statement.lines:
        assert "\n".join(pages).count(line.reference) == 1
    table_pages = [page for page in pages if "FP-2026-" in page]
    assert len(table_pages) >= 3 and all("余额" in page and "摘要" in page for page in table_pages)
    signed = [page for page in pages if "以上余额确认无误" in page]
    assert len(signed) == 1 and "如有不符" in signed[0] and "经办人签字" in signed[0]
    assert money_text(statement.closing) in signed[0]
    for i, page in enumerate(pages, start=1):
        assert f"第 {i} 页 / 共 {len(pages)} 页" in page


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_customer_in_credit_is_told_who_owes_whom(language: str) -> None:
    credit = compose_statement(
        Party("示例贸易有限公司", "C042", "南昌洪都汽车配件厂", "USD"),
        start=D(2026, 3, 1),
        end=D(2026, 3, 31),
        opening=0,
        movements=[Movement(D(2026, 3, 2), LineKind.PAYMENT, "TT-1", credit=2_500_00)],
        unapplied=2_500_00,
    )
    text = re.sub(r"\s+", "", "".join(page_texts(render_statement_pdf(credit, language))))
    assert "USD-2,500.00" in text or "-USD2,500.00" in text  # the balance column
    if language == "zh":
        assert "示例贸易有限公司尚欠南昌洪都汽车配件厂USD2,500.00" in text
    else:
        assert "示例贸易有限公司owes南昌洪都汽车配件厂USD2,500.00" in text
