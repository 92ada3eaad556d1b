"""Reading a bank statement file into bank lines: CSV, XLSX, MT940 or camt.053.

Pure: bytes in, a :class:`BankStatement` out, nothing stored. The format is told by the content,
not the file name: a ZIP is an XLSX workbook, XML in the camt.053 namespace is ISO 20022, text
with ``:20:`` and ``:25:``/``:61:`` tags is MT940, anything else is read as CSV.

>>> statement = read_bank_file("交易日期,贷方发生额,对方户名\\n2024-03-05,\\"1,250.00\\",杭州明远\\n".encode(), "a.csv")
>>> statement.lines[0].amount, statement.lines[0].payer_name
(125000, '杭州明远')

A file that is not a statement raises ``InvalidInput``; a statement with bad lines raises
``ImportRejected`` listing every bad line (row, field, why). Keys that stop a line from being
imported twice are made by :func:`line_keys`; the rule and its limit are in ``bank_lines``.
"""

from __future__ import annotations

from huikuan.core.errors import InvalidInput, prefixed
from huikuan.reconciliation.bank_camt import looks_like_camt053, read_camt053
from huikuan.reconciliation.bank_csv import FIELD_NAMES, read_csv, read_xlsx
from huikuan.reconciliation.bank_lines import (
    BankLine,
    BankStatement,
    StatementFormat,
    decoded,
    line_key,
    line_keys,
)
from huikuan.reconciliation.bank_mt940 import looks_like_mt940, read_mt940

__all__ = [
    "FIELD_NAMES",
    "BankLine",
    "BankStatement",
    "StatementFormat",
    "line_key",
    "line_keys",
    "read_bank_file",
]

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary .xls
_PDF = b"%PDF"


def read_bank_file(
    data: bytes,
    filename: str,
    *,
    mapping: dict[str, str] | None = None,
    account: str | None = None,
) -> BankStatement:
    """Read the statement in ``data``; ``filename`` only names it in messages.

    ``mapping`` (CSV/XLSX) names the column of a field the header names do not reveal:
    ``{"booked_on": "入账日", "credit": "收入(元)"}``. ``account`` is the account the user
    imports into; without it the account written in the file is used.
    """
    try:
        return _read(data, mapping=mapping, account=account)
    except InvalidInput as exc:
        raise InvalidInput(prefixed(filename, exc.message)) from exc


def _read(data: bytes, *, mapping: dict[str, str] | None, account: str | None) -> BankStatement:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise InvalidInput("文件为空 / the file is empty")
    if head.startswith(_ZIP):
        return read_xlsx(data, mapping=mapping, account=account)
    if head.startswith((_OLE, _PDF)):
        raise InvalidInput(
            "不支持旧版 .xls 或 PDF 对账单，请导出 CSV、Excel (.xlsx)、MT940 或 camt.053 / "
            "old .xls and PDF statements cannot be read: export CSV, Excel (.xlsx), MT940 or camt.053"
        )
    if head.startswith(b"<"):
        if looks_like_camt053(data):
            return read_camt053(data, account=account)
        raise InvalidInput(
            "XML 文件不是 camt.053 对账单 / the XML file is not a camt.053 statement"
        )
    text = decoded(data)
    if looks_like_mt940(text):
        return read_mt940(text, account=account)
    return read_csv(data, mapping=mapping, account=account)
