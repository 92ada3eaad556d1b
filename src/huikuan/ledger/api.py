"""Routes: /api/invoices and /api/aging."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from huikuan.core.dates import format_date
from huikuan.core.errors import InvalidInput
from huikuan.core.money import decimal_string
from huikuan.ledger import aging_output
from huikuan.ledger.aging import AgingBy, aging_report
from huikuan.ledger.models import InvoiceStatus
from huikuan.ledger.queries import InvoiceFilter, list_invoices
from huikuan.ledger.rules import parse_bucket_limits
from huikuan.users.rules import Right
from huikuan.web.deps import AsOfDep, Principal, SessionDep, require
from huikuan.web.schemas import ERROR_RESPONSES, PageMeta

router = APIRouter(prefix="/api", tags=["ledger"])


class InvoicePublic(BaseModel):
    number: str
    customer_code: str
    customer_name: str
    order_number: str
    issue_date: str = Field(description="YYYY-MM-DD")
    due_date: str = Field(description="YYYY-MM-DD")
    amount: str
    open_amount: str
    currency: str
    status: InvoiceStatus
    days_overdue: int = Field(description="Days past due on as_of; 0 or less when not yet due")


class InvoicePage(PageMeta):
    items: list[InvoicePublic]


@router.get("/invoices", response_model=InvoicePage, responses=ERROR_RESPONSES)
def invoices(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Right.READ_LEDGER))],
    as_of: AsOfDep,
    customer: Annotated[str | None, Query(max_length=60, description="Customer code")] = None,
    status: InvoiceStatus | None = None,
    overdue: Annotated[
        bool | None, Query(description="Only late (true) or only not yet due (false)")
    ] = None,
    due_from: Annotated[dt.date | None, Query(description="Earliest due date YYYY-MM-DD")] = None,
    due_to: Annotated[dt.date | None, Query(description="Latest due date YYYY-MM-DD")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InvoicePage:
    """Invoices ordered by due date, with open amounts and days overdue on ``as_of``."""
    flt = InvoiceFilter(
        customer,
        status.value if status else None,
        overdue,
        due_from,
        due_to,
        principal.scope.only,
    )
    rows, total = list_invoices(
        session,
        company_id=principal.company.id,
        flt=flt,
        as_of=as_of,
        page=page,
        page_size=page_size,
    )
    items = [
        InvoicePublic(
            number=inv.number,
            customer_code=cust.code,
            customer_name=cust.name,
            order_number=inv.order_number,
            issue_date=format_date(inv.issue_date),
            due_date=format_date(inv.due_date),
            amount=decimal_string(inv.amount),
            open_amount=decimal_string(inv.open_amount),
            currency=inv.currency,
            status=InvoiceStatus(inv.status),
            days_overdue=(as_of - inv.due_date).days,
        )
        for inv, cust in rows
    ]
    return InvoicePage(items=items, page=page, page_size=page_size, total=total)


class AgingRowPublic(BaseModel):
    key: str
    name: str
    total: str
    buckets: dict[str, str]


class AgingTotals(BaseModel):
    total: str
    buckets: dict[str, str]


class AgingPublic(BaseModel):
    as_of: str = Field(description="YYYY-MM-DD")
    currency: str
    by: AgingBy
    buckets: list[str] = Field(description="Bucket names in order, e.g. current, 1-30, ...")
    rows: list[AgingRowPublic]
    totals: AgingTotals
    dso_days: float | None = Field(description="Days sales outstanding, countback method")
    row_count: int = Field(description="Rows in the whole report; rows holds one page when paged")
    page: int | None = Field(default=None, description="The page returned, when paged")
    page_size: int | None = Field(default=None, description="Rows per page, when paged")


@router.get(
    "/aging",
    response_model=AgingPublic,
    responses=ERROR_RESPONSES,
    response_model_exclude_unset=True,
)
def aging(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Right.READ_LEDGER))],
    as_of: AsOfDep,
    by: AgingBy = AgingBy.CUSTOMER,
    buckets: Annotated[
        str,
        Query(
            max_length=100,
            pattern=r"^\d{1,5}(,\d{1,5}){0,19}$",
            description="Increasing upper limits in days",
        ),
    ] = "30,60,90,180,365",
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    page: Annotated[
        int | None, Query(ge=1, le=1_000_000, description="By customer: one page of customers")
    ] = None,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    """The aging of open receivables on ``as_of``: the same JSON as ``huikuan aging --format json``."""
    try:
        limits = parse_bucket_limits(buckets)
    except ValueError as exc:
        raise InvalidInput(f"buckets: 账龄区间必须是递增的天数 / buckets: {exc}") from exc
    report = aging_report(
        session,
        company_id=principal.company.id,
        as_of=as_of,
        by=by,
        limits=limits,
        currency=(currency or principal.company.currency).upper(),
        only=principal.scope.only,
        window=((page - 1) * page_size, page_size) if page else None,
    )
    body = aging_output.to_json(report)
    if page and by is AgingBy.CUSTOMER:
        body.update(page=page, page_size=page_size)
    return body
