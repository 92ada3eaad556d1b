"""Customers, their contacts (kept as history) and contracts (payment terms, dispute window)."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from huikuan.core.db import Base, Fen, IdType


class CustomerType(enum.StrEnum):
    """The five kinds of debtor the collections strategies are built around."""

    PROJECT = "project"  # 工程项目型: contractors paid on project milestones
    DEALER = "dealer"  # 厂商型: brand owners and their dealers
    INDUSTRIAL = "industrial"  # 厂家对厂家: factory-to-factory B2B
    RETAIL_CHAIN = "retail_chain"  # 商场超市: paid on a monthly settlement cycle
    OTHER = "other"


CUSTOMER_TYPE_LABELS_ZH = {
    CustomerType.PROJECT: "工程项目型",
    CustomerType.DEALER: "厂商型",
    CustomerType.INDUSTRIAL: "厂家对厂家",
    CustomerType.RETAIL_CHAIN: "商场超市",
    CustomerType.OTHER: "其他",
}


class CustomerStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (
        UniqueConstraint("company_id", "code"),
        Index("ix_customer_company_name", "company_id", "name"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    # Other names the customer pays or signs under, separated by "|" (bank lines use them).
    aliases: Mapped[str] = mapped_column(String(1000), default="")
    # 统一社会信用代码, checked (core.uscc) when entered; matched against the blacklist.
    uscc: Mapped[str] = mapped_column(String(18), default="")
    customer_type: Mapped[str] = mapped_column(String(20), default=CustomerType.OTHER.value)
    status: Mapped[str] = mapped_column(String(20), default=CustomerStatus.ACTIVE.value)
    salesperson: Mapped[str] = mapped_column(String(60), default="")
    collector: Mapped[str] = mapped_column(String(60), default="")
    # Free tags separated by "|", e.g. "重点|华东".
    tags: Mapped[str] = mapped_column(String(500), default="")
    # The day of the month the customer settles suppliers (retail chains: after reconciliation);
    # 31 means the month's last day. Collections steps can be anchored to it.
    settlement_day: Mapped[int | None] = mapped_column(Integer, default=None)


class Contact(Base):
    """A person at a customer. A change of contact closes the old row (``valid_to``) and opens
    a new one, so the history of who we spoke to survives; the *original contact* who placed
    the first orders often matters most when collecting."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(60), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    is_decision_maker: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, default=None)


class Contract(Base):
    __tablename__ = "contract"
    __table_args__ = (UniqueConstraint("company_id", "number"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    number: Mapped[str] = mapped_column(String(60))
    signed_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    # Days after delivery within which the customer may raise a quality or quantity dispute.
    dispute_window_days: Mapped[int] = mapped_column(Integer, default=15)
    # Late fee per day, as a fraction (0.0005 = 0.05% a day, a common contract clause).
    late_fee_rate_per_day: Mapped[Decimal] = mapped_column(Numeric(10, 6), default=0)
    # Or an annual rate (0.18 = 18% a year) turned into a daily one by the day count; a contract
    # states one of the two. Compounding only when the contract says so.
    late_fee_rate_per_year: Mapped[Decimal] = mapped_column(Numeric(10, 6), default=0)
    late_fee_day_count: Mapped[str] = mapped_column(String(12), default="actual/365")
    late_fee_compound: Mapped[bool] = mapped_column(Boolean, default=False)
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    guarantee: Mapped[str] = mapped_column(String(500), default="")
    credit_limit: Mapped[int | None] = mapped_column(Fen, default=None)
