"""The statement of account (对账单) as documents: a PDF to sign and stamp, an XLSX to tick off.

The PDF shares the letters' page (``channels.pdf``: letterhead, embedded CJK font, page
numbers) and ends with a confirmation block for the customer: box 1 "以上余额确认无误" with the
closing balance written out, box 2 "如有不符，请列明差异" with ruled lines, each with signature,
seal and date. A statement signed and stamped by the customer is their written acknowledgement
of the debt, the evidence a court asks for and what restarts the limitation period, so the
block is never split across pages.

The workbook has the same lines with amounts as numbers (yuan, exact, ``#,##0.00``) and dates as
dates, so the customer's accountant can sort, sum and compare them with their own ledger.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import Any

from fpdf.enums import TableBordersLayout, WrapMode, XPos
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from huikuan.channels.context import MessageContext
from huikuan.channels.fonts import PdfFonts
from huikuan.channels.pdf import (
    FONT,
    GREY,
    HEAD_FILL,
    INK,
    TABLE_SIZE,
    TOTAL_FILL,
    DocumentPDF,
    labels_for,
    wrap_text,
)
from huikuan.channels.templates import money_text
from huikuan.core.dates import format_date
from huikuan.core.money import to_decimal
from huikuan.ledger.exports import Money
from huikuan.ledger.rules import CURRENT
from huikuan.reconciliation.statement_rules import LineKind, Statement

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"

_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "对账单",
        "sheet": "对账单",
        "period": "对账期间",
        "through": " 至 ",
        "start": "开始日期",
        "end": "结束日期",
        "customer": "客户",
        "customer_code": "客户编号",
        "company": "供应商",
        "currency": "币种",
        "date": "日期",
        "kind": "摘要",
        "reference": "单号 / 参考号",
        "debit": "借方（应收增加）",
        "credit": "贷方（应收减少）",
        "balance": "余额",
        "kinds": {
            LineKind.INVOICE: "销售发票",
            LineKind.CREDIT_NOTE: "贷项通知",
            LineKind.PAYMENT: "收款",
            LineKind.REVERSAL: "收款冲销",
        },
        "opening": "期初余额",
        "closing": "期末余额",
        "period_total": "本期合计及期末余额",
        "total_debit": "本期借方合计",
        "total_credit": "本期贷方合计",
        "sign_note": "余额为正数表示贵司尚欠我司的款项，为负数表示贵司多付或预付的款项。",
        "aging": "期末余额账龄",
        "bucket": "账龄",
        "amount": "金额",
        "current": "未到期",
        "overdue": "逾期 {name} 天",
        "unapplied": "未核销收款及贷项",
        "aging_total": "合计（即期末余额）",
        "fees": "本期计收的逾期违约金",
        "fees_note": "违约金按合同约定计收，单独列示，不计入上述往来余额。",
        "invoice": "发票号",
        "fee_period": "计费期间",
        "days": "天数",
        "base": "计费基数",
        "rate": "费率",
        "charged": "违约金",
        "waived": "已减免",
        "due": "应付",
        "fee_total": "违约金合计",
        "confirm_heading": "余额确认",
        "confirm": (
            "请贵司核对上述往来明细及余额。核对无误的，请在第一栏签字盖章；如有不符，请在第二栏"
            "列明差异金额及原因后签字盖章。请将签章后的对账单寄回或扫描回传我司。经双方签章确认的"
            "对账单，作为双方截至期末往来余额的确认依据。"
        ),
        "agree": "一、以上余额确认无误",
        "owes": "截至 {end}，{customer}尚欠{company} {amount}。",
        "owed": "截至 {end}，{company}尚欠{customer} {amount}（多付或预付的款项）。",
        "even": "截至 {end}，{customer}与{company}之间没有未结余额。",
        "differ": "二、如有不符，请列明差异",
        "seal": "客户（盖章）",
        "signature": "经办人签字",
        "signed_on": "日期",
        "issuer": "出具单位（盖章）",
        "issued_on": "出具日期",
    },
    "en": {
        "title": "Statement of account",
        "sheet": "Statement",
        "period": "Period",
        "through": " to ",
        "start": "From",
        "end": "To",
        "customer": "Customer",
        "customer_code": "Customer code",
        "company": "Supplier",
        "currency": "Currency",
        "date": "Date",
        "kind": "Entry",
        "reference": "Number / reference",
        "debit": "Debit (owed more)",
        "credit": "Credit (owed less)",
        "balance": "Balance",
        "kinds": {
            LineKind.INVOICE: "Invoice",
            LineKind.CREDIT_NOTE: "Credit note",
            LineKind.PAYMENT: "Payment",
            LineKind.REVERSAL: "Payment reversed",
        },
        "opening": "Opening balance",
        "closing": "Closing balance",
        "period_total": "Period totals and closing balance",
        "total_debit": "Debits in the period",
        "total_credit": "Credits in the period",
        "sign_note": "A positive balance is owed by you to us; a negative one is money of yours we hold.",
        "aging": "Aging of the closing balance",
        "bucket": "Age",
        "amount": "Amount",
        "current": "Not yet due",
        "overdue": "{name} days overdue",
        "unapplied": "Payments and credits not yet applied",
        "aging_total": "Total (the closing balance)",
        "fees": "Late fees charged in the period",
        "fees_note": "Late fees are charged under the contract and are not part of the balance above.",
        "invoice": "Invoice",
        "fee_period": "Period",
        "days": "Days",
        "base": "Base",
        "rate": "Rate",
        "charged": "Fee",
        "waived": "Waived",
        "due": "Due",
        "fee_total": "Total late fees",
        "confirm_heading": "Confirmation of the balance",
        "confirm": (
            "Please check the entries and the balance above against your records. If they agree, "
            "sign and stamp box 1; if not, list the differences and their reasons in box 2 and sign "
            "and stamp it. Please return the signed statement to us by post or as a scan. A "
            "statement signed and stamped by both parties confirms the balance between us at the "
            "end of the period."
        ),
        "agree": "1. We confirm the balance above",
        "owes": "On {end}, {customer} owes {company} {amount}.",
        "owed": "On {end}, {company} owes {customer} {amount} (paid over or in advance).",
        "even": "On {end}, nothing is owed between {customer} and {company}.",
        "differ": "2. If it does not agree, please list the differences",
        "seal": "Customer's stamp",
        "signature": "Signed by",
        "signed_on": "Date",
        "issuer": "Issued by (stamp)",
        "issued_on": "Issued on",
    },
}


def _text(language: str) -> dict[str, Any]:
    return _TEXT["zh" if language == "zh" else "en"]


def bucket_label(name: str, language: str) -> str:
    text = _text(language)
    return text["current"] if name == CURRENT else text["overdue"].format(name=name)


def _period(statement: Statement, text: dict[str, Any]) -> str:
    return f"{format_date(statement.start)}{text['through']}{format_date(statement.end)}"


# ---------------------------------------------------------------- PDF


def render_statement_pdf(
    statement: Statement,
    language: str,
    *,
    reference: str = "",
    issued_on: dt.date | None = None,
    fonts: PdfFonts | None = None,
) -> bytes:
    """The statement as an A4 PDF in ``language`` ("zh" or "en"). ``reference`` is the
    statement's number and ``issued_on`` its date (the period's end unless given)."""
    text = _text(language)
    pdf = DocumentPDF(_context(statement, language, reference, issued_on), text["title"], fonts)
    pdf.letterhead()
    pdf.title_line(text["title"])
    _facts(pdf, statement, text)
    _lines_table(pdf, statement, text)
    _aging_table(pdf, statement, text)
    if statement.late_fees:
        _late_fee_table(pdf, statement, text)
    _confirmation(pdf, statement, text)
    return pdf.to_bytes()


def _context(
    statement: Statement, language: str, reference: str, issued_on: dt.date | None
) -> MessageContext:
    """What the shared page needs: names for the letterhead and running header, the date."""
    return MessageContext(
        language="zh" if language == "zh" else "en",
        as_of=issued_on or statement.end,
        company_name=statement.company_name,
        customer_code=statement.customer_code,
        customer_name=statement.customer_name,
        addressee="",
        addressee_role="",
        currency=statement.currency,
        items=(),
        total_open=statement.closing,
        total_overdue=0,
        total_late_fee=statement.late_fee_total,
        pay_by=None,
        reference=reference,
        sender_name=statement.company_name,
    )


def _facts(pdf: DocumentPDF, statement: Statement, text: dict[str, Any]) -> None:
    colon = pdf.labels.colon
    rows = [
        (
            f"{text['customer']}{colon}{statement.customer_name}",
            f"{text['customer_code']}{colon}{statement.customer_code}",
        ),
        (
            f"{text['company']}{colon}{statement.company_name}",
            f"{text['currency']}{colon}{statement.currency}",
        ),
        (f"{text['period']}{colon}{_period(statement, text)}", ""),
    ]
    pdf.set_font(FONT, "", 10)
    for left, right in rows:
        pdf.cell(pdf.epw * 0.65, 6, left)
        pdf.cell(pdf.epw * 0.35, 6, right, align="R")
        pdf.ln(6)
    pdf.ln(3)


def _table(pdf: DocumentPDF, widths: list[float], aligns: list[str], width: float) -> Any:
    """A table in the letters' style; the heading row repeats on every page it spans."""
    pdf.set_font(FONT, "", TABLE_SIZE)
    return pdf.table(
        col_widths=widths,
        text_align=tuple(aligns),
        headings_style=FontFace(family=FONT, emphasis="BOLD", fill_color=HEAD_FILL),
        borders_layout=TableBordersLayout.ALL,
        line_height=TABLE_SIZE * 0.55,
        padding=(1.0, 1.2, 1.0, 1.2),
        wrapmode=WrapMode.CHAR if pdf.context.language == "zh" else WrapMode.WORD,
        repeat_headings=1,
        width=width,
        align="L",
    )


def _lines_table(pdf: DocumentPDF, statement: Statement, text: dict[str, Any]) -> None:
    """Opening balance, one row per document with the balance after it, then the period's
    totals with the closing balance."""
    currency = statement.currency

    def money(fen: int) -> str:
        return money_text(fen, currency) if fen else ""

    headings = [text[k] for k in ("date", "kind", "reference", "debit", "credit", "balance")]
    widths = [19.0, 27.0, 31.0, 25.0, 25.0, 27.0]
    aligns = ["CENTER", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"]
    bold = FontFace(family=FONT, emphasis="BOLD", fill_color=TOTAL_FILL)
    with _table(pdf, widths, aligns, pdf.epw) as table:
        heading = table.row()
        for title in headings:
            heading.cell(title, align="CENTER")
        opening = table.row(style=bold)
        opening.cell(format_date(statement.start))
        opening.cell(text["opening"], colspan=4)
        opening.cell(money_text(statement.opening, currency))
        for line in statement.lines:
            row = table.row()
            row.cell(format_date(line.on))
            row.cell(text["kinds"][line.kind])
            row.cell(line.reference)
            row.cell(money(line.debit))
            row.cell(money(line.credit))
            row.cell(money_text(line.balance, currency))
        closing = table.row(style=bold)
        closing.cell(format_date(statement.end))
        closing.cell(text["period_total"], colspan=2)
        closing.cell(money_text(statement.total_debit, currency))
        closing.cell(money_text(statement.total_credit, currency))
        closing.cell(money_text(statement.closing, currency))
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 5, text["sign_note"], new_x=XPos.LMARGIN)
    pdf.set_text_color(*INK)
    pdf.ln(6)


def _summary(statement: Statement, text: dict[str, Any]) -> list[tuple[str, str, bool]]:
    currency = statement.currency
    return [
        (text["opening"], money_text(statement.opening, currency), False),
        (text["total_debit"], money_text(statement.total_debit, currency), False),
        (text["total_credit"], money_text(statement.total_credit, currency), False),
        (text["closing"], money_text(statement.closing, currency), True),
    ]


def _keep_together(pdf: DocumentPDF, height: float) -> None:
    """Start a new page unless ``height`` mm still fit on this one (a heading with its table)."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


ROW_HEIGHT = 7.5  # mm, a table row with its padding, one wrap allowed for


def _aging_table(pdf: DocumentPDF, statement: Statement, text: dict[str, Any]) -> None:
    """The open invoices on the end date by age, less the money not applied yet: the same
    total as the closing balance, seen as the invoices it is made of. The period's figures
    stand beside it, so the closing balance is read twice, once from each side."""
    currency = statement.currency
    language = pdf.context.language
    _keep_together(pdf, 14 + ROW_HEIGHT * (len(statement.aging) + 3))
    pdf.section_heading(f"{text['aging']}{pdf.labels.aside(format_date(statement.end))}")
    top = pdf.get_y()
    right = pdf.l_margin + pdf.epw * 0.6
    width = pdf.w - pdf.r_margin - right
    y = top
    for label, value, bold_line in _summary(statement, text):
        pdf.set_font(FONT, "B" if bold_line else "", 10)
        pdf.set_xy(right, y)
        pdf.cell(width * 0.55, 6.5, label, align="R")
        pdf.cell(width * 0.45, 6.5, value, align="R")
        y += 6.5
    pdf.set_y(top)
    bold = FontFace(family=FONT, emphasis="BOLD", fill_color=TOTAL_FILL)
    with _table(pdf, [1.0, 1.0], ["LEFT", "RIGHT"], pdf.epw * 0.55) as table:
        heading = table.row()
        heading.cell(text["bucket"], align="CENTER")
        heading.cell(text["amount"], align="CENTER")
        for bucket in statement.aging:
            row = table.row()
            row.cell(bucket_label(bucket.label, language))
            row.cell(money_text(bucket.amount, currency))
        row = table.row()
        row.cell(text["unapplied"])
        row.cell(money_text(-statement.unapplied, currency))
        total = table.row(style=bold)
        total.cell(text["aging_total"])
        total.cell(money_text(statement.aging_total, currency))
    pdf.set_y(max(pdf.get_y(), y) + 2)


def _late_fee_table(pdf: DocumentPDF, statement: Statement, text: dict[str, Any]) -> None:
    currency = statement.currency
    # The heading, the first rows and, for a short list, the total and the note stay together.
    _keep_together(pdf, 14 + ROW_HEIGHT * (min(len(statement.late_fees), 4) + 2) + 8)
    pdf.section_heading(text["fees"])
    keys = ("invoice", "fee_period", "days", "base", "rate", "charged", "waived", "due")
    widths = [20.0, 39.0, 10.0, 23.0, 19.0, 20.0, 18.0, 21.0]
    aligns = ["LEFT", "CENTER", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"]
    bold = FontFace(family=FONT, emphasis="BOLD", fill_color=TOTAL_FILL)
    with _table(pdf, widths, aligns, pdf.epw) as table:
        heading = table.row()
        for key in keys:
            heading.cell(text[key], align="CENTER")
        for fee in statement.late_fees:
            row = table.row()
            row.cell(fee.invoice_number)
            row.cell(f"{format_date(fee.period_start)} – {format_date(fee.period_end)}")
            row.cell(str(fee.days))
            row.cell(money_text(fee.base, currency))
            row.cell(fee.rate)
            row.cell(money_text(fee.charged, currency))
            row.cell(money_text(fee.waived, currency) if fee.waived else "-")
            row.cell(money_text(fee.due, currency))
        total = table.row(style=bold)
        total.cell(text["fee_total"], colspan=7)
        total.cell(money_text(statement.late_fee_total, currency))
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 5, text["fees_note"], new_x=XPos.LMARGIN)
    pdf.set_text_color(*INK)
    pdf.ln(6)


def _balance_sentence(statement: Statement, text: dict[str, Any]) -> str:
    """The closing balance in words, naming both parties: who owes whom, on which day."""
    key = "owes" if statement.closing > 0 else "owed" if statement.closing < 0 else "even"
    return str(
        text[key].format(
            end=format_date(statement.end),
            amount=money_text(abs(statement.closing), statement.currency),
            customer=statement.customer_name,
            company=statement.company_name,
        )
    )


BOX_HEIGHT = 62.0  # room for a company seal (about 40 mm across) above the signing lines


def _confirmation(pdf: DocumentPDF, statement: Statement, text: dict[str, Any]) -> None:
    """The request, our stamp line, then the customer's two boxes side by side: agree, or list
    the differences. Kept on one page, so what is signed and the signature cannot be parted."""
    gap = 6.0
    width = (pdf.epw - gap) / 2
    boxes = [
        _box_text(pdf, text["agree"], _balance_sentence(statement, text), width - 6),
        _box_text(pdf, text["differ"], "", width - 6),
    ]
    content = max(2.5 + 6 * len(title) + 5.5 * len(body) for title, body in boxes)
    height = max(BOX_HEIGHT, content + 4 * 6.5 + 26)
    pdf.set_font(FONT, "", 9.5)
    request = len(wrap_text(pdf, text["confirm"], pdf.epw)) * 5.4
    _keep_together(pdf, 11 + request + 11 + height + 4)
    pdf.section_heading(text["confirm_heading"])
    pdf.paragraphs(text["confirm"], size=9.5, line=5.4)
    pdf.ln(2)
    colon = pdf.labels.colon
    pdf.set_font(FONT, "", 9.5)
    half = pdf.epw / 2
    pdf.cell(half, 6, f"{text['issuer']}{colon}{statement.company_name}")
    issued = format_date(pdf.context.as_of)
    pdf.cell(half, 6, f"{text['issued_on']}{colon}{issued}", align="R")
    pdf.ln(9)
    top = pdf.get_y()
    for i, (title, body) in enumerate(boxes):
        x = pdf.l_margin + i * (width + gap)
        pdf.rect(x, top, width, height)
        y = top + 2.5
        pdf.set_font(FONT, "B", 10)
        for piece in title:
            pdf.set_xy(x + 3, y)
            pdf.cell(width - 6, 6, piece)
            y += 6
        pdf.set_font(FONT, "", 9.5)
        for piece in body:
            pdf.set_xy(x + 3, y + 1)
            pdf.cell(width - 6, 5.5, piece)
            y += 5.5
        if not body:  # ruled lines to write the differences on
            for _ in range(4):
                y += 6.5
                pdf.line(x + 3, y, x + width - 3, y)
        _signing_lines(pdf, x + 3, top + height - 22, width - 6, text)
    pdf.set_y(top + height + 4)


def _box_text(pdf: DocumentPDF, title: str, body: str, width: float) -> tuple[list[str], list[str]]:
    """A box's title and body wrapped to its width, in the fonts they are drawn in."""
    pdf.set_font(FONT, "B", 10)
    title_lines = wrap_text(pdf, title, width)
    pdf.set_font(FONT, "", 9.5)
    return title_lines, wrap_text(pdf, body, width) if body else []


def _signing_lines(
    pdf: DocumentPDF, x: float, y: float, width: float, text: dict[str, Any]
) -> None:
    """Stamp, signature and date, each with a line to write on."""
    colon = pdf.labels.colon
    pdf.set_font(FONT, "", 9.5)
    for label in (text["seal"], text["signature"], text["signed_on"]):
        caption = f"{label}{colon}"
        pdf.set_xy(x, y)
        pdf.cell(width, 6, caption)
        pdf.line(x + pdf.get_string_width(caption) + 1.5, y + 5, x + width, y + 5)
        y += 7


# ---------------------------------------------------------------- XLSX


def render_statement_xlsx(statement: Statement, language: str = "zh") -> bytes:
    """The statement as a workbook: the facts, the lines between the opening and the closing
    row, the aging and the late fees. Amounts are exact Decimals of yuan shown ``#,##0.00``,
    dates are dates shown ``yyyy-mm-dd``; the heading row of the lines is frozen."""
    text = _text(language)
    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.title = text["sheet"]
    sheet["A1"] = f"{text['title']}{labels_for(language).aside(_period(statement, text))}"
    sheet["A1"].font = Font(bold=True, size=14)
    facts: list[tuple[str, Any]] = [
        (text["company"], statement.company_name),
        (text["customer"], statement.customer_name),
        (text["customer_code"], statement.customer_code),
        (text["currency"], statement.currency),
        (text["start"], statement.start),
        (text["end"], statement.end),
    ]
    for offset, (label, value) in enumerate(facts):
        _put(sheet, 2 + offset, [label, value], bold=True)
    head = 2 + len(facts) + 1
    _heading(
        sheet, head, [text[k] for k in ("date", "kind", "reference", "debit", "credit", "balance")]
    )
    opening = [statement.start, text["opening"], None, None, None, Money(statement.opening)]
    _put(sheet, head + 1, opening, bold=True)
    row = head + 1
    for line in statement.lines:
        row += 1
        _put(sheet, row, [
            line.on, text["kinds"][line.kind], line.reference,
            Money(line.debit) if line.debit else None,
            Money(line.credit) if line.credit else None,
            Money(line.balance),
        ])  # fmt: skip
    row += 1
    _put(sheet, row, [
        statement.end, text["period_total"], None, Money(statement.total_debit),
        Money(statement.total_credit), Money(statement.closing),
    ], bold=True)  # fmt: skip
    row = _aging_rows(sheet, row + 2, statement, text, language)
    if statement.late_fees:
        _late_fee_rows(sheet, row + 2, statement, text)
    for column, width in enumerate([13, 22, 24, 18, 18, 18, 12, 18], start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = sheet.cell(row=head + 1, column=1)
    sheet.print_title_rows = f"{head}:{head}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _aging_rows(
    sheet: Any, row: int, statement: Statement, text: dict[str, Any], language: str
) -> int:
    _heading(sheet, row, [text["bucket"], text["amount"]])
    for bucket in statement.aging:
        row += 1
        _put(sheet, row, [bucket_label(bucket.label, language), Money(bucket.amount)])
    row += 1
    _put(sheet, row, [text["unapplied"], Money(-statement.unapplied)])
    row += 1
    _put(sheet, row, [text["aging_total"], Money(statement.aging_total)], bold=True)
    return row


def _late_fee_rows(sheet: Any, row: int, statement: Statement, text: dict[str, Any]) -> None:
    sheet.cell(row=row, column=1, value=text["fees"]).font = Font(bold=True)
    row += 1
    keys = ("invoice", "fee_period", "days", "base", "rate", "charged", "waived", "due")
    _heading(sheet, row, [text[k] for k in keys])
    for fee in statement.late_fees:
        row += 1
        _put(sheet, row, [
            fee.invoice_number, f"{format_date(fee.period_start)} – {format_date(fee.period_end)}",
            fee.days, Money(fee.base), fee.rate, Money(fee.charged), Money(fee.waived),
            Money(fee.due),
        ])  # fmt: skip
    row += 1
    _put(sheet, row, [text["fee_total"], *[None] * 6, Money(statement.late_fee_total)], bold=True)
    sheet.cell(row=row + 1, column=1, value=text["fees_note"])


def _heading(sheet: Any, row: int, titles: list[str]) -> None:
    fill = PatternFill("solid", fgColor="E8ECF2")
    rule = Side(style="thin", color="999999")
    for column, title in enumerate(titles, start=1):
        cell = sheet.cell(row=row, column=column, value=title)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.border = Border(bottom=rule)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _put(sheet: Any, row: int, values: list[Any], *, bold: bool = False) -> None:
    """One row: dates shown yyyy-mm-dd, money shown #,##0.00, text as it is."""
    for column, value in enumerate(values, start=1):
        is_money = isinstance(value, Money)
        cell = sheet.cell(row=row, column=column, value=to_decimal(value) if is_money else value)
        if is_money:
            cell.number_format = MONEY_FORMAT
        elif isinstance(value, dt.date):
            cell.number_format = DATE_FORMAT
            cell.alignment = Alignment(horizontal="left")
        if bold:
            cell.font = Font(bold=True)
