"""Dispute rules (pure): the contract's dispute window, how much of an invoice may be disputed,
and the ageing buckets of open disputes.

The window: a customer may contest an invoice within the ``dispute_window_days`` of the
contract in force on the invoice's **issue date** (signed on or before it, not ended before
it; the latest signed wins). The contract speaks of days after delivery, but the ledger has
no delivery date, so the window is counted in calendar days from the issue date (the day of
issue is day 0: a 15-day window on an invoice issued on 1 March ends on 16 March). A claim
after the window is **recorded as late** (``within_window`` False), never refused: the
collector still needs it on file, and whether a late claim is heard is a person's decision.
Without a contract in force there is no window (both facts are left empty).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass


class DisputeReason(enum.StrEnum):
    QUALITY = "quality"
    QUANTITY = "quantity"
    PRICE = "price"
    DELIVERY = "delivery"
    DOCUMENTS = "documents"
    OTHER = "other"


class Resolution(enum.StrEnum):
    CREDIT_NOTE = "credit_note"  # the customer was right: a credit note lowers the invoice
    CORRECTION = "correction"  # settled by a corrected document; the invoice amount stands
    REJECTED = "rejected"  # the claim is refused: the amount is chased again


REASON_LABELS_ZH = {
    DisputeReason.QUALITY: "质量",
    DisputeReason.QUANTITY: "数量",
    DisputeReason.PRICE: "价格",
    DisputeReason.DELIVERY: "交货",
    DisputeReason.DOCUMENTS: "单据",
    DisputeReason.OTHER: "其他",
}


@dataclass(frozen=True, slots=True)
class ContractTerms:
    signed_on: dt.date
    ends_on: dt.date | None
    dispute_window_days: int


@dataclass(frozen=True, slots=True)
class WindowCheck:
    window_ends_on: dt.date | None  # None when no contract was in force
    within_window: bool | None


def contract_in_force(contracts: Sequence[ContractTerms], on: dt.date) -> ContractTerms | None:
    """The contract in force on ``on``: signed by then and not ended before; the latest signed."""
    found = [c for c in contracts if c.signed_on <= on and (c.ends_on is None or c.ends_on >= on)]
    return max(found, key=lambda c: c.signed_on, default=None)


def check_window(
    issue_date: dt.date, raised_on: dt.date, contracts: Sequence[ContractTerms]
) -> WindowCheck:
    """The last day of the window and whether the claim came in time (see the module text)."""
    contract = contract_in_force(contracts, issue_date)
    if contract is None:
        return WindowCheck(None, None)
    ends = issue_date + dt.timedelta(days=contract.dispute_window_days)
    return WindowCheck(ends, raised_on <= ends)


def disputable(open_amount: int, other_open_disputes: int) -> int:
    """What may still be disputed on an invoice: its open amount less the open disputes."""
    return max(open_amount - other_open_disputes, 0)


def amount_problem(amount: int, open_amount: int, other_open_disputes: int) -> str | None:
    """Why ``amount`` cannot be disputed (bilingual), or None."""
    if amount <= 0:
        return "争议金额必须大于零 / the disputed amount must be positive"
    most = disputable(open_amount, other_open_disputes)
    if amount > most:
        return (
            f"争议金额 {amount} 分超过可争议的 {most} 分（未结金额减其他未决争议）/ "
            f"{amount} fen disputed but only {most} fen may be (open amount less other open "
            "disputes)"
        )
    return None


# --- Ageing of open disputes ----------------------------------------------------------------

# (name, first day open, last day open or None): days open = as_of - raised_on.
AGEING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)
BUCKET_NAMES: tuple[str, ...] = tuple(name for name, _, _ in AGEING_BUCKETS)


def ageing_bucket(days_open: int) -> str:
    for name, first, last in AGEING_BUCKETS:
        if days_open >= first and (last is None or days_open <= last):
            return name
    return BUCKET_NAMES[0]  # raised after as_of: not reported by the query, 0-30 if asked


def raised_bounds(as_of: dt.date) -> list[tuple[str, dt.date | None, dt.date]]:
    """Per bucket, the earliest (None: no limit) and latest ``raised_on`` it holds on ``as_of``,
    for SQL to compare dates it reads (identical on SQLite and PostgreSQL)."""
    bounds = []
    for name, first, last in AGEING_BUCKETS:
        earliest = None if last is None else as_of - dt.timedelta(days=last)
        bounds.append((name, earliest, as_of - dt.timedelta(days=first)))
    return bounds
