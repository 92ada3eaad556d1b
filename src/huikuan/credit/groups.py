"""Customer groups (集团客户): related customers that share a group limit, checked together
with each member's own limit when an order is approved."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import InvalidInput
from huikuan.credit.models import CustomerGroup, CustomerGroupMember
from huikuan.customers.models import Customer


def set_group(
    session: Session, *, actor: Actor, company_id: int, code: str, name: str,
    limit_amount: int | None, members: Sequence[Customer] = (),
) -> CustomerGroup:  # fmt: skip
    """Create the group or change its name and limit; add the members given (a customer moves
    from any group it was in: a customer belongs to one group)."""
    if not code.strip() or not name.strip():
        raise InvalidInput("集团编码和名称必填 / a group needs a code and a name")
    if limit_amount is not None and limit_amount < 0:
        raise InvalidInput("集团额度不能为负数 / a group limit cannot be negative")
    group = session.scalar(
        select(CustomerGroup).where(
            CustomerGroup.company_id == company_id, CustomerGroup.code == code
        )
    )
    before = None
    if group is None:
        group = CustomerGroup(
            company_id=company_id, code=code, name=name, limit_amount=limit_amount
        )
        session.add(group)
    else:
        before = {"name": group.name, "limit": group.limit_amount}
        group.name, group.limit_amount = name, limit_amount
    session.flush()
    for customer in members:
        if customer.company_id != company_id:
            raise InvalidInput(f"客户 {customer.code} 不属于本公司 / not this company's customer")
        member = session.get(CustomerGroupMember, customer.id)
        if member is None:
            session.add(
                CustomerGroupMember(
                    customer_id=customer.id, company_id=company_id, group_id=group.id
                )
            )
        else:
            member.group_id = group.id
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="customer_group", entity_id=code,
        action="update" if before else "create", before=before,
        after={"name": name, "limit": limit_amount, "added": [c.code for c in members]},
    )  # fmt: skip
    return group


def group_of(session: Session, *, customer_id: int) -> CustomerGroup | None:
    member = session.get(CustomerGroupMember, customer_id)
    return session.get(CustomerGroup, member.group_id) if member else None
