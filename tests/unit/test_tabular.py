"""Reading the files people bring: encodings, delimiters, Excel cells, column names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from huikuan.core.errors import ImportRejected
from huikuan.core.tabular import FieldSpec, map_columns, parse_overrides, read_table

HEADER = "发票号,客户编码,金额\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_chinese_csv_in_every_common_encoding(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, "f.csv", (HEADER + 'INV-1,C001,"1,234.50"\n').encode(encoding))
    table = read_table(path)
    assert table.headers == ["发票号", "客户编码", "金额"]
    assert table.rows == [(2, ["INV-1", "C001", "1,234.50"])]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_recognised(tmp_path: Path, delimiter: str) -> None:
    text = f"发票号{delimiter}金额\nINV-1{delimiter}12.30\nINV-2{delimiter}45\n"
    table = read_table(write(tmp_path, "f.csv", text.encode("gbk")))
    assert table.rows[1] == (3, ["INV-2", "45"])


def test_blank_rows_are_skipped_but_row_numbers_stay_true(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "f.csv", (HEADER + "\n,,\nINV-9,C1,5\n").encode()))
    assert table.rows == [(4, ["INV-9", "C1", "5"])]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (HEADER.encode(), "no data rows"),
        (b"\xff\xfe\x00\x00garbage\x80\x81", "encoding"),
    ],
)
def test_files_without_usable_rows_are_refused_clearly(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    with pytest.raises(ImportRejected) as excinfo:
        read_table(write(tmp_path, "f.csv", data))
    assert reason in str(excinfo.value.errors[0])


def test_old_xls_and_missing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as old:
        read_table(write(tmp_path, "f.xls", b"whatever"))
    assert "save as .xlsx or CSV" in str(old.value.errors[0])
    with pytest.raises(ImportRejected) as missing:
        read_table(tmp_path / "missing.csv")
    assert "no such file" in str(missing.value.errors[0])


def test_xlsx_cells_keep_their_types(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["发票号", "开票日期", "金额", "客户编码"])
    sheet.append(["INV-1", dt.datetime(2024, 3, 5), 1234.5, 1001])
    sheet.append([None, None, None, None])
    sheet.append(["INV-2", 45356, "８８．００", "C2"])
    path = tmp_path / "f.xlsx"
    workbook.save(path)
    table = read_table(path)
    assert table.rows[0] == (2, ["INV-1", dt.datetime(2024, 3, 5), 1234.5, 1001])
    assert table.rows[1][0] == 4


FIELDS = [
    FieldSpec("number", True, ("发票号", "发票号码")),
    FieldSpec("amount", True, ("金额",)),
    FieldSpec("order_number", False, ("订单号",)),
]


def test_columns_are_found_by_chinese_or_english_names_ignoring_spacing() -> None:
    assert map_columns(["发票 号码", "Amount", "备注"], FIELDS, {}) == {"number": 0, "amount": 1}


def test_map_overrides_a_column_name() -> None:
    assert map_columns(["单据编号", "金额"], FIELDS, {"number": "单据编号"}) == {
        "number": 0,
        "amount": 1,
    }


def test_every_mapping_problem_is_reported_at_once() -> None:
    with pytest.raises(ImportRejected) as excinfo:
        map_columns(["单据编号", "备注"], FIELDS, {"colour": "备注", "order_number": "订单"})
    reasons = " ".join(str(e) for e in excinfo.value.errors)
    assert "unknown field colour" in reasons
    assert "no column '订单'" in reasons
    assert "missing required column number" in reasons
    assert "missing required column amount" in reasons
    assert "单据编号" in reasons  # the headers found are listed


def test_map_options_must_be_field_equals_column() -> None:
    assert parse_overrides(["number = 单据编号"]) == {"number": "单据编号"}
    with pytest.raises(ImportRejected) as excinfo:
        parse_overrides(["number"])
    assert "field=column" in str(excinfo.value.errors[0])
