"""Routes: /api/customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from huikuan.core.money import decimal_string
from huikuan.customers.models import CustomerType
from huikuan.customers.queries import CustomerFilter, list_customers
from huikuan.users.rules import Right
from huikuan.web.deps import AsOfDep, Principal, SessionDep, require
from huikuan.web.schemas import ERROR_RESPONSES, PageMeta

router = APIRouter(prefix="/api/customers", tags=["customers"])


class CustomerPublic(BaseModel):
    code: str
    name: str
    customer_type: str
    salesperson: str
    collector: str
    status: str
    currency: str
    open_amount: str
    overdue_amount: str


class CustomerPage(PageMeta):
    items: list[CustomerPublic]


@router.get("", response_model=CustomerPage, responses=ERROR_RESPONSES)
def customers(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require(Right.READ_LEDGER))],
    as_of: AsOfDep,
    q: Annotated[str | None, Query(max_length=100, description="Part of the code or name")] = None,
    customer_type: CustomerType | None = None,
    salesperson: Annotated[str | None, Query(max_length=60)] = None,
    collector: Annotated[str | None, Query(max_length=60)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomerPage:
    """Customers by code, with what they owe (open) and what is late (overdue) on ``as_of``."""
    company = principal.company
    flt = CustomerFilter(
        q,
        customer_type.value if customer_type else None,
        salesperson,
        collector,
        principal.scope.only,
    )
    rows, total = list_customers(
        session,
        company_id=company.id,
        flt=flt,
        as_of=as_of,
        currency=company.currency,
        page=page,
        page_size=page_size,
    )
    items = [
        CustomerPublic(
            code=r.customer.code,
            name=r.customer.name,
            customer_type=r.customer.customer_type,
            salesperson=r.customer.salesperson,
            collector=r.customer.collector,
            status=r.customer.status,
            currency=company.currency,
            open_amount=decimal_string(r.open_amount),
            overdue_amount=decimal_string(r.overdue_amount),
        )
        for r in rows
    ]
    return CustomerPage(items=items, page=page, page_size=page_size, total=total)
