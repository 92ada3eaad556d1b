"""Money is an integer count of fen (the currency's minor unit) everywhere inside Huikuan.

Text is turned into fen once, at the edge (imports, API, forms), and fen back into text once
(pages, documents, API responses). Nothing in between ever sees a float.

>>> parse_amount("¥1,234,567.89")
123456789
>>> parse_amount("１２３．４")          # full-width digits from Chinese spreadsheets
12340
>>> format_amount(123456789)
'¥1,234,567.89'
>>> decimal_string(-5)
'-0.05'
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# The largest amount we accept: 10^15 fen is ten trillion yuan, far above any single invoice,
# and far below the 2^63 limit of a BIGINT column even after summing millions of rows.
MAX_FEN = 10**15

_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９．，－＋（）￥",
    "0123456789.,-+()¥",
)
_CURRENCY_MARKS = ("¥", "￥", "RMB", "CNY", "元")


class AmountError(ValueError):
    """An amount that cannot be read as money; the message says why, in plain words."""


def parse_amount(text: object) -> int:
    """Read an amount as written by people and ERPs and return it in fen.

    Accepts currency marks (¥, RMB, CNY, 元), thousands separators, full-width digits,
    a leading minus or accounting parentheses for negatives, and numbers from spreadsheets.
    Rejects more than two decimal places rather than rounding: a fen lost silently is a
    reconciliation difference found months later.
    """
    if isinstance(text, bool):
        raise AmountError("不是金额 / not an amount")
    if isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, float):
        # Spreadsheet cells arrive as binary floats; repr() gives the shortest exact decimal
        # that round-trips, so 1234.5 stays 1234.5 rather than 1234.4999999.
        value = Decimal(repr(text))
    elif isinstance(text, Decimal):
        value = text
    else:
        value = _parse_amount_text(str(text))
    return _to_fen(value)


def _parse_amount_text(raw: str) -> Decimal:
    s = raw.translate(_FULL_WIDTH).strip()
    if not s:
        raise AmountError("金额为空 / amount is empty")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    for mark in _CURRENCY_MARKS:
        s = s.replace(mark, "")
    s = s.replace(" ", "").replace("\u00a0", "")
    if s.startswith("-"):
        negative, s = not negative, s[1:]
    elif s.startswith("+"):
        s = s[1:]
    if not re.fullmatch(r"(\d{1,3}(,\d{3})+|\d+)(\.\d*)?|\.\d+", s):
        raise AmountError(f"无法识别的金额 '{raw}' / not an amount: '{raw}'")
    try:
        value = Decimal(s.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex above already guards
        raise AmountError(f"无法识别的金额 '{raw}' / not an amount: '{raw}'") from exc
    return -value if negative else value


def _to_fen(value: Decimal) -> int:
    if not value.is_finite():
        raise AmountError("金额不是有限数 / amount is not a finite number")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise AmountError(
            f"金额 {value} 超过两位小数 / amount {value} has more than two decimal places"
        )
    result = int(fen)
    if abs(result) >= MAX_FEN:
        raise AmountError(f"金额 {value} 过大 / amount {value} is too large")
    return result


def decimal_string(fen: int) -> str:
    """Fen as a plain decimal string with two places, for APIs and CSV: ``-1234.50``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def format_amount(fen: int, symbol: str = "¥") -> str:
    """Fen as finance people read it: ``¥1,234,567.89``; negatives as ``-¥12.00``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{symbol}{whole:,}.{cents:02d}"


def to_decimal(fen: int) -> Decimal:
    """Fen as an exact Decimal of yuan, for spreadsheet cells."""
    return Decimal(fen).scaleb(-2)
