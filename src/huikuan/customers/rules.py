"""Pure rules about customers: reading customer types, deciding contact changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from huikuan.customers.models import CUSTOMER_TYPE_LABELS_ZH, CustomerType

# Words people put in a "type" column, mapped to the five customer types.
_TYPE_WORDS = {
    **{t.value: t for t in CustomerType},
    **{label: t for t, label in CUSTOMER_TYPE_LABELS_ZH.items()},
    "工程": CustomerType.PROJECT,
    "工程项目": CustomerType.PROJECT,
    "项目": CustomerType.PROJECT,
    "厂商": CustomerType.DEALER,
    "经销商": CustomerType.DEALER,
    "品牌商": CustomerType.DEALER,
    "代理商": CustomerType.DEALER,
    "工厂": CustomerType.INDUSTRIAL,
    "厂家": CustomerType.INDUSTRIAL,
    "制造": CustomerType.INDUSTRIAL,
    "商超": CustomerType.RETAIL_CHAIN,
    "超市": CustomerType.RETAIL_CHAIN,
    "商场": CustomerType.RETAIL_CHAIN,
    "零售": CustomerType.RETAIL_CHAIN,
    "retail": CustomerType.RETAIL_CHAIN,
    "其它": CustomerType.OTHER,
    "": CustomerType.OTHER,
}


def read_customer_type(text: str) -> CustomerType | None:
    """The customer type a word stands for, or None when it is not one we know."""
    return _TYPE_WORDS.get(text.strip().lower().replace(" ", "_"))


@dataclass(frozen=True, slots=True)
class ContactFacts:
    name: str
    role: str
    phone: str = ""
    email: str = ""
    is_decision_maker: bool = False


@dataclass(frozen=True, slots=True)
class CurrentContact:
    id: int
    facts: ContactFacts


@dataclass(frozen=True, slots=True)
class ContactChange:
    close_ids: tuple[int, ...]  # contacts whose validity ends the day before
    add: ContactFacts | None  # the new contact, or None when nothing changes
    update_id: int | None = None  # same person, only the decision-maker flag changed


def contact_change(current: Sequence[CurrentContact], new: ContactFacts) -> ContactChange:
    """What recording ``new`` as the contact for its role means for the current contacts.

    The same person (name, phone, email) in the same role is no change (at most the
    decision-maker flag is updated); anyone else in that role is closed and the new person
    added, so the history of who spoke for the customer survives.
    """
    same_role = [c for c in current if c.facts.role == new.role]
    for contact in same_role:
        f = contact.facts
        if (f.name, f.phone, f.email) == (new.name, new.phone, new.email):
            changed = f.is_decision_maker != new.is_decision_maker
            return ContactChange((), None, contact.id if changed else None)
    return ContactChange(tuple(c.id for c in same_role), new)


def closing_date(as_of: dt.date) -> dt.date:
    """A replaced contact was valid until the day before the new one."""
    return as_of - dt.timedelta(days=1)
