"""Letters as PDF: 催款函, final notice, lawyer's letter, notice of suspended supplies.

The page: letterhead (company, reference, date), addressee, title (the template's subject), the
rendered text, the invoice table with its totals row (a late-fee column only when a fee exists),
the amounts due and the pay-by date, the bank details, and a signing line with the template's
closing lines. A4, the Chinese font embedded, "第 1 页 / 共 2 页" (or "Page 1 of 2") below.
"""

from __future__ import annotations

from huikuan.channels.context import MessageContext
from huikuan.channels.fonts import PdfFonts
from huikuan.channels.pdf import DocumentPDF
from huikuan.channels.templates import Template, money_text, render, render_signature
from huikuan.core.dates import format_date


def render_letter_pdf(
    template: Template, context: MessageContext, *, fonts: PdfFonts | None = None
) -> bytes:
    """The letter as PDF bytes. Raises ``InvalidInput`` for a broken template and
    ``FontMissing`` when no Chinese font is installed."""
    message = render(template, context, in_pdf=True)
    signature = render_signature(template, context)
    pdf = DocumentPDF(context, message.subject, fonts)
    labels = pdf.labels
    pdf.letterhead()
    pdf.addressee_block()
    pdf.title_line(message.subject)
    pdf.paragraphs(message.text)
    currency = context.currency
    if context.items:
        pdf.section_heading(labels.details)
        pdf.invoice_table(context.items)
    lines: list[tuple[str, str, bool]] = [
        (labels.total_open, money_text(context.total_open, currency), False),
    ]
    if context.total_overdue:
        lines.append((labels.total_overdue, money_text(context.total_overdue, currency), False))
    if context.total_late_fee > 0:
        lines.append((labels.total_late_fee, money_text(context.total_late_fee, currency), False))
        total_due = context.total_open + context.total_late_fee
        lines.append((labels.total_due, money_text(total_due, currency), True))
    if context.pay_by:
        lines.append((labels.pay_by, format_date(context.pay_by), True))
    pdf.settlement(lines, context.payment)
    if signature:
        pdf.signature_block(signature)
    return pdf.to_bytes()
