"""Credit-sale approval of a sales order: pure rules, no I/O.

An order passes on its own (auto-approved) only when nothing speaks against it; otherwise it
waits for an approver with every reason listed. The reasons, in the order they are shown:

- ``blacklisted``: the customer matches an active blacklist entry;
- ``on_hold``: the customer has an active credit hold or supply stop;
- ``no_limit``: no credit limit is in force, so there is nothing to judge the order against;
- ``over_limit``: exposure before the order plus the order exceeds the customer's limit;
- ``over_group_limit``: the same for the group of related customers and its group limit;
- ``overdue``: an open invoice is more than the policy's ``max_days_overdue`` days overdue;
- ``prepayment_required``: the customer's terms ask for payment before delivery.

Exposure is what the customer owes us plus what we have promised to deliver on credit: open
receivables plus the uninvoiced remainder (``amount - invoiced_amount``) of approved open
orders. Goods shipped but not yet invoiced are still in the order's remainder and not yet a
receivable, so they are counted exactly once.

Worked example, limit ¥100,000.00: receivables ¥60,000.00 and an approved order with
¥30,000.00 still to invoice give exposure ¥90,000.00 before a new order. A new order of
¥10,000.00 brings it to exactly ¥100,000.00 and passes; ¥10,000.01 would exceed by one fen and
waits, with the reason stating all four figures.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# core.money is itself standard-library only: importing it keeps one way of writing money.
from huikuan.core.money import format_amount


class ReasonCode(enum.StrEnum):
    BLACKLISTED = "blacklisted"
    ON_HOLD = "on_hold"
    NO_LIMIT = "no_limit"
    OVER_LIMIT = "over_limit"
    OVER_GROUP_LIMIT = "over_group_limit"
    OVERDUE = "overdue"
    PREPAYMENT_REQUIRED = "prepayment_required"


# Approving over these needs a written note: the approver overrides a deliberate stop.
NEEDS_NOTE = frozenset({ReasonCode.BLACKLISTED, ReasonCode.ON_HOLD})

HOLD_LABELS = {"credit_hold": "信用冻结 credit hold", "supply_stop": "暂停供货 supply stop"}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an order waits for a person: a stable code, a "中文 / English" message, and the
    figures behind it (fen, or days for ``overdue``) so pages can show them their own way."""

    code: ReasonCode
    message: str
    amounts: tuple[tuple[str, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": self.message, "amounts": dict(self.amounts)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reason:
        amounts = tuple((str(k), int(v)) for k, v in dict(data.get("amounts", {})).items())
        return cls(ReasonCode(data["code"]), str(data["message"]), amounts)


def approval_reasons(
    *,
    order_amount: int,
    exposure_before: int,
    limit: int | None,
    group: tuple[int, int] | None,
    oldest_overdue_days: int | None,
    max_days_overdue: int,
    holds: Sequence[str],
    blacklisted: bool,
    prepayment_required: bool,
) -> list[Reason]:
    """Every reason the order cannot pass on its own; empty means auto-approve.

    ``order_amount`` is what the order adds to exposure (its uninvoiced remainder);
    ``exposure_before`` the customer's exposure without it; ``group`` is (group exposure
    without the order, group limit) when the customer belongs to a group with a limit.
    """
    reasons: list[Reason] = []
    if blacklisted:
        reasons.append(_blacklisted())
    if holds:
        reasons.append(_on_hold(holds))
    if limit is None:
        reasons.append(_no_limit())
    elif exposure_before + order_amount > limit:
        reasons.append(_over(ReasonCode.OVER_LIMIT, exposure_before, order_amount, limit))
    if group is not None and group[0] + order_amount > group[1]:
        reasons.append(_over(ReasonCode.OVER_GROUP_LIMIT, group[0], order_amount, group[1]))
    if oldest_overdue_days is not None and oldest_overdue_days > max_days_overdue:
        reasons.append(_overdue(oldest_overdue_days, max_days_overdue))
    if prepayment_required:
        reasons.append(_prepayment())
    return reasons


def _blacklisted() -> Reason:
    return Reason(ReasonCode.BLACKLISTED, "客户在黑名单中 / the customer is on the blacklist")


def _on_hold(holds: Sequence[str]) -> Reason:
    kinds = "、".join(HOLD_LABELS.get(kind, kind) for kind in sorted(set(holds)))
    return Reason(ReasonCode.ON_HOLD, f"客户处于冻结状态：{kinds} / the customer is on hold")


def _no_limit() -> Reason:
    return Reason(
        ReasonCode.NO_LIMIT, "客户没有生效的信用额度 / the customer has no credit limit in force"
    )


def _over(code: ReasonCode, before: int, order: int, limit: int) -> Reason:
    excess = before + order - limit
    what_zh, what_en = ("集团", "group ") if code is ReasonCode.OVER_GROUP_LIMIT else ("", "")
    figures = f"{format_amount(before)} + {format_amount(order)} > {format_amount(limit)}"
    message = (
        f"{what_zh}占用 {figures}，超出 {format_amount(excess)} / "
        f"{what_en}exposure {format_amount(before)} plus order {format_amount(order)} exceeds "
        f"the {what_en}limit {format_amount(limit)} by {format_amount(excess)}"
    )
    amounts = (("exposure", before), ("order", order), ("limit", limit), ("excess", excess))
    return Reason(code, message, amounts)


def _overdue(days: int, allowed: int) -> Reason:
    return Reason(
        ReasonCode.OVERDUE,
        f"有发票已逾期 {days} 天（上限 {allowed} 天）/ "
        f"an invoice is {days} days overdue (more than {allowed})",
        (("days_overdue", days), ("max_days_overdue", allowed)),
    )


def _prepayment() -> Reason:
    return Reason(
        ReasonCode.PREPAYMENT_REQUIRED,
        "该客户须先款后货 / the customer's terms require prepayment",
    )


def line_amount(quantity_milli: int, unit_price: int) -> int:
    """Quantity (thousandths of a unit) times unit price (fen), rounded half up to the fen.

    Half up means half away from zero: 0.5 fen becomes 1 fen, so 1.005 kg at 1 fen/kg
    (``line_amount(1005, 1)``, 1.005 fen) is 1 fen and 1.5 units at 3 fen is 5 fen (4.5 up).
    Integer arithmetic only, so no float ever rounds a line.
    """
    product = quantity_milli * unit_price
    magnitude = (abs(product) + 500) // 1000
    return magnitude if product >= 0 else -magnitude


def order_remainder(amount: int, invoiced_amount: int) -> int:
    """What an order still adds to exposure: the part not yet invoiced (shipped or not)."""
    return max(amount - invoiced_amount, 0)


def exposure(receivables: int, order_remainders: Iterable[int]) -> int:
    """Open receivables plus the uninvoiced remainders of approved open orders."""
    return receivables + sum(order_remainders)


def parse_quantity(text: str) -> int:
    """A quantity as people write it ("2.5", "1,000", "３") in thousandths: "2.5" is 2500.
    More than three decimals is refused, not rounded; zero and negatives too."""
    cleaned = text.translate(_FULL_WIDTH).replace(",", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"无法识别的数量 '{text}' / not a quantity: '{text}'") from exc
    if not value.is_finite():
        raise ValueError(f"无法识别的数量 '{text}' / not a quantity: '{text}'")
    milli = value * 1000
    if milli != milli.to_integral_value():
        raise ValueError(f"数量最多三位小数 '{text}' / at most three decimals: '{text}'")
    if milli <= 0:
        raise ValueError(f"数量必须大于零 '{text}' / quantity must be positive: '{text}'")
    return int(milli)


_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，", "0123456789.,")
