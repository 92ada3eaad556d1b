"""PDF letters and statements: Chinese that survives the round trip, fonts embedded, pages drawn.

Each letter is rendered, its text extracted again with PDFium (what a reader's copy-paste or a
court's search sees), its font dictionaries inspected, and its first page drawn to PNG under
``test-artifacts/documents/`` for a person to look at.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont
from fpdf.enums import XPos, YPos
from openpyxl import load_workbook

from huikuan.channels import fonts as fonts_module
from huikuan.channels.context import MessageContext, OpenItem
from huikuan.channels.fonts import FontMissing, find_fonts
from huikuan.channels.letters import render_letter_pdf
from huikuan.channels.pdf import FONT, DocumentPDF
from huikuan.channels.statement import render_statement_pdf, render_statement_xlsx
from huikuan.channels.templates import default_template, money_text, sample_context
from huikuan.core.money import to_decimal

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"
LETTERS = ["dunning_letter", "final_notice", "lawyer_letter", "stop_supply_notice"]
TITLES = {
    "dunning_letter": "催款函",
    "final_notice": "付款最后通知函",
    "lawyer_letter": "律师函",
    "stop_supply_notice": "暂停供货通知函",
}


def page_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def flat(text: str) -> str:
    """The text without line breaks (a wrapped sentence reads as one)."""
    return re.sub(r"[\r\n]+", "", text)


def save_first_page(data: bytes, name: str) -> Path:
    """Draw page 1 at 144 dpi, save it as PNG, and check the body is not blank."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(data)
    try:
        image = document[0].render(scale=2).to_pil().convert("L")
    finally:
        document.close()
    path = ARTIFACTS / f"{name}.png"
    image.save(path)
    width, height = image.size
    body = image.crop(
        (int(width * 0.08), int(height * 0.25), int(width * 0.92), int(height * 0.75))
    )
    histogram = body.histogram()
    dark = sum(histogram[:128])
    assert dark / (body.size[0] * body.size[1]) > 0.01, f"{name}: the page body is blank"
    return path


def font_report(data: bytes) -> tuple[list[bytes], int, int]:
    """Base font names, font descriptors, and descriptors that carry an embedded font file."""
    names = re.findall(rb"/BaseFont\s*/([^\s/>]+)", data)
    descriptors = len(re.findall(rb"/Type\s*/FontDescriptor", data))
    embedded = len(re.findall(rb"/FontFile[23]?\s+\d+\s+0\s+R", data))
    return names, descriptors, embedded


def assert_fonts_embedded(data: bytes) -> None:
    names, descriptors, embedded = font_report(data)
    assert names, "no fonts at all"
    assert descriptors >= 1 and embedded == descriptors, "a font is used without its glyphs"
    assert all(b"+" in name for name in names), names  # subset fonts carry an ABCDEF+ prefix
    assert b"STSong" not in data and b"Helvetica" not in data and b"Times-Roman" not in data


def big_context(count: int = 120) -> MessageContext:
    base = sample_context("zh")
    items = tuple(
        OpenItem(
            invoice_number=f"FP-2026-{i:05d}",
            order_number=f"SO-2026-{i:04d}",
            issue_date=dt.date(2026, 1, 1) + dt.timedelta(days=i),
            due_date=dt.date(2026, 2, 15) + dt.timedelta(days=i),
            amount=1_000_000 + i * 12_345 + 7,
            open_amount=900_000 + i * 11_111 + 3,
            days_overdue=max(0, 290 - i * 2),
            late_fee=(i % 7) * 137,
        )
        for i in range(1, count + 1)
    )
    return dataclasses.replace(
        base,
        items=items,
        total_open=sum(item.open_amount for item in items),
        total_overdue=sum(item.open_amount for item in items if item.days_overdue > 0),
        total_late_fee=sum(item.late_fee for item in items),
    )


@pytest.mark.parametrize("code", LETTERS)
def test_chinese_letter_round_trips_embeds_its_font_and_draws(code: str) -> None:
    context = sample_context("zh")
    data = render_letter_pdf(default_template(code, "zh"), context)
    assert data.startswith(b"%PDF-")
    assert len(data) < 500_000

    pages = page_texts(data)
    text = "\n".join(pages)
    assert "示例贸易有限公司" in text
    assert "杭州顺达建材有限公司" in text
    assert TITLES[code] in text
    assert "¥1,234,567.89" in text
    for number in ("FP-2026-08153", "FP-2026-09031", "FP-2026-10207"):
        assert number in text
    assert "违约金" in text and "¥25,527.78" in text  # the fee column and total
    assert "2026-12-12" in text  # pay-by
    assert "1202 0210 0900 1234 567" in text  # bank details
    assert "王建国" in text
    for i, page in enumerate(pages, start=1):
        assert f"第 {i} 页 / 共 {len(pages)} 页" in page

    assert_fonts_embedded(data)
    save_first_page(data, f"{code}-zh")


@pytest.mark.parametrize("code", LETTERS)
def test_english_letter(code: str) -> None:
    context = sample_context("en")
    data = render_letter_pdf(default_template(code, "en"), context)
    pages = page_texts(data)
    text = "\n".join(pages)
    assert "Example Trading Co., Ltd." in text
    assert "Hangzhou Shunda Building Materials Co., Ltd." in text
    assert "¥1,234,567.89" in text and "FP-2026-09031" in text
    assert "Page 1 of" in pages[0]
    assert_fonts_embedded(data)
    save_first_page(data, f"{code}-en")


def test_letter_without_fees_has_no_fee_column() -> None:
    context = sample_context("zh")
    items = tuple(dataclasses.replace(item, late_fee=0) for item in context.items)
    plain = dataclasses.replace(context, items=items, total_late_fee=0)
    text = flat(
        "\n".join(page_texts(render_letter_pdf(default_template("dunning_letter", "zh"), plain)))
    )
    assert "违约金" not in text
    assert "¥1,234,567.89" in text


def test_rendering_is_repeatable() -> None:
    template, context = default_template("dunning_letter", "zh"), sample_context("zh")
    assert render_letter_pdf(template, context) == render_letter_pdf(template, context)


def test_same_letter_same_bytes_whatever_the_process_rendered_before() -> None:
    """The font is read once per process and glyphs are cached across documents: none of that
    may leak into a document. Nor may the process: a fresh one gives the same bytes."""
    template, context = default_template("dunning_letter", "zh"), sample_context("zh")
    first = render_letter_pdf(template, context)
    other = dataclasses.replace(context, customer_name="苏州吴中纺织印染厂", addressee="刘赟")
    render_letter_pdf(template, other)
    render_statement_pdf(other)
    render_letter_pdf(default_template("lawyer_letter", "en"), sample_context("en"))
    assert render_letter_pdf(template, context) == first

    script = (
        "import sys\n"
        "from huikuan.channels.letters import render_letter_pdf\n"
        "from huikuan.channels.templates import default_template, sample_context\n"
        "data = render_letter_pdf(default_template('dunning_letter', 'zh'), sample_context('zh'))\n"
        "sys.stdout.buffer.write(data)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    fresh = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, env=env
    ).stdout
    assert fresh == first


def test_letters_rendered_in_threads_match_one_at_a_time() -> None:
    """The web app renders letters in worker threads; the shared font must not mix them up."""
    jobs = [(code, language) for code in LETTERS for language in ("zh", "en")]

    def render(job: tuple[str, str]) -> bytes:
        code, language = job
        return render_letter_pdf(default_template(code, language), sample_context(language))

    expected = [render(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(render, jobs)) == expected


def embedded_font_programs(data: bytes) -> list[TTFont]:
    """The TrueType programs (FontFile2 streams) embedded in the PDF."""
    programs = []
    for match in re.finditer(rb"/FontFile2 (\d+) 0 R", data):
        header = re.search(
            rb"\n" + match.group(1) + rb" 0 obj\n<<(.*?)>>\nstream\n", data, re.DOTALL
        )
        length = re.search(rb"/Length (\d+)", header.group(1)) if header else None
        assert header is not None and length is not None
        stream = data[header.end() : header.end() + int(length.group(1))]
        if b"/FlateDecode" in header.group(1):
            stream = zlib.decompress(stream)
        programs.append(TTFont(BytesIO(stream)))
    return programs


@pytest.mark.parametrize("rare", ["堃", "𠀋"], ids=["outside-gb2312", "outside-bmp"])
def test_rare_character_in_a_name_is_embedded_and_drawn(rare: str) -> None:
    """Customers' and contacts' names use characters no common set holds (堃 is in GBK only,
    𠀋 beyond the Basic Multilingual Plane): each must come out as its glyph, never a box."""
    with pytest.raises(UnicodeEncodeError):
        rare.encode("gb2312")
    context = dataclasses.replace(
        sample_context("zh"), customer_name=f"南昌洪都{rare}汽车配件厂", addressee=f"周{rare}"
    )
    data = render_letter_pdf(default_template("dunning_letter", "zh"), context)
    text = "\n".join(page_texts(data))
    assert f"南昌洪都{rare}汽车配件厂" in text and f"周{rare}" in text
    outlines = [
        program["glyf"][program.getBestCmap()[ord(rare)]].numberOfContours
        for program in embedded_font_programs(data)
        if ord(rare) in program.getBestCmap()
    ]
    assert outlines and all(contours > 0 for contours in outlines)
    assert_fonts_embedded(data)


def test_characters_sharing_one_glyph() -> None:
    """⼀ (the Kangxi radical, as text copied from other PDFs brings it) is drawn with 一's
    glyph: both characters, one glyph in the embedded font, both extracted."""
    context = dataclasses.replace(sample_context("zh"), addressee="王⼀一")
    data = render_letter_pdf(default_template("dunning_letter", "zh"), context)
    assert "王⼀一" in "\n".join(page_texts(data))
    assert_fonts_embedded(data)


def test_unbreakable_blocks_keep_their_glyphs() -> None:
    """fpdf2 copies the document (fonts included) for unbreakable() and offset_rendering()."""
    pdf = DocumentPDF(sample_context("zh"), "测试")
    pdf.set_font(FONT, "", 11)
    with pdf.unbreakable() as block:
        block.cell(0, 6, "不可分割的一段", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    with pdf.offset_rendering() as trial:
        trial.multi_cell(0, 6, "试排" * 80)
    pdf.cell(0, 6, "之后的一行")
    text = flat("\n".join(page_texts(pdf.to_bytes())))
    assert "不可分割的一段" in text and "之后的一行" in text


def test_long_letter_spans_pages_with_heading_repeated_and_exact_totals() -> None:
    context = big_context(120)
    data = render_letter_pdf(default_template("dunning_letter", "zh"), context)
    pages = page_texts(data)
    assert len(pages) >= 3
    table_pages = [page for page in pages if "FP-2026-" in page]
    assert len(table_pages) >= 3
    for page in table_pages:
        assert "发票号" in page and "未付金额" in page  # the heading row on every page it spans
    for i, page in enumerate(pages, start=1):
        assert f"第 {i} 页 / 共 {len(pages)} 页" in page
    for page in pages[1:]:
        assert "催款函（续）" in page  # running head from page 2
    text = "\n".join(pages)
    for item in context.items:
        assert text.count(item.invoice_number) == 1
    assert "合计（120 张）" in text
    assert money_text(sum(item.amount for item in context.items)) in text
    assert money_text(sum(item.open_amount for item in context.items)) in text
    assert money_text(sum(item.late_fee for item in context.items)) in text
    assert money_text(context.total_open + context.total_late_fee) in text
    assert len(data) < 500_000
    assert_fonts_embedded(data)
    save_first_page(data, "dunning_letter-120-invoices")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_statement_pdf(language: str) -> None:
    context = sample_context(language)
    data = render_statement_pdf(context)
    text = "\n".join(page_texts(data))
    assert ("应收账款对账单" if language == "zh" else "Statement of open items") in text
    assert context.customer_name in text and context.company_name in text
    assert "¥1,234,567.89" in text and "FP-2026-10207" in text
    assert "2026-12-02" in text
    assert_fonts_embedded(data)
    save_first_page(data, f"statement-{language}")


@pytest.mark.parametrize("context", [sample_context("zh"), big_context(120)], ids=["3", "120"])
def test_statement_xlsx_amounts_to_the_fen(context: MessageContext) -> None:
    workbook = load_workbook(BytesIO(render_statement_xlsx(context)))
    sheet = workbook.active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows()]
    assert "应收账款对账单" in str(rows[0][0].value)
    header_values = {str(row[0].value): row[1].value for row in rows[1:6]}
    assert header_values["客户"] == context.customer_name
    assert header_values["截至日期"].date() == context.as_of
    head = next(i for i, row in enumerate(rows) if row[0].value == "发票号")
    assert sheet.freeze_panes == f"A{head + 2}"
    body = rows[head + 1 : head + 1 + len(context.items)]
    for row, item in zip(body, context.items, strict=True):
        number, order, issued, due, amount, open_amount, days, fee = (cell.value for cell in row)
        assert number == item.invoice_number and order == item.order_number
        assert isinstance(issued, dt.datetime) and issued.date() == item.issue_date
        assert isinstance(due, dt.datetime) and due.date() == item.due_date
        assert row[2].number_format == "yyyy-mm-dd"
        assert Decimal(str(amount)) == to_decimal(item.amount)
        assert Decimal(str(open_amount)) == to_decimal(item.open_amount)
        assert Decimal(str(fee)) == to_decimal(item.late_fee)
        assert row[4].number_format == "#,##0.00"
        assert days == item.days_overdue
    totals = rows[head + 1 + len(context.items)]
    assert "合计" in str(totals[0].value)
    assert Decimal(str(totals[4].value)) == to_decimal(sum(item.amount for item in context.items))
    assert Decimal(str(totals[5].value)) == to_decimal(context.total_open)
    assert Decimal(str(totals[7].value)) == to_decimal(context.total_late_fee)


def test_font_override_and_missing_font(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    installed = find_fonts({})
    assert installed.regular.path.is_file()

    sans = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    if sans.is_file():
        chosen = find_fonts({"HUIKUAN_PDF_FONT": str(sans)})
        assert chosen.regular.index == 2  # the Simplified Chinese face of the collection
        assert find_fonts({"HUIKUAN_PDF_FONT": f"{sans}#3"}).regular.index == 3

    with pytest.raises(FontMissing, match="HUIKUAN_PDF_FONT"):
        find_fonts({"HUIKUAN_PDF_FONT": str(tmp_path / "none.ttf")})

    latin = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if latin.is_file():
        with pytest.raises(FontMissing, match="no Chinese glyphs"):
            find_fonts({"HUIKUAN_PDF_FONT": str(latin)})

    monkeypatch.setattr(fonts_module, "_KNOWN_FONTS", ((str(tmp_path / "x.ttc"), None),))
    fonts_module._find_fonts.cache_clear()
    try:
        with pytest.raises(FontMissing, match="fonts-noto-cjk"):
            find_fonts({})
    finally:
        monkeypatch.undo()
        fonts_module._find_fonts.cache_clear()
