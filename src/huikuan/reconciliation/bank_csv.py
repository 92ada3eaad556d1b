"""Bank statements exported as CSV or XLSX by online banking (网银导出的交易明细).

Chinese banks put title rows above the table (账号, 户名, 起止日期, 币种), so the header is
the first row of the top 30 that names a date column and an amount column. Amounts come as
separate 借方/贷方 columns or one signed 金额 column with an optional 借贷标志. Rows after the
header that are not transactions are skipped: blank rows, repeated headers (one per page),
totals (合计, 总计, Total) and notes with neither a date nor an amount. Every other bad row is
reported, all of them at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass

from huikuan.core.dates import DateError, parse_date
from huikuan.core.errors import ImportRejected, InvalidInput, RowError
from huikuan.core.money import AmountError, parse_amount
from huikuan.core.tabular import FieldSpec, Row, cell_text, csv_records, map_columns, xlsx_rows
from huikuan.reconciliation.bank_lines import (
    BankLine,
    BankStatement,
    StatementFormat,
    account_number,
    chosen_account,
    clean_text,
    currency_code,
    not_a_statement,
    remittance_text,
)

FIELDS = (
    FieldSpec(
        "booked_on",
        synonyms=(
            *("记账日期", "交易日期", "入账日期", "账务日期", "日期", "交易时间"),
            *("booking_date", "transaction_date", "date"),
        ),
    ),
    FieldSpec("value_on", synonyms=("起息日", "起息日期", "value_date")),
    FieldSpec(
        "debit",
        synonyms=("借方发生额", "借方金额", "支出金额", "支出", "借方", "转出金额", "debit"),
    ),
    FieldSpec(
        "credit",
        synonyms=("贷方发生额", "贷方金额", "收入金额", "收入", "贷方", "转入金额", "credit"),
    ),
    FieldSpec("amount", synonyms=("交易金额", "金额", "发生额", "transaction_amount")),
    FieldSpec(
        "direction",
        synonyms=("借贷标志", "借贷方向", "借贷", "借/贷", "收支方向", "交易方向", "dc", "d/c"),
    ),
    FieldSpec(
        "payer_name",
        synonyms=(
            *("对方户名", "对方名称", "对方账户名称", "对方单位", "付款人", "付款人名称"),
            *("付款方", "counterparty", "payer"),
        ),
    ),
    FieldSpec(
        "payer_account",
        synonyms=("对方账号", "对方帐号", "对方账户", "付款人账号", "counterparty_account"),
    ),
    FieldSpec("summary", synonyms=("摘要", "交易摘要", "description")),
    FieldSpec("remittance", synonyms=("附言", "交易附言", "汇款附言", "附加信息")),
    FieldSpec("purpose", synonyms=("用途", "资金用途", "交易用途")),
    FieldSpec("memo", synonyms=("备注", "说明", "remark", "remarks", "memo", "note")),
    FieldSpec(
        "bank_reference",
        synonyms=(
            *("流水号", "交易流水号", "银行流水号", "交易参考号", "凭证号", "交易编号"),
            *("reference", "transaction_id"),
        ),
    ),
    FieldSpec("balance", synonyms=("余额", "账户余额", "交易后余额", "当前余额", "balance")),
    FieldSpec("currency", synonyms=("币种", "币别", "货币")),
)
FIELD_NAMES = tuple(spec.name for spec in FIELDS)
AMOUNT_FIELDS = ("debit", "credit", "amount")
HEADER_SEARCH_ROWS = 30
DIRECTIONS = {
    **dict.fromkeys(("借", "借方", "支", "支出", "付", "出", "D", "DR", "DEBIT", "-"), -1),
    **dict.fromkeys(("贷", "贷方", "收", "收入", "入", "C", "CR", "CREDIT", "+"), 1),
}
_FOOTER = re.compile(r"(合计|总计|小计|本页合计|累计|共计|total|subtotal)|共\s*\d+\s*笔", re.I)
_TITLE_ACCOUNT = re.compile(
    r"(?:账号|帐号|账户|卡号|account(?:\s*(?:no\.?|number))?)\s*[:：]?\s*([0-9][0-9 \-]{4,}[0-9])",
    re.I,
)
_TITLE_CURRENCY = re.compile(r"(?:币种|币别|currency)\s*[:：]?\s*([^\s,，;；]+)", re.I)
_TITLE_DATE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?|(?<!\d)\d{8}(?!\d)")

# (row number, cells, the row's own text)
SourceRow = tuple[int, list[object], str]


@dataclass(frozen=True, slots=True)
class _Title:
    """What the rows above the header say about the account and the period."""

    account: str
    opened_on: dt.date | None
    closed_on: dt.date | None
    currency: str


def read_csv(data: bytes, *, mapping: dict[str, str] | None, account: str | None) -> BankStatement:
    try:
        records = csv_records(data)
    except ImportRejected as exc:
        raise not_a_statement(exc) from exc
    rows: list[SourceRow] = [(n, list[object](cells), text) for n, cells, text in records]
    return _statement(rows, data, "csv", mapping=mapping, account=account)


def read_xlsx(data: bytes, *, mapping: dict[str, str] | None, account: str | None) -> BankStatement:
    try:
        sheet = xlsx_rows(io.BytesIO(data))
    except ImportRejected as exc:
        raise not_a_statement(exc) from exc
    # A spreadsheet row has no text of its own: its cells as text, tab-separated, stand for it.
    rows: list[SourceRow] = [(n, cells, "\t".join(map(cell_text, cells))) for n, cells in sheet]
    return _statement(rows, data, "xlsx", mapping=mapping, account=account)


def _statement(
    rows: list[SourceRow],
    data: bytes,
    fmt: StatementFormat,
    *,
    mapping: dict[str, str] | None,
    account: str | None,
) -> BankStatement:
    overrides = _checked_overrides(mapping or {})
    header_at, columns = _find_header(rows, overrides)
    title = _read_title(rows[:header_at])
    headers = [cell_text(c) for c in rows[header_at][1]]
    lines, balances, errors = [], [], []
    for number, cells, text in rows[header_at + 1 :]:
        row = Row(number, cells, columns, headers)
        if _is_not_a_transaction(row, headers):
            continue
        parsed = _parse_row(row, text, title.currency)
        if isinstance(parsed, list):
            errors.extend(parsed)
        elif parsed is not None:
            lines.append(parsed[0])
            balances.append(parsed[1])
    if errors:
        raise ImportRejected(errors)
    amounts = [line.amount for line in lines]
    opening, closing = _balances_at_ends(amounts, balances)
    return BankStatement(
        account=chosen_account(title.account, account),
        statement_id=hashlib.sha256(data).hexdigest(),
        opened_on=title.opened_on,
        closed_on=title.closed_on,
        opening_balance=opening,
        closing_balance=closing,
        currency=title.currency,
        lines=tuple(lines),
        format=fmt,
    )


# --- the table's shape ------------------------------------------------------------------------


def _checked_overrides(mapping: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(mapping) - set(FIELD_NAMES))
    if unknown:
        raise InvalidInput(
            f"未知字段 {', '.join(unknown)}，可用: {', '.join(FIELD_NAMES)} / "
            f"unknown field {', '.join(unknown)}; known fields: {', '.join(FIELD_NAMES)}"
        )
    return mapping


def _find_header(rows: list[SourceRow], overrides: dict[str, str]) -> tuple[int, dict[str, int]]:
    """The first row naming a date column and an amount column, and where each field is."""
    for index, (_, cells, _) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        try:
            columns = map_columns([cell_text(c) for c in cells], FIELDS, overrides)
        except ImportRejected:  # a mapped column is not in this row: not the header
            continue
        if "booked_on" in columns and columns.keys() & set(AMOUNT_FIELDS):
            return index, _amount_columns(columns, overrides)
    mapped = f"（指定的列: {', '.join(overrides.values())}）" if overrides else ""
    mapped_en = f" (mapped columns: {', '.join(overrides.values())})" if overrides else ""
    raise InvalidInput(
        f"找不到表头：前 {HEADER_SEARCH_ROWS} 行中没有同时含日期列（交易日期）和金额列（借方发生额/贷方发生额 或 金额）的行{mapped} / "
        f"no header row: none of the first {HEADER_SEARCH_ROWS} rows names a date column and an amount column{mapped_en}"
    )


def _amount_columns(columns: dict[str, int], overrides: dict[str, str]) -> dict[str, int]:
    """Separate 借方/贷方 columns win over a 金额 column found by name only."""
    if ("debit" in columns or "credit" in columns) and "amount" not in overrides:
        columns = {name: index for name, index in columns.items() if name != "amount"}
    # A column mapped by the user is not also read as another field found by its name.
    claimed = {columns[name] for name in overrides}
    return {n: i for n, i in columns.items() if n in overrides or i not in claimed}


def _read_title(rows: list[SourceRow]) -> _Title:
    account, currency = "", "CNY"
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None
    for _, cells, _ in rows:
        text = " ".join(cell_text(c) for c in cells)
        if not account and (found := _TITLE_ACCOUNT.search(text)):
            account = account_number(found.group(1))
        if found := _TITLE_CURRENCY.search(text):
            currency = currency_code(found.group(1)) or currency
        # A period is a row with exactly two dates (起止日期 2024-03-01 至 2024-03-31); a
        # print date alone is not one.
        dates = [_date_or_none(d) for d in _TITLE_DATE.findall(text)]
        if len(dates) == 2 and opened_on is None:
            opened_on, closed_on = dates
    return _Title(account, opened_on, closed_on, currency)


def _date_or_none(text: str) -> dt.date | None:
    try:
        return parse_date(text)
    except DateError:
        return None


def _is_not_a_transaction(row: Row, headers: list[str]) -> bool:
    texts = [t for t in (cell_text(c) for c in row.cells) if t]
    first = texts[0] if texts else ""
    if not first or texts == [h for h in headers if h]:
        return True  # blank, or the header repeated on each page
    if _FOOTER.match(first) or _FOOTER.match(row.text("booked_on")):
        return True
    has_amount = any(row.text(name) for name in AMOUNT_FIELDS)
    return not has_amount and _date_or_none(row.text("booked_on")) is None


# --- one row ----------------------------------------------------------------------------------


def _parse_row(
    row: Row, text: str, default_currency: str
) -> tuple[BankLine, int | None] | list[RowError] | None:
    """The row's line and its balance, or every problem in it; None for a zero amount."""
    errors: list[RowError] = []
    booked_on = _date(row, "booked_on", errors)
    value_on = _date(row, "value_on", errors) if row.text("value_on") else None
    amount = _signed_amount(row, errors)
    balance = _amount(row, "balance", errors)
    currency = currency_code(row.text("currency")) if row.text("currency") else default_currency
    if currency is None:
        errors.append(
            _error(row, "currency", "币种应为三个字母如 CNY / currency must be a code like CNY")
        )
    if errors:
        return errors
    assert booked_on is not None and amount is not None and currency is not None
    if amount == 0:
        return None
    line = BankLine(
        booked_on=booked_on,
        value_on=value_on,
        amount=amount,
        currency=currency,
        payer_name=clean_text(row.text("payer_name")),
        payer_account=account_number(row.text("payer_account")),
        remittance=remittance_text(
            [row.text(n) for n in ("summary", "remittance", "purpose", "memo")]
        ),
        bank_reference=clean_text(row.text("bank_reference")),
        raw=text,
        row=row.number,
    )
    return line, balance


def _signed_amount(row: Row, errors: list[RowError]) -> int | None:
    if "debit" in row.mapping or "credit" in row.mapping:
        return _debit_or_credit(row, errors)
    amount = _amount(row, "amount", errors)
    if amount is None:
        if not row.text("amount"):
            errors.append(_error(row, "amount", "金额为空 / amount is empty"))
        return None
    flag = row.text("direction").upper()
    if not flag:
        return amount  # signed as written: positive is money in
    if flag not in DIRECTIONS:
        errors.append(
            _error(
                row,
                "direction",
                f"借贷标志应为 借/贷 或 D/C，得到 '{flag}' / the debit/credit mark must be 借/贷 or D/C, got '{flag}'",
            )
        )
        return None
    return DIRECTIONS[flag] * abs(amount)


def _debit_or_credit(row: Row, errors: list[RowError]) -> int | None:
    """Money out from the debit column, money in from the credit column, never both.

    A minus in the debit column is the bank's way of marking money out; a minus in the credit
    column is a reversal (红字冲正) and stays money out.
    """
    before = len(errors)
    debit, credit = _amount(row, "debit", errors), _amount(row, "credit", errors)
    if len(errors) > before:
        return None
    if debit and credit:
        errors.append(
            RowError(
                row.number,
                f"{row.column('debit')}/{row.column('credit')}",
                f"借方和贷方都有金额（{row.text('debit')} 与 {row.text('credit')}）/ "
                f"both debit and credit are filled ({row.text('debit')} and {row.text('credit')})",
            )
        )
        return None
    if debit is None and credit is None:
        errors.append(
            _error(row, "credit", "借方和贷方金额都为空 / neither debit nor credit has an amount")
        )
        return None
    return -abs(debit or 0) + (credit or 0)


def _amount(row: Row, name: str, errors: list[RowError]) -> int | None:
    """The cell in fen, None when it is empty; a cell that is not money is an error."""
    value = row.raw(name)
    if value is None or not cell_text(value):
        return None
    try:
        return parse_amount(value)
    except AmountError as exc:
        errors.append(_error(row, name, str(exc)))
        return None


def _date(row: Row, name: str, errors: list[RowError]) -> dt.date | None:
    value = row.raw(name)
    try:
        return parse_date(value if value is not None else "")
    except DateError as exc:
        errors.append(_error(row, name, str(exc)))
        return None


def _error(row: Row, name: str, reason: str) -> RowError:
    return RowError(row.number, row.column(name), reason)


def _balances_at_ends(
    amounts: list[int], balances: list[int | None]
) -> tuple[int | None, int | None]:
    """Opening and closing balance from the 余额 column, when it adds up.

    Banks list oldest-first or newest-first; the balances tell which, because each one is the
    previous plus the line's amount. A column that adds up neither way gives no balances.
    """
    known = [b for b in balances if b is not None]
    if not amounts or len(known) < len(amounts):
        return None, None
    for order in (1, -1):
        moved, after = amounts[::order], known[::order]
        if all(after[i] == after[i - 1] + moved[i] for i in range(1, len(moved))):
            return after[0] - moved[0], after[-1]
    return None, None
