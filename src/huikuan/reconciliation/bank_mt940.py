"""SWIFT MT940 statements, as Chinese banks send them to corporate clients.

The file is read tag by tag (``:20:`` reference, ``:25:`` account, ``:28C:`` statement number,
``:60F:`` opening balance, ``:61:`` a line, ``:86:`` its details, ``:62F:`` closing balance)
rather than through the ``mt-940`` library's parser, because each line must keep its ``:61:`` +
``:86:`` text as evidence and the library does not keep it; the library's own patterns read the
``:61:`` and balance fields, with the quirks of many banks it has met.

``:86:`` comes in two shapes: structured subfields (``?00`` posting text, ``?20``-``?29``
remittance, ``?31`` account, ``?32``/``?33`` name of the other party) or free text, where
Chinese banks label the parts (``付款人:… 账号:… 附言:…``). Unlabelled free text is all
remittance. Several statements in one file (pages ``:28C:`` 1/2, 2/2) give one statement with
all their lines; statements for different accounts are refused.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field

import mt940.tags

from huikuan.core.errors import ImportRejected, InvalidInput, RowError
from huikuan.core.money import parse_amount
from huikuan.reconciliation.bank_lines import (
    BankLine,
    BankStatement,
    account_number,
    chosen_account,
    clean_text,
    remittance_text,
)

_TAG = re.compile(r":(\d{2}[A-Z]?|NS):")
_STATEMENT_LINE = mt940.tags.Statement().re
_BALANCE = mt940.tags.FinalOpeningBalance().re
_SWIFT_LINE_LENGTH = 65
_SUBFIELD = re.compile(r"\?(\d{2})")
# Free-text labels, by what they name: the other party of money in (付款人) or out (收款人), or
# either (对方户名). The first label of the line's direction is taken, else one of either, else
# one of the opposite direction: a reversal (冲正) names the party of the original movement.
_NAMES = {
    1: ("付款人名称", "付款人", "付款方", "付款单位"),
    -1: ("收款人名称", "收款人", "收款方", "收款单位"),
    0: ("对方户名", "对方名称", "户名", "NAME"),
}
_ACCOUNTS = {
    1: ("付款人账号", "付款账号"),
    -1: ("收款人账号", "收款账号"),
    0: ("对方账号", "账号", "ACCT"),
}
_REMITTANCE_LABELS = ("附言", "用途", "摘要", "备注", "REMI")
_ALL_LABELS = (
    *_REMITTANCE_LABELS,
    *(label for group in (*_NAMES.values(), *_ACCOUNTS.values()) for label in group),
)
_LABEL = re.compile("(" + "|".join(sorted(_ALL_LABELS, key=len, reverse=True)) + r")\s*[:：]")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@dataclass(slots=True)
class _Field:
    """One tag with its value; ``first``/``end`` are its lines in the file (0-based, end excluded)."""

    tag: str
    lines: list[str]
    first: int
    end: int

    @property
    def value(self) -> str:
        return "\n".join(self.lines)


@dataclass(slots=True)
class _Reading:
    """What has been read so far, statement after statement."""

    account: str = ""
    ids: list[str] = field(default_factory=list)
    opening: tuple[int, dt.date] | None = None
    closing: tuple[int, dt.date] | None = None
    currency: str = ""
    lines: list[BankLine] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def looks_like_mt940(text: str) -> bool:
    return bool(re.search(r"^:20:", text, re.M) and re.search(r"^:(25|60F|61):", text, re.M))


def read_mt940(text: str, *, account: str | None) -> BankStatement:
    lines = io.StringIO(text, newline="").readlines()
    fields = _fields(lines)
    reading = _Reading()
    for index, current in enumerate(fields):
        following = fields[index + 1] if index + 1 < len(fields) else None
        _read_field(current, following, lines, reading)
    if reading.errors:
        raise ImportRejected(reading.errors)
    return BankStatement(
        account=chosen_account(reading.account, account),
        statement_id=", ".join(reading.ids),
        opened_on=reading.opening[1] if reading.opening else None,
        closed_on=reading.closing[1] if reading.closing else None,
        opening_balance=reading.opening[0] if reading.opening else None,
        closing_balance=reading.closing[0] if reading.closing else None,
        currency=reading.currency or "CNY",
        lines=tuple(reading.lines),
        format="mt940",
    )


def _fields(lines: list[str]) -> list[_Field]:
    """Tags with their continuation lines; the SWIFT envelope (``{1:…}``, ``-}``) ends a tag."""
    fields: list[_Field] = []
    current: _Field | None = None
    for number, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if tag := _TAG.match(body):
            current = _Field(tag.group(1), [body[tag.end() :]], number, number + 1)
            fields.append(current)
        elif body.startswith("{") or body.strip() in ("-", "-}"):
            current = None
        elif current is not None and body.strip():
            current.lines.append(body)
            current.end = number + 1
    return fields


def _read_field(
    current: _Field, following: _Field | None, lines: list[str], reading: _Reading
) -> None:
    tag = current.tag
    if tag == "20":
        reading.ids.append(current.value.strip())
    elif tag in ("28C", "28") and reading.ids:
        reading.ids[-1] += "/" + current.value.strip()
    elif tag == "25":
        _read_account(current, reading)
    elif tag in ("60F", "60M") and reading.opening is None:
        reading.opening = _balance(current, reading)
    elif tag in ("62F", "62M"):
        reading.closing = _balance(current, reading) or reading.closing
    elif tag == "61":
        details = following if following is not None and following.tag == "86" else None
        line = _line(current, details, lines, reading)
        if line is not None and line.amount != 0:
            reading.lines.append(line)


def _read_account(current: _Field, reading: _Reading) -> None:
    # ":25:ICBKCNBJ/1202021009100123456": the bank's BIC, then the account.
    account = account_number(current.value.rsplit("/", 1)[-1])
    if reading.account and account != reading.account:
        raise InvalidInput(
            f"一个文件中有两个账户 {reading.account} 和 {account}，请分开导入 / "
            f"the file holds two accounts, {reading.account} and {account}: import them separately"
        )
    reading.account = account


def _balance(current: _Field, reading: _Reading) -> tuple[int, dt.date] | None:
    value, row, tag = current.value.strip(), current.first + 1, f":{current.tag}:"
    match = _BALANCE.match(value)
    if match is None:
        reading.errors.append(
            RowError(row, tag, f"无法读取余额 '{value}' / cannot read the balance '{value}'")
        )
        return None
    try:
        amount = parse_amount(match["amount"].replace(",", "."))
        on = _date(match["year"], match["month"], match["day"])
    except ValueError as exc:  # AmountError is a ValueError too
        reading.errors.append(RowError(row, tag, str(exc)))
        return None
    reading.currency = reading.currency or match["currency"].upper()
    return (-amount if match["status"].upper() == "D" else amount), on


def _line(
    current: _Field, details: _Field | None, lines: list[str], reading: _Reading
) -> BankLine | None:
    row = current.first + 1
    match = _STATEMENT_LINE.match(current.value)
    if match is None:
        reading.errors.append(
            RowError(
                row,
                ":61:",
                f"无法解析交易行 '{current.value}' / cannot read the statement line '{current.value}'",
            )
        )
        return None
    try:
        value_on = _date(match["year"], match["month"], match["day"])
        amount = parse_amount(match["amount"].replace(",", "."))
    except ValueError as exc:  # AmountError is a ValueError too
        reading.errors.append(RowError(row, ":61:", str(exc)))
        return None
    # C and RD (reversed debit) bring money in; D and RC (reversed credit) take it out.
    sign = 1 if match["status"].upper() in ("C", "RD") else -1
    name, payer_account, remittance = _details(details.lines if details else [], sign)
    supplementary = clean_text(match["extra_details"] or "")
    return BankLine(
        booked_on=_entry_date(value_on, match["entry_month"], match["entry_day"]),
        value_on=value_on,
        amount=sign * amount,
        currency=reading.currency or "CNY",
        payer_name=name,
        payer_account=payer_account,
        remittance=remittance_text([*remittance, supplementary]),
        bank_reference=clean_text(match["bank_reference"] or ""),
        raw="".join(lines[current.first : (details or current).end]).rstrip("\r\n"),
        row=row,
    )


def _date(year: str, month: str, day: str) -> dt.date:
    try:
        return dt.date(2000 + int(year), int(month), int(day))
    except ValueError as exc:
        raise ValueError(
            f"不存在的日期 {year}{month}{day} / no such date: {year}{month}{day}"
        ) from exc


def _entry_date(value_on: dt.date, month: str | None, day: str | None) -> dt.date:
    """The booking date (MMDD) takes its year from the value date, across a new year too."""
    if not (month and day and month.isdigit() and day.isdigit()):
        return value_on
    try:
        booked = dt.date(value_on.year, int(month), int(day))
    except ValueError:
        return value_on
    if (booked - value_on).days > 180:  # booked 12-31 for value 01-02: last year
        return booked.replace(year=booked.year - 1)
    if (value_on - booked).days > 180:  # booked 01-02 for value 12-31: next year
        return booked.replace(year=booked.year + 1)
    return booked


# --- :86: --------------------------------------------------------------------------------------


def _details(lines: list[str], sign: int) -> tuple[str, str, list[str]]:
    """The other party's name and account, and the remittance parts, from ``:86:``."""
    if lines and re.match(r"(\d{3})?\?\d{2}", lines[0]):
        return _subfields("".join(lines))  # subfields wrap without spaces
    return _labelled(_unwrapped(lines), sign)


def _subfields(text: str) -> tuple[str, str, list[str]]:
    parts = _SUBFIELD.split(text)
    values: dict[int, str] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        values[int(code)] = values.get(int(code), "") + value
    purpose = "".join(values.get(code, "") for code in (*range(20, 30), *range(60, 64)))
    name = clean_text(values.get(32, "") + values.get(33, ""))
    return name, account_number(values.get(31, "")), [values.get(0, ""), purpose]


def _labelled(text: str, sign: int) -> tuple[str, str, list[str]]:
    """``付款人:杭州明远 账号:3305… 附言:货款`` → name, account and remittance."""
    found = list(_LABEL.finditer(text))
    remittance = [text[: found[0].start()] if found else text]
    values: dict[str, str] = {}
    for index, label in enumerate(found):
        end = found[index + 1].start() if index + 1 < len(found) else len(text)
        value = clean_text(text[label.end() : end])
        if label.group(1) in _REMITTANCE_LABELS:
            remittance.append(value)
        else:
            values.setdefault(label.group(1), value)
    name = _labelled_value(values, _NAMES[sign] + _NAMES[0] + _NAMES[-sign])
    account = _labelled_value(values, _ACCOUNTS[sign] + _ACCOUNTS[0] + _ACCOUNTS[-sign])
    return name, account_number(account), remittance


def _labelled_value(values: dict[str, str], labels: tuple[str, ...]) -> str:
    return next((values[label] for label in labels if values.get(label)), "")


def _unwrapped(lines: list[str]) -> str:
    """Free text cut into 65-character lines, joined back.

    A full line was cut by the bank's line length, so nothing was lost at the cut; a shorter
    line ended where the writer ended it and stands for a space, except between Chinese
    characters, which are written without spaces.
    """
    text, previous = "", ""
    for line in lines:
        cut = len(previous) >= _SWIFT_LINE_LENGTH
        cjk = bool(previous and line and _CJK.match(previous[-1]) and _CJK.match(line[0]))
        text += line if not text or cut or cjk else " " + line
        previous = line
    return text
