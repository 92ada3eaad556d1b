"""Lists as Excel downloads: amounts as numbers with #,##0.00, dates as dates."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.responses import StreamingResponse
from openpyxl import Workbook

from huikuan.ledger.exports import xlsx_cell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(
    title: str, headers: Sequence[str], rows: Iterable[list[Any]], filename: str
) -> StreamingResponse:
    """Cells marked ``exports.Money`` become numbers in yuan; dates become date cells."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(list(headers))
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return StreamingResponse(
        buffer,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
