"""Finding and creating companies (the tenant every row belongs to)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import GENESIS, AuditHead
from huikuan.core.errors import InvalidInput, NotFound
from huikuan.core.models import Company


def create_company(session: Session, *, code: str, name: str, currency: str = "CNY") -> Company:
    if session.scalar(select(Company).where(Company.code == code)) is not None:
        raise InvalidInput(f"公司代码 {code} 已存在 / company code {code} already exists")
    company = Company(code=code, name=name, currency=currency)
    session.add(company)
    session.flush()
    # The audit chain's head exists from the start, so concurrent first writers lock one row
    # instead of racing to create it.
    session.add(AuditHead(company_id=company.id, seq=0, last_hash=GENESIS))
    session.flush()
    return company


def resolve_company(session: Session, code: str | None) -> Company:
    """The company named by ``code``, or the only company when there is just one."""
    if code:
        company = session.scalar(select(Company).where(Company.code == code))
        if company is None:
            raise NotFound(f"没有代码为 {code} 的公司 / no company with code {code}")
        return company
    companies = session.scalars(select(Company).order_by(Company.id).limit(2)).all()
    if not companies:
        raise NotFound(
            "数据库中还没有公司：先运行 huikuan init 或 huikuan demo / no company yet: run huikuan init or huikuan demo"
        )
    if len(companies) > 1:
        raise InvalidInput(
            "有多家公司，请用 --company 指定 / several companies: choose one with --company"
        )
    return companies[0]
