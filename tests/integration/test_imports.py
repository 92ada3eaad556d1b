"""Importing customers, invoices and payments: exact amounts, every bad row named, nothing
half-written, nothing duplicated on re-import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from huikuan.cli import app
from huikuan.core.errors import ImportRejected
from huikuan.core.models import Company
from huikuan.core.tabular import read_table
from huikuan.customers.imports import import_customers
from huikuan.customers.models import Contact, Customer
from huikuan.ledger import daily_totals
from huikuan.ledger.imports import import_invoices, import_payments
from huikuan.ledger.models import Allocation, Invoice, Payment
from tests.actors import ACTOR

D = dt.date
CUSTOMERS = """客户编码,客户名称,客户类型,业务员,联系人,职务,电话
C001,华东建材有限公司,经销商,王强,李明,财务,13800000001
C002,华南超市连锁有限公司,商场超市,李娜,,,
"""
INVOICES = """发票号码,客户编码,开票日期,到期日,价税合计,订单号
INV-001,C001,2024/3/5,2024-04-04,"￥1,234.50",SO-1
INV-002,C001,20240310,2024-05-09,２００.００,SO-2
INV-003,C002,45366,2024-04-15,99.99,
"""


def csv_file(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def load(session: Session, company: Company, tmp_path: Path) -> None:
    import_customers(
        session,
        actor=ACTOR,
        company_id=company.id,
        table=read_table(csv_file(tmp_path, "c.csv", CUSTOMERS, "gbk")),
        overrides={},
        as_of=D(2024, 1, 1),
    )
    import_invoices(
        session,
        actor=ACTOR,
        company_id=company.id,
        table=read_table(csv_file(tmp_path, "i.csv", INVOICES, "gbk")),
        overrides={},
    )
    session.commit()


def test_a_gbk_export_with_chinese_headers_imports_to_the_fen(
    session: Session, company: Company, tmp_path: Path
) -> None:
    load(session, company, tmp_path)
    rows = session.execute(
        select(Invoice.number, Invoice.amount, Invoice.issue_date, Invoice.due_date).order_by(
            Invoice.number
        )
    ).all()
    assert rows == [
        ("INV-001", 123450, D(2024, 3, 5), D(2024, 4, 4)),
        ("INV-002", 20000, D(2024, 3, 10), D(2024, 5, 9)),
        ("INV-003", 9999, D(2024, 3, 15), D(2024, 4, 15)),
    ]
    east = session.scalars(select(Customer).where(Customer.code == "C001")).one()
    assert (east.name, east.customer_type, east.salesperson) == (
        "华东建材有限公司",
        "dealer",
        "王强",
    )
    contact = session.scalars(select(Contact)).one()
    assert (contact.name, contact.role, contact.phone, contact.valid_from) == (
        "李明",
        "财务",
        "13800000001",
        D(2024, 1, 1),
    )


def test_reimporting_the_same_files_changes_nothing(
    session: Session, company: Company, tmp_path: Path
) -> None:
    load(session, company, tmp_path)
    again = import_invoices(
        session,
        actor=ACTOR,
        company_id=company.id,
        table=read_table(csv_file(tmp_path, "i.csv", INVOICES, "gbk")),
        overrides={},
    )
    customers = import_customers(
        session,
        actor=ACTOR,
        company_id=company.id,
        table=read_table(csv_file(tmp_path, "c.csv", CUSTOMERS, "gbk")),
        overrides={},
        as_of=D(2024, 6, 1),
    )
    assert (again.created, again.unchanged) == (0, 3)
    assert (customers.created, customers.updated, customers.unchanged) == (0, 0, 2)
    assert session.scalar(select(func.count()).select_from(Invoice)) == 3
    assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_a_changed_contact_is_kept_as_history(
    session: Session, company: Company, tmp_path: Path
) -> None:
    load(session, company, tmp_path)
    changed = CUSTOMERS.replace("李明,财务,13800000001", "赵云,财务,13900000002")
    result = import_customers(
        session,
        actor=ACTOR,
        company_id=company.id,
        table=read_table(csv_file(tmp_path, "c2.csv", changed)),
        overrides={},
        as_of=D(2024, 6, 1),
    )
    assert result.unchanged == 2  # the customer itself did not change
    history = session.execute(
        select(Contact.name, Contact.valid_from, Contact.valid_to).order_by(Contact.valid_from)
    ).all()
    assert history == [("李明", D(2024, 1, 1), D(2024, 5, 31)), ("赵云", D(2024, 6, 1), None)]


def test_one_bad_row_rejects_the_file_and_names_row_column_and_reason(
    session: Session, company: Company, tmp_path: Path
) -> None:
    load(session, company, tmp_path)
    bad = """发票号码,客户编码,开票日期,到期日,价税合计
INV-010,C001,2024-06-01,2024-07-01,100.00
INV-011,C001,2024-02-30,2024-07-01,100.00
INV-012,C999,2024-06-01,2024-07-01,-5
INV-013,C001,2024-06-01,2024-05-01,1.005
INV-010,C001,2024-06-01,2024-07-01,100.00
INV-001,C001,2024-03-05,2024-04-04,1234.51
"""
    with pytest.raises(ImportRejected) as excinfo:
        import_invoices(
            session,
            actor=ACTOR,
            company_id=company.id,
            table=read_table(csv_file(tmp_path, "bad.csv", bad)),
            overrides={},
        )
    session.rollback()
    found = {(e.row, e.column) for e in excinfo.value.errors}
    assert found == {
        (3, "开票日期"),
        (4, "价税合计"),
        (5, "到期日"),
        (5, "价税合计"),
        (6, "number"),
        (7, "number"),
    }
    reasons = " ".join(e.reason for e in excinfo.value.errors)
    assert "no such date: '2024-02-30'" in reasons
    assert "amount must be positive" in reasons
    assert "more than two decimal places" in reasons
    assert "duplicate of row 2" in reasons
    assert "already exists with different" in reasons
    assert session.scalar(select(func.count()).select_from(Invoice)) == 3  # nothing written


def test_unknown_customers_are_an_error_unless_asked_to_create_them(
    session: Session, company: Company, tmp_path: Path
) -> None:
    text = "invoice_number,customer_code,customer_name,issue_date,payment_terms_days,amount\nN-1,NEW,新客户有限公司,2024-01-01,45,10\n"
    with pytest.raises(ImportRejected, match="1 "):
        import_invoices(
            session,
            actor=ACTOR,
            company_id=company.id,
            table=read_table(csv_file(tmp_path, "n.csv", text)),
            overrides={},
        )
    session.rollback()
    import_invoices(
        session,
        actor=ACTOR,
        company_id=company.id,
        table=read_table(csv_file(tmp_path, "n.csv", text)),
        overrides={},
        create_customers=True,
    )
    created = session.scalars(select(Customer)).one()
    assert (created.code, created.name) == ("NEW", "新客户有限公司")
    assert session.scalars(select(Invoice.due_date)).one() == D(2024, 2, 15)


def test_xlsx_with_excel_dates_and_a_mapped_column(
    session: Session, company: Company, tmp_path: Path
) -> None:
    load(session, company, tmp_path)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["单据编号", "客户编码", "开票日期", "到期日", "金额"])
    sheet.append(["X-1", "C002", dt.datetime(2024, 7, 1, 10, 30), 45504, 1234.56])
    path = tmp_path / "x.xlsx"
    workbook.save(path)
    result = import_invoices(
        session,
        actor=ACTOR,
        company_id=company.id,
        table=read_table(path),
        overrides={"number": "单据编号"},
    )
    assert result.created == 1
    inv = session.scalars(select(Invoice).where(Invoice.number == "X-1")).one()
    assert (inv.issue_date, inv.due_date, inv.amount) == (D(2024, 7, 1), D(2024, 7, 31), 123456)


PAYMENTS = """客户编码,收款日期,收款金额,流水号,付款方,发票号
C001,2024-04-10,500.00,BK1,华东建材,INV-002
C001,2024-04-12,"1,000.00",BK2,华东建材,
C002,2024-04-20,150.00,,,
C002,2024-04-20,150.00,,,
"""


def test_payments_pay_named_invoices_or_the_oldest_and_keep_the_rest_as_credit(
    session: Session, company: Company, tmp_path: Path
) -> None:
    load(session, company, tmp_path)
    result = import_payments(
        session,
        actor=ACTOR,
        company_id=company.id,
        table=read_table(csv_file(tmp_path, "p.csv", PAYMENTS)),
        overrides={},
    )
    session.commit()
    open_amounts = {n: a for n, a in session.execute(select(Invoice.number, Invoice.open_amount))}
    # 500 to INV-002 (named; 200 owed, 300 left over); 1,000 to INV-001, the oldest.
    assert open_amounts == {"INV-001": 23450, "INV-002": 0, "INV-003": 0}
    assert result.created == 4  # two identical C002 rows are two payments
    assert result.applied == 20000 + 100000 + 9999
    assert result.unapplied == 30000 + (30000 - 9999)
    again = import_payments(
        session,
        actor=ACTOR,
        company_id=company.id,
        table=read_table(csv_file(tmp_path, "p.csv", PAYMENTS)),
        overrides={},
    )
    assert (again.created, again.unchanged) == (0, 4)
    assert session.scalar(select(func.count()).select_from(Payment)) == 4
    assert daily_totals.stored_totals(session, company.id) == daily_totals.computed_totals(
        session, company.id
    )
    assert session.scalar(select(func.sum(Allocation.amount))) == 129999


def test_a_payment_naming_another_customers_invoice_is_refused(
    session: Session, company: Company, tmp_path: Path
) -> None:
    load(session, company, tmp_path)
    text = (
        "客户编码,收款日期,收款金额,发票号\nC002,2024-04-20,10,INV-001\nC001,2024-04-20,10,NOPE\n"
    )
    with pytest.raises(ImportRejected) as excinfo:
        import_payments(
            session,
            actor=ACTOR,
            company_id=company.id,
            table=read_table(csv_file(tmp_path, "p.csv", text)),
            overrides={},
        )
    assert [(e.row, e.column) for e in excinfo.value.errors] == [
        (2, "invoice_numbers"),
        (3, "invoice_numbers"),
    ]
    assert "belongs to another customer" in excinfo.value.errors[0].reason


def test_the_import_command_prints_every_bad_row_and_exits_1(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert runner.invoke(app, ["init", "--db", url]).exit_code == 0
    customers = csv_file(tmp_path, "c.csv", CUSTOMERS, "gbk")
    assert runner.invoke(app, ["import", "customers", str(customers), "--db", url]).exit_code == 0
    bad = csv_file(
        tmp_path,
        "bad.csv",
        "发票号码,客户编码,开票日期,到期日,价税合计\nA,C001,2024-01-01,2024-02-01,abc\n",
    )
    result = runner.invoke(app, ["import", "invoices", str(bad), "--db", url])
    assert result.exit_code == 1
    assert "第 2 行 [价税合计]" in result.output
    good = csv_file(tmp_path, "i.csv", INVOICES)
    dry = runner.invoke(app, ["import", "invoices", str(good), "--db", url, "--dry-run"])
    assert "dry run, nothing written: invoices: 3 created" in dry.output
    done = runner.invoke(app, ["import", "invoices", str(good), "--db", url])
    assert "invoices: 3 created" in done.output
    again = runner.invoke(app, ["import", "invoices", str(good), "--db", url])
    assert "0 created, 0 updated, 3 unchanged" in again.output
