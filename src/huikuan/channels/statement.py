"""The statement of open items (应收账款对账单): every open invoice of one customer on a date.

Sent with the ``statement_cover`` email, as a PDF to read, sign and return, and as an XLSX for the
customer's accountant to tick off against their own books (amounts are numbers, dates are dates).
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from huikuan.channels.context import MessageContext
from huikuan.channels.fonts import PdfFonts
from huikuan.channels.pdf import DocumentPDF, labels_for
from huikuan.channels.templates import money_text
from huikuan.core.dates import format_date
from huikuan.core.money import to_decimal

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"

_TEXT = {
    "zh": {
        "title": "应收账款对账单",
        "subtitle": "未结清发票明细",
        "customer": "客户",
        "customer_code": "客户编号",
        "as_of": "截至日期",
        "currency": "币种",
        "company": "供应商",
        "sheet": "未结清明细",
        "confirm": (
            "请贵司核对以上明细。核对无误的，请在下方签字盖章后回传；如有差异，"
            "请列明有差异的发票号、金额及原因，以便双方及时核实。"
        ),
        "we": "供应商",
        "they": "客户确认",
        "stamp": "盖章",
        "signed_on": "日期",
    },
    "en": {
        "title": "Statement of open items",
        "subtitle": "Invoices not yet settled",
        "customer": "Customer",
        "customer_code": "Customer code",
        "as_of": "As of",
        "currency": "Currency",
        "company": "Supplier",
        "sheet": "Open items",
        "confirm": (
            "Please check the items above against your records. If they agree, please sign and "
            "stamp below and return a copy to us; if not, please list the invoices, amounts and "
            "reasons that differ so that we can settle them together."
        ),
        "we": "Supplier",
        "they": "Confirmed by the customer",
        "stamp": "stamp",
        "signed_on": "Date",
    },
}


def _text(context: MessageContext) -> dict[str, str]:
    return _TEXT["zh" if context.language == "zh" else "en"]


# ---------------------------------------------------------------- PDF


def render_statement_pdf(context: MessageContext, *, fonts: PdfFonts | None = None) -> bytes:
    """The statement as an A4 PDF with a confirmation block for the customer to sign."""
    text = _text(context)
    labels = labels_for(context.language)
    pdf = DocumentPDF(context, text["title"], fonts)
    pdf.letterhead()
    pdf.title_line(text["title"])
    pdf.set_font("huikuan-cjk", "", 10)
    pdf.cell(0, 5, text["subtitle"], align="C")
    pdf.ln(9)
    colon = labels.colon
    code = context.customer_code
    facts = [
        (
            f"{text['customer']}{colon}{context.customer_name}",
            f"{text['customer_code']}{colon}{code}",
        ),
        (
            f"{text['company']}{colon}{context.company_name}",
            f"{text['as_of']}{colon}{format_date(context.as_of)}",
        ),
    ]
    if context.currency and context.currency.upper() not in ("CNY", "RMB"):
        facts.append((f"{text['currency']}{colon}{context.currency}", ""))
    for left, right in facts:
        pdf.cell(pdf.epw * 0.65, 6, left)
        pdf.cell(pdf.epw * 0.35, 6, right, align="R")
        pdf.ln(6)
    pdf.ln(3)
    if context.items:
        pdf.invoice_table(context.items)
    currency = context.currency
    lines: list[tuple[str, str, bool]] = [
        (labels.total_open, money_text(context.total_open, currency), True),
        (labels.total_overdue, money_text(context.total_overdue, currency), False),
    ]
    if context.total_late_fee > 0:
        lines.append((labels.total_late_fee, money_text(context.total_late_fee, currency), False))
        total_due = context.total_open + context.total_late_fee
        lines.append((labels.total_due, money_text(total_due, currency), True))
    pdf.settlement(lines, context.payment)
    _confirmation(pdf, text)
    return pdf.to_bytes()


def _confirmation(pdf: DocumentPDF, text: dict[str, str]) -> None:
    """The request to check, then two stamp areas side by side: ours and the customer's."""
    if pdf.get_y() + 52 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(3)
    pdf.paragraphs(text["confirm"], size=10, line=5.8)
    pdf.ln(6)
    colon = pdf.labels.colon
    half = pdf.epw / 2
    top = pdf.get_y()
    pdf.set_font("huikuan-cjk", "", 10)
    for i, (who, name) in enumerate(
        ((text["we"], pdf.context.company_name), (text["they"], pdf.context.customer_name))
    ):
        x = pdf.l_margin + i * half
        pdf.set_xy(x, top)
        pdf.cell(half - 6, 6, f"{who}{pdf.labels.aside(text['stamp'])}{colon}")
        pdf.set_xy(x, top + 6)
        pdf.cell(half - 6, 6, name)
        pdf.set_xy(x, top + 26)
        label = f"{text['signed_on']}{colon}"
        pdf.cell(half - 6, 6, label)
        pdf.line(x + pdf.get_string_width(label) + 2, top + 31, x + half - 8, top + 31)
    pdf.set_y(top + 34)


# ---------------------------------------------------------------- XLSX


def render_statement_xlsx(context: MessageContext) -> bytes:
    """The statement as a workbook: a header block, one row per invoice, a totals row.

    Amounts are numbers in yuan (exact Decimals from fen) shown ``#,##0.00``; dates are dates
    shown ``yyyy-mm-dd``; the heading row is frozen so it stays in view.
    """
    text = _text(context)
    labels = labels_for(context.language)
    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.title = text["sheet"]
    bold = Font(bold=True)
    sheet["A1"] = f"{text['title']}{labels.aside(text['subtitle'])}"
    sheet["A1"].font = Font(bold=True, size=14)
    header: list[tuple[str, Any]] = [
        (text["company"], context.company_name),
        (text["customer"], context.customer_name),
        (text["customer_code"], context.customer_code),
        (text["as_of"], context.as_of),
        (text["currency"], context.currency or "CNY"),
    ]
    for offset, (label, value) in enumerate(header):
        row = 2 + offset
        sheet.cell(row=row, column=1, value=label).font = bold
        cell = sheet.cell(row=row, column=2, value=value)
        if isinstance(value, dt.date):
            cell.number_format = DATE_FORMAT
            cell.alignment = Alignment(horizontal="left")
    with_fee = any(item.late_fee > 0 for item in context.items)
    headings = [
        labels.invoice,
        labels.order,
        labels.issued,
        labels.due,
        labels.amount,
        labels.open_amount,
        labels.days,
    ]
    if with_fee:
        headings.append(labels.late_fee)
    head_row = 2 + len(header) + 1
    fill = PatternFill("solid", fgColor="E8ECF2")
    line = Side(style="thin", color="999999")
    for column, heading in enumerate(headings, start=1):
        cell = sheet.cell(row=head_row, column=column, value=heading)
        cell.font = bold
        cell.fill = fill
        cell.border = Border(bottom=line)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    row = head_row
    for item in context.items:
        row += 1
        values: list[Any] = [
            item.invoice_number,
            item.order_number,
            item.issue_date,
            item.due_date,
            to_decimal(item.amount),
            to_decimal(item.open_amount),
            item.days_overdue,
        ]
        if with_fee:
            values.append(to_decimal(item.late_fee))
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            if column in (3, 4):
                cell.number_format = DATE_FORMAT
            elif column in (5, 6, 8):
                cell.number_format = MONEY_FORMAT
    row += 1
    totals: list[Any] = [
        labels.total.format(count=len(context.items)),
        None,
        None,
        None,
        to_decimal(sum(item.amount for item in context.items)),
        to_decimal(sum(item.open_amount for item in context.items)),
        None,
    ]
    if with_fee:
        totals.append(to_decimal(sum(item.late_fee for item in context.items)))
    for column, value in enumerate(totals, start=1):
        cell = sheet.cell(row=row, column=column, value=value)
        cell.font = bold
        cell.border = Border(top=line)
        if column in (5, 6, 8):
            cell.number_format = MONEY_FORMAT
    summary: list[tuple[str, int]] = [(labels.total_overdue, context.total_overdue)]
    if context.total_late_fee > 0:
        summary.append((labels.total_late_fee, context.total_late_fee))
        summary.append((labels.total_due, context.total_open + context.total_late_fee))
    for label, fen in summary:
        row += 1
        label_cell = sheet.cell(row=row, column=5, value=label)
        label_cell.font = bold
        label_cell.alignment = Alignment(horizontal="right")
        cell = sheet.cell(row=row, column=6, value=to_decimal(fen))
        cell.number_format = MONEY_FORMAT
    widths = [20, 18, 13, 13, 17, 17, 11, 14]
    for column, width in enumerate(widths[: len(headings)], start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.column_dimensions["B"].width = max(18, min(48, len(context.customer_name) * 2 + 4))
    sheet.freeze_panes = sheet.cell(row=head_row + 1, column=1)
    sheet.print_title_rows = f"{head_row}:{head_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
