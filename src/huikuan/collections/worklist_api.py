"""Route: the collector's worklist under /api — whom to contact today, ranked by the expected
value of acting, with the reasons and the payment habits; ``format=xlsx`` for the workbook.

Money leaves as decimal strings; dates as YYYY-MM-DD. The list keeps to the customers the user
sees: a collector's own, a salesperson's own, everyone's for the others.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from huikuan.collections.api import Moment, moment
from huikuan.collections.worklist import WorklistRow, worklist, worklist_xlsx
from huikuan.core.errors import InvalidInput, prefixed
from huikuan.core.money import AmountError, decimal_string, parse_amount
from huikuan.customers.models import CustomerType
from huikuan.users.rules import Right, Role
from huikuan.web.deps import AsOfDep, Principal, SessionDep, require
from huikuan.web.schemas import ERROR_RESPONSES
from huikuan.web.xlsx import XLSX_TYPE

router = APIRouter(prefix="/api", tags=["collector's desk"])
# The worklist is the list of contacts to make today, each row one click from logging one:
# it belongs to the roles that log contacts (legal and viewers have no list to work).
Logger = Annotated[Principal, Depends(require(Right.LOG_CONTACTS))]
Name = Annotated[str | None, Query(max_length=60)]
MAX_ROWS = 1000
WHOSE = "Whose list; default: yours if you are a collector, else everyone's; empty: everyone's"


def optional_fen(text: str | None, field: str) -> int | None:
    """An amount bound as typed (``10000``, ``¥1,234.50``), or None when left empty."""
    if text is None or not text.strip():
        return None
    try:
        return parse_amount(text)
    except AmountError as exc:
        raise InvalidInput(prefixed(field, str(exc))) from exc


def whose_list(principal: Principal, asked: str | None) -> str | None:
    """Whose worklist (None: everyone's). A collector limited to their own customers always
    gets their own; otherwise the one asked for (empty: everyone's), and by default a
    collector's own and everyone's for the other roles."""
    if principal.scope.field == "collector":
        return principal.scope.name
    if asked is None:
        return principal.user.display_name if principal.user.role == Role.COLLECTOR else None
    return asked.strip() or None


def visible_worklist(
    session: Session, principal: Principal, *, as_of: dt.date, collector: str | None,
    customer_type: str | None = None, min_amount: str | None = None,
    max_amount: str | None = None, salesperson: str | None = None, limit: int = 200,
) -> list[WorklistRow]:  # fmt: skip
    """The worklist as the page and the API show it: amounts parsed, the user's view kept."""
    return worklist(
        session, company_id=principal.company.id, collector=collector, as_of=as_of,
        customer_type=customer_type or None, min_amount=optional_fen(min_amount, "min"),
        max_amount=optional_fen(max_amount, "max"), salesperson=(salesperson or "").strip() or None,
        limit=limit, only=principal.scope.only,
    )  # fmt: skip


class ReasonOut(BaseModel):
    code: str = Field(description="call_due, visit_due, promise_today, promise_tomorrow, "
                      "broken_promise, new_dispute, large_new_overdue, limitation")  # fmt: skip
    text: str = Field(description="中文 / English")


class HabitsOut(BaseModel):
    typical_pay_day: int | None = Field(description="Day of the month most payments arrive")
    average_days_late: float | None = Field(description="Settled invoices, about 18 months")
    recent_days_late: float | None = Field(description="The last three settled invoices")
    last_contact_at: Moment | None
    last_outcome: str
    best_contact: str
    best_hour: int | None = Field(description="Hour of day of most good outcomes, 0–23")


class WorklistRowOut(BaseModel):
    rank: int
    customer: str
    name: str
    customer_type: str
    salesperson: str
    collector: str
    grade: str | None
    value: str = Field(description="Expected amount collected by acting today")
    at_stake: str = Field(description="Chased overdue plus promises due today or tomorrow")
    chased_overdue: str
    days_overdue: int = Field(description="Days since the oldest chased overdue invoice fell due")
    collectability: float
    urgency: float
    reasons: list[ReasonOut]
    task_id: int | None = Field(description="The oldest open phone or visit task (action id)")
    habits: HabitsOut


class WorklistOut(BaseModel):
    as_of: dt.date
    collector: str | None = Field(description="Whose list; null: everyone the user sees")
    currency: str
    items: list[WorklistRowOut]


def _days(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _row(row: WorklistRow) -> WorklistRowOut:
    h = row.habits
    habits = HabitsOut(
        typical_pay_day=h.typical_pay_day, average_days_late=_days(h.average_days_late),
        recent_days_late=_days(h.recent_days_late), last_contact_at=moment(h.last_contact_at),
        last_outcome=h.last_outcome, best_contact=h.best_contact, best_hour=h.best_hour,
    )  # fmt: skip
    return WorklistRowOut(
        rank=row.rank, customer=row.code, name=row.name, customer_type=row.customer_type,
        salesperson=row.salesperson, collector=row.collector, grade=row.grade,
        value=decimal_string(row.value), at_stake=decimal_string(row.at_stake),
        chased_overdue=decimal_string(row.chased_overdue), days_overdue=row.days_overdue,
        collectability=round(float(row.collectability), 4), urgency=round(float(row.urgency), 4),
        reasons=[ReasonOut(code=r.code, text=r.text) for r in row.reasons], task_id=row.task_id,
        habits=habits,
    )  # fmt: skip


@router.get(
    "/worklist", response_model=WorklistOut,
    responses={**ERROR_RESPONSES, 200: {"content": {XLSX_TYPE: {}}, "description": "The list"}},
)  # fmt: skip
def worklist_route(
    session: SessionDep, principal: Logger, as_of: AsOfDep,
    collector: Annotated[str | None, Query(max_length=60, description=WHOSE)] = None,
    customer_type: Annotated[CustomerType | None, Query(alias="type")] = None,
    min_amount: Annotated[str | None, Query(alias="min", max_length=40, description="Least at stake, e.g. 10000.00")] = None,
    max_amount: Annotated[str | None, Query(alias="max", max_length=40, description="Most at stake")] = None,
    salesperson: Name = None, limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 200,
    output: Annotated[Literal["json", "xlsx"], Query(alias="format")] = "json",
) -> WorklistOut | Response:  # fmt: skip
    """Customers to contact on ``as_of``, ranked by the expected value of acting today, each
    with why it is on the list, the amounts and the payment habits."""
    whose = whose_list(principal, collector)
    rows = visible_worklist(
        session, principal, as_of=as_of, collector=whose,
        customer_type=customer_type.value if customer_type else None, min_amount=min_amount,
        max_amount=max_amount, salesperson=salesperson, limit=limit,
    )  # fmt: skip
    if output == "xlsx":
        return Response(
            worklist_xlsx(rows), media_type=XLSX_TYPE,
            headers={"Content-Disposition": f'attachment; filename="worklist-{as_of.isoformat()}.xlsx"'},
        )  # fmt: skip
    return WorklistOut(
        as_of=as_of, collector=whose, currency=principal.company.currency,
        items=[_row(r) for r in rows],
    )  # fmt: skip
