"""Credit lists as workbooks a finance person re-opens in Excel: amounts as numbers."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from huikuan.credit.review import REASON_LABELS

MONEY_FORMAT = "#,##0.00"


def review_workbook(rows: list[dict[str, object]], target: Path) -> None:
    """The review list: one row per customer, reasons in Chinese, amounts in yuan."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "信用复评"
    sheet.append(["客户编码", "客户名称", "原因", "现等级", "按今日数据", "额度", "占用",
                  "复评日期", "最长逾期天数", "新等级", "新额度"])  # fmt: skip
    for r in rows:
        reasons = "、".join(REASON_LABELS[c][0] for c in r["reasons"])  # type: ignore[attr-defined]
        sheet.append([
            r["customer"], r["name"], reasons, r["grade"], r["grade_now"],
            _yuan(r["limit"]), _yuan(r["exposure"]), r["review_on"], r["oldest_overdue_days"],
            r.get("new_grade"), _yuan(r.get("new_limit")),
        ])  # fmt: skip
    for column in ("F", "G", "K"):
        for cell in sheet[column][1:]:
            cell.number_format = MONEY_FORMAT
    book.save(target)


def _yuan(fen: object) -> float | None:
    """Excel keeps numbers as doubles; fen / 100 is exact to the fen for any realistic amount."""
    return None if fen is None else int(fen) / 100  # type: ignore[call-overload]
