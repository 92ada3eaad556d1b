"""Reading tables that people export from ERPs, banks and spreadsheets: CSV or XLSX.

CSV may be UTF-8 (with or without BOM) or GBK/GB18030, as Chinese banks and ERPs write it;
the delimiter may be a comma, semicolon, tab or bar. Columns are found by name, in Chinese or
English, with ``--map field=column`` for anything else. Row numbers are those a person sees
in the spreadsheet: the header is row 1.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from huikuan.core.errors import ImportRejected, RowError

XLSX_SUFFIXES = {".xlsx", ".xlsm"}


@dataclass(frozen=True, slots=True)
class Table:
    headers: list[str]
    rows: list[tuple[int, list[object]]]  # (row number in the file, cells)
    sha256: str = ""  # of the file's bytes: the audit trail records which file was imported


@dataclass(slots=True)
class ImportResult:
    """What an import did: rows created, updated or found unchanged (a re-import)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    applied: int = 0  # payments: fen applied to invoices
    unapplied: int = 0  # payments: fen left as credit on the customer


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field an import understands, with the column names it is known by."""

    name: str
    required: bool = False
    synonyms: tuple[str, ...] = field(default=())


def file_error(reason: str, column: str = "") -> ImportRejected:
    return ImportRejected([RowError(row=0, column=column, reason=reason)])


def read_table(path: Path) -> Table:
    """Read the first sheet of an XLSX file or a CSV file into a header and data rows."""
    if not path.exists():
        raise file_error(f"文件不存在 {path} / no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise file_error(
            "不支持旧版 .xls，请另存为 .xlsx 或 CSV / old .xls is not supported: save as .xlsx or CSV"
        )
    raw_rows = xlsx_rows(path) if suffix in XLSX_SUFFIXES else _csv_rows(path.read_bytes())
    rows = [(n, cells) for n, cells in raw_rows if any(cell_text(c) for c in cells)]
    if not rows:
        raise file_error("文件为空 / the file is empty")
    (_, header_cells), data = rows[0], rows[1:]
    headers = [cell_text(c) for c in header_cells]
    if not data:
        raise file_error("文件没有数据行 / the file has no data rows")
    return Table(headers, data, hashlib.sha256(path.read_bytes()).hexdigest())


def xlsx_rows(source: Path | IO[bytes]) -> list[tuple[int, list[object]]]:
    """Every row of the first sheet (a file or an upload's bytes), numbered as Excel shows them."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a broken or foreign file
        raise file_error(f"无法读取 Excel 文件 / cannot read the Excel file: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        return [
            (i, list(values)) for i, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not) first, then GB18030, which covers GBK and GB2312 exports."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise file_error(
        "文件编码无法识别，请保存为 UTF-8 或 GBK / unknown encoding: save as UTF-8 or GBK"
    )


def _csv_rows(data: bytes) -> list[tuple[int, list[object]]]:
    return [(number, list(cells)) for number, cells, _ in csv_records(data)]


def csv_records(data: bytes) -> list[tuple[int, list[str], str]]:
    """Every record of a CSV file: its number, its cells and the text it was read from.

    The source text is kept for files whose rows are evidence (bank statements); a quoted cell
    may span several lines, so a record's text is every line the reader consumed for it.
    """
    text = decode(data)
    if "\x00" in text:
        raise file_error("这不是文本文件（CSV）/ this is not a text (CSV) file")
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    lines = io.StringIO(text, newline="").readlines()  # split exactly as the reader splits
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    records, consumed = [], 0
    for number, cells in enumerate(reader, start=1):
        source = "".join(lines[consumed : reader.line_num]).rstrip("\r\n")
        consumed = reader.line_num
        records.append((number, cells, source))
    return records


def cell_text(value: object) -> str:
    """A cell as text: numbers that Excel stored as 1001.0 come back as ``1001``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return str(value).strip()


def _normalise(header: str) -> str:
    return re.sub(r"[\s_\-()（）:：*]", "", header).lower()


def map_columns(
    headers: Sequence[str], fields: Sequence[FieldSpec], overrides: dict[str, str]
) -> dict[str, int]:
    """Which column holds each field: ``--map`` overrides first, then known names.

    Every problem is reported together: unknown fields in ``--map``, mapped columns that are
    not in the file, required fields with no column.
    """
    errors: list[RowError] = []
    known = {f.name for f in fields}
    positions = {_normalise(h): i for i, h in reversed(list(enumerate(headers))) if h}
    found = ", ".join(h for h in headers if h)
    mapping: dict[str, int] = {}
    for name, column in overrides.items():
        if name not in known:
            errors.append(
                RowError(
                    1,
                    name,
                    f"未知字段 {name}，可用: {', '.join(sorted(known))} / unknown field {name}",
                )
            )
        elif _normalise(column) not in positions:
            errors.append(
                RowError(
                    1,
                    column,
                    f"文件中没有列 '{column}'（现有: {found}）/ no column '{column}' in the file (found: {found})",
                )
            )
        else:
            mapping[name] = positions[_normalise(column)]
    for spec in fields:
        if spec.name in mapping:
            continue
        for candidate in (spec.name, *spec.synonyms):
            if _normalise(candidate) in positions:
                mapping[spec.name] = positions[_normalise(candidate)]
                break
        else:
            if spec.required:
                errors.append(
                    RowError(
                        1,
                        spec.name,
                        f"缺少必需的列 {spec.name}（可用 --map {spec.name}=列名；现有: {found}）/ "
                        f"missing required column {spec.name} (use --map {spec.name}=COLUMN; found: {found})",
                    )
                )
    if errors:
        raise ImportRejected(errors)
    return mapping


def parse_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """``["number=单据编号", ...]`` → ``{"number": "单据编号"}``."""
    result = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise file_error(
                f"--map 需要 字段=列名，得到 '{pair}' / --map needs field=column, got '{pair}'"
            )
        result[name.strip()] = column.strip()
    return result


@dataclass(frozen=True, slots=True)
class Row:
    """One data row with its cells looked up by field name."""

    number: int
    cells: list[object]
    mapping: dict[str, int]
    headers: list[str]

    def raw(self, name: str) -> object:
        index = self.mapping.get(name)
        if index is None or index >= len(self.cells):
            return None
        return self.cells[index]

    def text(self, name: str) -> str:
        return cell_text(self.raw(name))

    def column(self, name: str) -> str:
        """The file's own header for a field, so errors name what the user sees."""
        index = self.mapping.get(name)
        return self.headers[index] if index is not None else name


def rows_of(table: Table, mapping: dict[str, int]) -> list[Row]:
    return [Row(number, cells, mapping, table.headers) for number, cells in table.rows]
