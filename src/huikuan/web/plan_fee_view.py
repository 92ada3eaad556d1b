"""What the customer page shows of payment plans and late fees: the customer's plans (with a
link to agree a new one) and the late fees still owed (with a link to their waivers).

Kept apart from the routes (``web/plan_fee_pages.py``) so that the customer page can render
it without importing the routes that render the customer page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from huikuan.collections.plan_fee_queries import owed_charges, plan_lines
from huikuan.customers.models import Customer
from huikuan.users.rules import Right, may
from huikuan.web.deps import Principal

FEES_SHOWN = 20  # the page lists the first ones and the total; /late-fees has them all


def plan_fee_context(session: Session, principal: Principal, customer: Customer) -> dict[str, Any]:
    role = principal.user.role
    if not may(role, Right.READ_COLLECTIONS):
        return {"plans_fees": None}
    return {
        "plans_fees": {
            "plans": plan_lines(session, company_id=customer.company_id, customer=customer.code),
            "fees": owed_charges(session, customer=customer, limit=FEES_SHOWN),
        },
        "can_close_follow_ups": may(role, Right.WORK_ACTIONS),
    }
