"""Aging reports rendered for people and programs: JSON, CSV, XLSX and a terminal table."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from huikuan.core.dates import format_date
from huikuan.core.money import decimal_string, format_amount, to_decimal
from huikuan.ledger.aging import AgingReport

AMOUNT_FORMAT = "#,##0.00"


def to_json(report: AgingReport) -> dict[str, Any]:
    """The documented JSON shape; amounts as decimal strings with two places."""
    return {
        "as_of": format_date(report.as_of),
        "currency": report.currency,
        "by": report.by.value,
        "buckets": list(report.bucket_names),
        "rows": [
            {
                "key": row.key,
                "name": row.name,
                "total": decimal_string(row.total),
                "buckets": {
                    name: decimal_string(row.buckets[name]) for name in report.bucket_names
                },
            }
            for row in report.rows
        ],
        "totals": {
            "total": decimal_string(report.total),
            "buckets": {
                name: decimal_string(report.bucket_totals[name]) for name in report.bucket_names
            },
        },
        "dso_days": report.dso_days,
        "row_count": report.row_count,
    }


def _header(report: AgingReport) -> list[str]:
    return ["key", "name", "total", *report.bucket_names]


def to_csv(report: AgingReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_header(report))
    for row in report.rows:
        writer.writerow(
            [row.key, row.name, decimal_string(row.total)]
            + [decimal_string(row.buckets[n]) for n in report.bucket_names]
        )
    writer.writerow(
        ["", "合计", decimal_string(report.total)]
        + [decimal_string(report.bucket_totals[n]) for n in report.bucket_names]
    )
    return out.getvalue()


def write_xlsx(report: AgingReport, path: Path) -> None:
    """A workbook a finance person can reopen: real numbers (not text) with a #,##0.00 format."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = f"账龄 {format_date(report.as_of)}"
    sheet.append([f"应收账款账龄分析 截至 {format_date(report.as_of)} ({report.currency})"])
    sheet.append(_header(report))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append(
            [row.key, row.name, to_decimal(row.total)]
            + [to_decimal(row.buckets[n]) for n in report.bucket_names]
        )
    sheet.append(
        ["", "合计", to_decimal(report.total)]
        + [to_decimal(report.bucket_totals[n]) for n in report.bucket_names]
    )
    for column in sheet.iter_cols(min_row=3, min_col=3):
        for cell in column:
            cell.number_format = AMOUNT_FORMAT
    workbook.save(path)


def to_table(report: AgingReport, *, limit: int | None = None) -> str:
    """A plain-text table for the terminal, amounts as ¥1,234.56."""
    header = ["", *report.bucket_names, "total"]
    lines = [
        [f"{r.key} {r.name}".strip()]
        + [format_amount(r.buckets[n]) for n in report.bucket_names]
        + [format_amount(r.total)]
        for r in (report.rows if limit is None else report.rows[:limit])
    ]
    lines.append(
        ["合计 TOTAL"]
        + [format_amount(report.bucket_totals[n]) for n in report.bucket_names]
        + [format_amount(report.total)]
    )
    widths = [max(_width(x) for x in col) for col in zip(header, *lines, strict=False)]
    rendered = [_render(header, widths)] + [_render(line, widths) for line in lines]
    title = f"账龄 aging as of {format_date(report.as_of)} ({report.currency})"
    if report.dso_days is not None:
        title += f"   DSO {report.dso_days} 天/days"
    hidden = len(report.rows) - limit if limit is not None and len(report.rows) > limit else 0
    footer = [f"... {hidden} more rows (use --format csv/xlsx/json for all)"] if hidden else []
    return "\n".join([title, *rendered, *footer])


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _render(cells: list[str], widths: list[int]) -> str:
    first = cells[0] + " " * (widths[0] - _width(cells[0]))
    rest = [" " * (w - _width(c)) + c for c, w in zip(cells[1:], widths[1:], strict=True)]
    return "  ".join([first, *rest])
