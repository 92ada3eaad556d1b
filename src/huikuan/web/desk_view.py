"""What the customer page shows of the collector's desk: the customer card, the contact log
and follow-ups, the form that logs a contact (with every excuse's facts and the call
assistant's text rendered, one fieldset per excuse), the customer's promises and disputes.

Kept apart from the routes (``web/desk_pages.py``) so that the customer page can render it
without importing the routes that render the customer page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.collections.contact_log import (
    CHANNELS,
    OUTCOMES,
    TASK_CHANNELS,
    contact_history,
    customer_card,
    list_follow_ups,
)
from huikuan.collections.dispute_rules import DisputeReason, Resolution
from huikuan.collections.disputes import list_disputes
from huikuan.collections.excuses import list_excuses
from huikuan.collections.models import CollectionAction
from huikuan.collections.promises import list_promises
from huikuan.customers.models import Customer
from huikuan.users.rules import Right, may
from huikuan.web.deps import Principal

HISTORY_LIMIT = 20


def fact_field(excuse: str, name: str) -> str:
    """The form field of one excuse's fact: each excuse has its own, so that only the chosen
    excuse's facts are read when every fieldset is posted (a browser without JS)."""
    return f"fact.{excuse}.{name}"


def desk_context(
    session: Session, principal: Principal, customer: Customer, as_of: dt.date,
    form: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    role = principal.user.role
    if not may(role, Right.READ_COLLECTIONS):
        return {"desk": None}
    company_id = customer.company_id
    tasks = list(
        session.scalars(
            select(CollectionAction)
            .where(
                CollectionAction.company_id == company_id,
                CollectionAction.customer_id == customer.id,
                CollectionAction.status == "open",
                CollectionAction.channel.in_(TASK_CHANNELS),
            )
            .order_by(CollectionAction.as_of, CollectionAction.id)
        )
    )
    return {
        "desk": {
            "card": customer_card(session, customer=customer, as_of=as_of),
            "history": contact_history(session, customer=customer, limit=HISTORY_LIMIT),
            "follow_ups": list_follow_ups(
                session, company_id=company_id, customer=customer, status=None
            ),
            "excuses": list_excuses(session, company_id=company_id, active_only=True),
            "tasks": tasks,
            "promises": list_promises(session, company_id=company_id, customer_id=customer.id),
            "disputes": list_disputes(session, company_id=company_id, customer_id=customer.id),
            "channels": CHANNELS,
            "outcomes": OUTCOMES,
            "reasons": [r.value for r in DisputeReason],
            "resolutions": [r.value for r in Resolution],
            "form": form,
            "fact_field": fact_field,
            "now": form.get("contacted_at") or "",
        },
        "can_log": may(role, Right.LOG_CONTACTS),
        "can_resolve": may(role, Right.RESOLVE_DISPUTES),
    }
