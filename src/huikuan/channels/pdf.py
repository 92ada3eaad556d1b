"""The A4 page that letters and statements share: letterhead, paragraphs, invoice table, footer.

Built on fpdf2, which embeds the CJK font found by :mod:`huikuan.channels.fonts`, read once per
process and subset to the document's glyphs by :mod:`huikuan.channels.font_embedding` (a
TrueType CID font; a letter with a few hundred distinct characters is about 60 KB).
Nothing here reads the clock: the document's date is the context's ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from fpdf import FPDF
from fpdf.enums import TableBordersLayout, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from huikuan.channels.context import MessageContext, OpenItem, PaymentInstructions
from huikuan.channels.font_embedding import EmbeddingOutputProducer, add_document_fonts
from huikuan.channels.fonts import PdfFonts, find_fonts
from huikuan.channels.templates import money_text
from huikuan.core.dates import format_date

FONT = "huikuan-cjk"
MARGIN_X = 20.0
MARGIN_TOP = 16.0
MARGIN_BOTTOM = 20.0
BODY_SIZE = 11.0
BODY_LINE = 6.2  # mm between lines of body text (about 1.6 × the 11 pt font)
TABLE_SIZE = 8.5
INK = (25, 25, 25)
GREY = (110, 110, 110)
RULE = (150, 150, 150)
HEAD_FILL = (232, 236, 242)
TOTAL_FILL = (245, 245, 245)

# Punctuation that must not begin a line, or end one (Chinese typesetting: 避头尾).
_NO_LINE_START = set("，。、；：！？）》」』】”’%,.;:!?)]}")
_NO_LINE_END = set("（《「『【“‘([{¥")
# A run that must not be split: Latin words, numbers, amounts, dates, invoice numbers.
_TOKEN = re.compile(r"[A-Za-z0-9¥$€£@#&%+\-./:,'_()]+| +|.", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Labels:
    """The fixed words of a document in one language."""

    reference: str
    date: str
    to: str
    attention: str
    customer_code: str
    page: str  # with {page} and {pages}
    invoice: str
    order: str
    issued: str
    due: str
    amount: str
    open_amount: str
    days: str
    late_fee: str
    total: str  # with {count}
    details: str
    total_open: str
    total_overdue: str
    total_late_fee: str
    total_due: str
    pay_by: str
    bank_heading: str
    account_name: str
    bank_name: str
    account_number: str
    note: str
    sign_here: str
    continued: str
    colon: str  # after a label: full-width in Chinese
    paren: tuple[str, str]  # around an aside: full-width in Chinese

    def aside(self, text: str) -> str:
        return f"{self.paren[0]}{text}{self.paren[1]}" if text else ""


ZH = Labels(
    reference="编号",
    date="日期",
    to="致",
    attention="收件人",
    customer_code="客户编号",
    page="第 {page} 页 / 共 {pages} 页",
    invoice="发票号",
    order="订单号",
    issued="开票日期",
    due="到期日",
    amount="发票金额",
    open_amount="未付金额",
    days="逾期天数",
    late_fee="违约金",
    total="合计\uff08{count} 张\uff09",
    details="欠款明细",
    total_open="未付金额合计",
    total_overdue="其中已逾期",
    total_late_fee="逾期付款违约金",
    total_due="应付合计",
    pay_by="付款期限",
    bank_heading="收款账户",
    account_name="户名",
    bank_name="开户行",
    account_number="账号",
    note="备注",
    sign_here="签章",
    continued="\uff08续\uff09",
    colon="\uff1a",
    paren=("\uff08", "\uff09"),
)
EN = Labels(
    reference="Ref.",
    date="Date",
    to="To",
    attention="Attention",
    customer_code="Customer code",
    page="Page {page} of {pages}",
    invoice="Invoice",
    order="Order",
    issued="Issued",
    due="Due",
    amount="Amount",
    open_amount="Open",
    days="Days overdue",
    late_fee="Late fee",
    total="Total ({count} invoices)",
    details="Open invoices",
    total_open="Total open",
    total_overdue="Of which overdue",
    total_late_fee="Late fee",
    total_due="Total due",
    pay_by="Pay by",
    bank_heading="Bank details",
    account_name="Account name",
    bank_name="Bank",
    account_number="Account number",
    note="Note",
    sign_here="Signature and stamp",
    continued=" (continued)",
    colon=": ",
    paren=(" (", ")"),
)


def labels_for(language: str) -> Labels:
    return ZH if language == "zh" else EN


class DocumentPDF(FPDF):
    """One A4 document for one customer: running header from page 2, page numbers in the footer."""

    def __init__(self, context: MessageContext, title: str, fonts: PdfFonts | None = None) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.context = context
        self.labels = labels_for(context.language)
        self.doc_title = title
        self._widths: dict[tuple[object, ...], float] = {}
        add_document_fonts(self, FONT, fonts or find_fonts())
        self.set_margins(MARGIN_X, MARGIN_TOP, MARGIN_X)
        self.set_auto_page_break(True, margin=MARGIN_BOTTOM)
        self.alias_nb_pages("{nb}")
        moment = dt.datetime.combine(context.as_of, dt.time(), tzinfo=dt.UTC)
        self.set_creation_date(moment)
        self.set_title(title)
        self.set_author(context.company_name)
        self.set_subject(f"{title} {context.customer_name} {context.reference}".strip())
        self.set_creator("Huikuan")
        self.set_producer("Huikuan")
        self.set_lang("zh-CN" if context.language == "zh" else "en")
        self.set_text_color(*INK)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.add_page()

    def get_string_width(self, s: str, normalized: bool = False, markdown: bool = False) -> float:
        """fpdf2's width, remembered per font, size and text: wrapping Chinese measures every
        character and every candidate line (about 800 calls a letter, 230 different ones) and
        fpdf2 analyses the text anew each time, which was a sixth of a letter's time."""
        key = (
            self.font_family,
            self.font_style,
            self.font_size_pt,
            self.char_spacing,
            self.font_stretching,
            normalized,
            markdown,
            s,
        )
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = super().get_string_width(s, normalized, markdown)
        return width

    # ------------------------------------------------------------ page furniture

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        left = f"{self.context.company_name} · {self.doc_title}{self.labels.continued}"
        self.cell(self.epw / 2, 5, left, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.cell(self.epw / 2, 5, self.context.reference, align="R")
        self.ln(5)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(4)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        text = self.labels.page.format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, text, align="C")
        self.set_text_color(*INK)

    # ------------------------------------------------------------ blocks

    def letterhead(self) -> None:
        """Company name, a double rule, then reference and date."""
        context, labels = self.context, self.labels
        self.set_font(FONT, "B", 17)
        self.cell(0, 9, context.company_name, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)
        y = self.get_y()
        self.set_draw_color(*INK)
        self.set_line_width(0.7)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_line_width(0.2)
        self.line(self.l_margin, y + 1.1, self.w - self.r_margin, y + 1.1)
        self.set_draw_color(*RULE)
        self.ln(2.5)
        self.set_font(FONT, "", 9)
        self.set_text_color(*GREY)
        half = self.epw / 2
        reference = (
            f"{labels.reference}{labels.colon}{context.reference}" if context.reference else ""
        )
        self.cell(half, 5, reference)
        self.cell(half, 5, f"{labels.date}{labels.colon}{format_date(context.as_of)}", align="R")
        self.ln(8)
        self.set_text_color(*INK)

    def addressee_block(self) -> None:
        context, labels = self.context, self.labels
        self.set_font(FONT, "", 10)
        code = f"{labels.customer_code} {context.customer_code}" if context.customer_code else ""
        to = f"{labels.to}{labels.colon}{context.customer_name}{labels.aside(code)}"
        self.cell(0, 5.5, to, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if context.addressee:
            who = f"{context.addressee}{labels.aside(context.addressee_role)}"
            attention = f"{labels.attention}{labels.colon}{who}"
            self.cell(0, 5.5, attention, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def title_line(self, text: str) -> None:
        self.set_font(FONT, "B", 19)
        self.cell(0, 10, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def paragraphs(self, text: str, size: float = BODY_SIZE, line: float = BODY_LINE) -> None:
        """Body text: a blank line is a paragraph gap; long lines wrap by Chinese rules."""
        self.set_font(FONT, "", size)
        for raw in text.split("\n"):
            if not raw.strip():
                self.ln(line * 0.4)
                continue
            for piece in wrap_text(self, raw, self.epw):
                self.cell(0, line, piece, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def section_heading(self, text: str) -> None:
        self.ln(3)
        self.set_font(FONT, "B", 11)
        self.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def invoice_table(self, items: Sequence[OpenItem]) -> None:
        """The invoices with a totals row; the heading row repeats on every page it spans."""
        labels, currency = self.labels, self.context.currency
        with_fee = any(item.late_fee > 0 for item in items)
        headings = [
            labels.invoice,
            labels.order,
            labels.issued,
            labels.due,
            labels.amount,
            labels.open_amount,
            labels.days,
        ]
        widths = [24.0, 22.0, 17.0, 17.0, 22.0, 22.0, 14.0]
        aligns = ["LEFT", "LEFT", "CENTER", "CENTER", "RIGHT", "RIGHT", "RIGHT"]
        if with_fee:
            headings.append(labels.late_fee)
            widths.append(19.0)
            aligns.append("RIGHT")
        self.set_font(FONT, "", TABLE_SIZE)
        self.set_draw_color(*RULE)
        heading_style = FontFace(family=FONT, emphasis="BOLD", fill_color=HEAD_FILL)
        with self.table(
            col_widths=widths,
            text_align=tuple(aligns),
            headings_style=heading_style,
            borders_layout=TableBordersLayout.ALL,
            line_height=TABLE_SIZE * 0.55,
            padding=(1.0, 1.2, 1.0, 1.2),
            wrapmode=WrapMode.CHAR if self.context.language == "zh" else WrapMode.WORD,
            repeat_headings=1,
            width=self.epw,
        ) as table:
            heading = table.row()
            for text in headings:
                heading.cell(text, align="CENTER")
            for item in items:
                row = table.row()
                row.cell(item.invoice_number)
                row.cell(item.order_number)
                row.cell(format_date(item.issue_date))
                row.cell(format_date(item.due_date))
                row.cell(money_text(item.amount, currency))
                row.cell(money_text(item.open_amount, currency))
                row.cell(str(item.days_overdue) if item.days_overdue > 0 else "-")
                if with_fee:
                    row.cell(money_text(item.late_fee, currency) if item.late_fee else "-")
            total_style = FontFace(family=FONT, emphasis="BOLD", fill_color=TOTAL_FILL)
            totals = table.row(style=total_style)
            totals.cell(labels.total.format(count=len(items)), colspan=4, align="LEFT")
            totals.cell(money_text(sum(item.amount for item in items), currency))
            totals.cell(money_text(sum(item.open_amount for item in items), currency))
            totals.cell("")
            if with_fee:
                totals.cell(money_text(sum(item.late_fee for item in items), currency))
        self.ln(3)

    def settlement(
        self, lines: Sequence[tuple[str, str, bool]], payment: PaymentInstructions | None
    ) -> None:
        """Bank details in a shaded box on the left, the amounts due on the right; one page."""
        labels = self.labels
        rows: list[tuple[str, list[str]]] = []
        box_w = self.epw * (0.55 if self.context.language == "zh" else 0.6)
        self.set_font(FONT, "", 9.5)
        names = (labels.account_name, labels.bank_name, labels.account_number, labels.note)
        label_w = max(self.get_string_width(name) for name in names) + 4
        value_w = box_w - label_w - 8
        if payment is not None and payment.account_number:
            for label, value in (
                (labels.account_name, payment.account_name or self.context.company_name),
                (labels.bank_name, payment.bank_name),
                (labels.account_number, payment.account_number),
                (labels.note, payment.note),
            ):
                if value:
                    rows.append((label, wrap_text(self, value, value_w)))
        line_h = 5.6
        box_h = 10 + line_h * sum(len(wrapped) for _, wrapped in rows) + 2 if rows else 0.0
        sums_h = 6.5 * len(lines)
        height = max(box_h, sums_h)
        if self.get_y() + height + 4 > self.page_break_trigger:
            self.add_page()
        top = self.get_y() + 2
        if rows:
            self.set_fill_color(*TOTAL_FILL)
            self.rect(self.l_margin, top, box_w, box_h, style="DF")
            self.set_xy(self.l_margin + 4, top + 2.5)
            self.set_font(FONT, "B", 10)
            self.cell(box_w - 8, 6, labels.bank_heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_y(top + 9.5)
            for label, wrapped in rows:
                for i, piece in enumerate(wrapped):
                    self.set_x(self.l_margin + 4)
                    self.set_font(FONT, "", 9.5)
                    self.set_text_color(*GREY)
                    self.cell(label_w, line_h, label if i == 0 else "")
                    self.set_text_color(*INK)
                    self.cell(value_w, line_h, piece, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        right = self.l_margin + (box_w + 4 if rows else self.epw * 0.45)
        width = self.w - self.r_margin - right
        y = top + (2.5 if rows else 0)
        for label, value, bold in lines:
            self.set_font(FONT, "B" if bold else "", 10)
            self.set_xy(right, y)
            self.cell(width * 0.55, 6.5, label, align="R")
            self.cell(width * 0.45, 6.5, value, align="R")
            y += 6.5
        self.set_y(top + height + 2)

    def signature_block(self, text: str) -> None:
        """A signing line, then the closing lines, right of centre; kept on one page."""
        lines = [line for line in text.split("\n") if line.strip()]
        height = 16 + 6 * len(lines)
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
        self.ln(4)
        left = self.l_margin + self.epw * 0.52
        width = self.w - self.r_margin - left
        self.set_font(FONT, "", 9)
        self.set_text_color(*GREY)
        self.set_x(left)
        label = f"{self.labels.sign_here}{self.labels.colon}"
        self.cell(width, 5, label)
        y = self.get_y() + 5
        self.set_draw_color(*INK)
        self.line(left + self.get_string_width(label) + 2, y, left + width, y)
        self.set_draw_color(*RULE)
        self.set_text_color(*INK)
        self.ln(7)
        self.set_font(FONT, "", BODY_SIZE)
        for line in lines:
            self.set_x(left)
            self.cell(width, 6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def to_bytes(self) -> bytes:
        return bytes(self.output(output_producer_class=EmbeddingOutputProducer))


def wrap_text(pdf: FPDF, text: str, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` in the current font.

    Chinese breaks between any two characters, but never before a closing mark (，。)) nor after
    an opening one; Latin words, numbers, amounts and dates stay whole unless wider than a line;
    spaces at a break vanish.
    """
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if not token.isspace() and pdf.get_string_width(token) > width:
            tokens.extend(_cut(pdf, token, width))
        else:
            tokens.append(token)
    lines: list[list[str]] = [[]]
    used = 0.0
    for token in tokens:
        w = pdf.get_string_width(token)
        line = lines[-1]
        if used + w <= width + 0.01:
            if not (token.isspace() and not line and len(lines) > 1):
                line.append(token)
                used += w
            continue
        if token.isspace():
            lines.append([])
            used = 0.0
            continue
        carry: list[str] = []
        if token[0] in _NO_LINE_START and len(line) > 1 and not line[-1].isspace():
            carry.append(line.pop())  # the closing mark takes the character before it along
        while len(line) > 1 and line[-1][-1] in _NO_LINE_END:
            carry.insert(0, line.pop())
        new = [*carry, token]
        if sum(pdf.get_string_width(part) for part in new) > width:
            line.extend(carry)
            new = [token]
        while line and line[-1].isspace():
            line.pop()
        lines.append(new)
        used = sum(pdf.get_string_width(part) for part in new)
    return ["".join(line).rstrip() for line in lines]


def _cut(pdf: FPDF, token: str, width: float) -> list[str]:
    """A run too wide for one line, cut by characters into pieces that fit."""
    chunks: list[str] = []
    chunk = ""
    for char in token:
        if chunk and pdf.get_string_width(chunk + char) > width:
            chunks.append(chunk)
            chunk = ""
        chunk += char
    if chunk:
        chunks.append(chunk)
    return chunks
