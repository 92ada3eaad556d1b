"""Bank lines: what every bank statement format is read into, and the key that refuses a line
the second time it is imported.

A line's key
------------
Banks export overlapping periods, and people import the same file twice. Each line therefore
gets a key, and a line whose key is already stored is not imported again:

- a line with the bank's own reference (流水号, AcctSvcrRef, the ``//`` part of ``:61:``) is
  keyed by account + reference, whatever else the export says about it;
- a line without one is keyed by a SHA-256 of account, booking date, amount, counterparty
  account, counterparty name and remittance text.

Two equal transfers on the same day without a reference are both real money, so
:func:`line_keys` numbers identical keys in file order: the second gets ``#2``, the third
``#3``. A second export overlapping the first repeats the same lines in the same order, so
the shared lines get the same keys and only the new ones are imported; an export cut in the
middle of a day (one of two equal transfers) adds the missing one as ``#2``.

The limit: this holds while the bank lists a day's lines in the same order and writes them the
same way in both files. Lines without a reference read from two different formats (a CSV and
an MT940 of the same account) usually differ in their remittance text and are not recognised
as the same; neither are lines whose bank changed their order between two exports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from huikuan.core.errors import ImportRejected, InvalidInput
from huikuan.core.tabular import decode

StatementFormat = Literal["csv", "xlsx", "mt940", "camt053"]


@dataclass(frozen=True, slots=True)
class BankLine:
    """One movement on the account. ``amount`` is fen: positive money in, negative money out.

    ``payer_name`` and ``payer_account`` are the other party: the payer of money in, the payee
    of money out. ``raw`` is the text the line was read from, as evidence; ``row`` says where it
    starts in the file (spreadsheet row, or text line for MT940 and camt.053).
    """

    booked_on: dt.date
    value_on: dt.date | None
    amount: int
    currency: str
    payer_name: str
    payer_account: str
    remittance: str
    bank_reference: str
    raw: str
    row: int


@dataclass(frozen=True, slots=True)
class BankStatement:
    """The lines of one file with what the bank says about the account and the period."""

    account: str
    statement_id: str
    opened_on: dt.date | None
    closed_on: dt.date | None
    opening_balance: int | None
    closing_balance: int | None
    currency: str
    lines: tuple[BankLine, ...]
    format: StatementFormat


def line_key(account: str, line: BankLine) -> str:
    """The line's fingerprint: ``ref:`` + hash of account and reference, else ``line:`` + hash
    of its facts. Use :func:`line_keys` for a whole file, which tells equal lines apart."""
    if line.bank_reference:
        return "ref:" + _digest([account, line.bank_reference])
    facts = [
        account,
        line.booked_on.isoformat(),
        str(line.amount),
        line.payer_account,
        line.payer_name,
        line.remittance,
    ]
    return "line:" + _digest(facts)


def line_keys(account: str, lines: Iterable[BankLine]) -> list[str]:
    """Each line's key in file order; the n-th line with an already seen key gets ``#n``."""
    seen: Counter[str] = Counter()
    keys = []
    for line in lines:
        key = line_key(account, line)
        seen[key] += 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return keys


def _digest(parts: list[str]) -> str:
    # JSON keeps the parts apart: "a|b" + "c" and "a" + "b|c" must not hash alike.
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


# --- text as banks write it -------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Whitespace runs (newlines, full-width spaces) become one space; nothing else changes."""
    return " ".join(text.split())


def remittance_text(parts: Sequence[str]) -> str:
    """摘要, 附言, 用途 … joined with `` | ``, leaving out empty and repeated parts."""
    kept: list[str] = []
    for part in map(clean_text, parts):
        if part and part not in kept:
            kept.append(part)
    return " | ".join(kept)


def account_number(text: str) -> str:
    """An account as banks print it (``1202 0210-0910``) reduced to its characters."""
    return re.sub(r"[\s\-]", "", text)


_CURRENCY_NAMES = {
    **dict.fromkeys(("", "RMB", "人民币", "元", "本币"), "CNY"),
    **{"美元": "USD", "港币": "HKD", "港元": "HKD", "欧元": "EUR", "日元": "JPY", "英镑": "GBP"},
}


def currency_code(text: str) -> str | None:
    """``人民币``, ``RMB``, ``cny`` → ``CNY``; another three-letter code as is; None if neither."""
    code = text.strip().upper()
    code = _CURRENCY_NAMES.get(code, code)
    return code if re.fullmatch(r"[A-Z]{3}", code) else None


def decoded(data: bytes) -> str:
    """The file as text (UTF-8, else GB18030); undecodable bytes are not a statement."""
    try:
        return decode(data)
    except ImportRejected as exc:
        raise not_a_statement(exc) from exc


def not_a_statement(exc: ImportRejected) -> InvalidInput:
    """The shared table reader's whole-file problem (encoding, a broken workbook) as the
    reason the file is not a statement."""
    return InvalidInput(exc.errors[0].reason)


def chosen_account(stated: str, given: str | None) -> str:
    """The account the lines belong to: the one chosen by the user, else the one in the file.

    A file naming another account is refused: its lines would be keyed, and later matched, as
    someone else's money. Masked numbers (``6222****1234``) cannot be compared and are let pass.
    """
    if given is None:
        return stated
    given = account_number(given)
    if stated and "*" not in stated and stated != given:
        raise InvalidInput(
            f"文件中的账号 {stated} 与所选账户 {given} 不符 / "
            f"the file is for account {stated}, not the chosen account {given}"
        )
    return given
