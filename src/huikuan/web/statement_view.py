"""What the customer page shows of statements of account (对账单): the latest statements with
their status, the form that issues one for a period (last month by default) and the schedule
the daily run sends them on.

Kept apart from the routes (``web/statement_pages.py``) so that the customer page can render
it without importing the routes that render the customer page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from huikuan.customers.models import Customer
from huikuan.reconciliation.models import StatementSchedule
from huikuan.reconciliation.schedule_rules import Frequency
from huikuan.reconciliation.statement_queries import list_statements
from huikuan.users.rules import Right, may
from huikuan.web.deps import Principal
from huikuan.web.i18n import Lang, localise

LATEST_SHOWN = 6


def last_month(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month before ``as_of``: the period a statement usually covers."""
    end = as_of.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def statement_context(
    session: Session, principal: Principal, customer: Customer, as_of: dt.date, lang: Lang,
    form: dict[str, str] | None = None, error: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The section's rows and forms; ``form`` and ``error`` are a refused form's values as
    typed and its reason."""
    role = principal.user.role
    if not may(role, Right.READ_LEDGER):
        return {"statement_section": None}
    start, end = last_month(as_of)
    schedule = session.get(StatementSchedule, (customer.company_id, customer.id))
    defaults = {
        "from": start.isoformat(), "to": end.isoformat(), "language": "zh",
        "frequency": schedule.frequency if schedule else Frequency.MONTHLY.value,
        "day": str(schedule.day) if schedule else "1",
        "active": "on" if schedule is None or schedule.active else "",
    }  # fmt: skip
    return {
        "statement_section": {
            "rows": list_statements(
                session, company_id=customer.company_id, customer=customer.code,
                limit=LATEST_SHOWN,
            ),
            "schedule": schedule,
            "frequencies": [f.value for f in Frequency],
            "form": {**defaults, **(form or {})},
            "error": localise(error, lang) if error else None,
        },
        "can_reconcile": may(role, Right.RECONCILE_STATEMENTS),
    }  # fmt: skip
