"""Credit management tables: dated assessments and their inputs, scores, versioned policies,
limits (from policy or overridden), customer groups, holds, the blacklist, and the credit
decisions on sales orders.

Nothing here is overwritten: a new assessment, score, limit or decision is a new row, so what
the customer's grade and limit were on any day, and why, can always be shown.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from huikuan.core.db import Base, Fen, IdType


class CreditAssessment(Base):
    """What we knew about a customer on one date: operating history, reputation, guarantees
    and insurance. Financial statements and public-record flags hang off it."""

    __tablename__ = "credit_assessment"
    __table_args__ = (
        Index("ix_credit_assessment_customer", "company_id", "customer_id", "assessed_on"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    # Operating history
    founded_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    employees: Mapped[int | None] = mapped_column(Integer, default=None)
    revenue_band: Mapped[str] = mapped_column(String(20), default="")  # rules.REVENUE_BANDS
    market_share_bp: Mapped[int | None] = mapped_column(Integer, default=None)  # basis points
    # Industry reputation and market position
    reputation_rating: Mapped[int | None] = mapped_column(Integer, default=None)  # 1..5
    reputation_source: Mapped[str] = mapped_column(String(200), default="")
    reputation_note: Mapped[str] = mapped_column(String(1000), default="")
    report_grade: Mapped[str] = mapped_column(String(20), default="")  # third-party report
    report_source: Mapped[str] = mapped_column(String(200), default="")
    report_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    # Security
    guarantee: Mapped[str] = mapped_column(String(500), default="")
    collateral_value: Mapped[int | None] = mapped_column(Fen, default=None)
    insured_limit: Mapped[int | None] = mapped_column(Fen, default=None)
    insurer: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    entered_by: Mapped[str] = mapped_column(String(100), default="")
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FinancialStatement(Base):
    """One year's figures from the customer's statements, in fen."""

    __tablename__ = "financial_statement"
    __table_args__ = (
        UniqueConstraint("assessment_id", "year"),
        CheckConstraint("total_assets >= 0", name="assets_not_negative"),
        CheckConstraint("total_liabilities >= 0", name="liabilities_not_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("credit_assessment.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    total_assets: Mapped[int] = mapped_column(Fen)
    total_liabilities: Mapped[int] = mapped_column(Fen)
    current_assets: Mapped[int | None] = mapped_column(Fen, default=None)
    current_liabilities: Mapped[int | None] = mapped_column(Fen, default=None)
    revenue: Mapped[int | None] = mapped_column(Fen, default=None)
    net_profit: Mapped[int | None] = mapped_column(Fen, default=None)
    operating_cash_flow: Mapped[int | None] = mapped_column(Fen, default=None)


class PublicRecordFlag(Base):
    """A finding from public records (a dishonest-debtor listing, court enforcement, ...)."""

    __tablename__ = "public_record_flag"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("credit_assessment.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # rules.FlagKind
    source: Mapped[str] = mapped_column(String(200))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(1000), default="")


class CreditPolicy(Base):
    """A version of the company's credit policy: scorecard bands and weights, grade to limit,
    terms, security and review interval, and the approval rules, as JSON (rules.Policy).
    A change is a new version; the old ones stay, because limits point at them."""

    __tablename__ = "credit_policy"
    __table_args__ = (UniqueConstraint("company_id", "version"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CreditScore(Base):
    """The scorecard's answer for a customer on a date, with every factor's explanation."""

    __tablename__ = "credit_score"
    __table_args__ = (Index("ix_credit_score_customer", "company_id", "customer_id", "scored_on"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("credit_assessment.id"), default=None
    )
    policy_id: Mapped[int] = mapped_column(ForeignKey("credit_policy.id"))
    scored_on: Mapped[dt.date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(Integer)  # tenths of a point: 0..1000
    grade: Mapped[str] = mapped_column(String(4))
    explanation: Mapped[str] = mapped_column(Text)  # JSON: rules.ScoreCard
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class LimitSource(enum.StrEnum):
    POLICY = "policy"  # computed from a score under a policy version
    OVERRIDE = "override"  # set by hand, with a reason and an approver


class CreditLimit(Base):
    """A credit limit and terms decided for a customer. The customer's limit on a day is the
    latest approved override in force that day, else the latest policy limit."""

    __tablename__ = "credit_limit"
    __table_args__ = (
        Index("ix_credit_limit_customer", "company_id", "customer_id", "valid_from"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    source: Mapped[str] = mapped_column(String(10))  # LimitSource
    amount: Mapped[int] = mapped_column(Fen)
    terms_days: Mapped[int] = mapped_column(Integer)
    guarantee_required: Mapped[bool] = mapped_column(Boolean, default=False)
    prepayment_required: Mapped[bool] = mapped_column(Boolean, default=False)
    review_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date, default=None)  # temporary increase
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("credit_policy.id"), default=None)
    score_id: Mapped[int | None] = mapped_column(ForeignKey("credit_score.id"), default=None)
    reason: Mapped[str] = mapped_column(String(1000), default="")
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    approved_by: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(10), default="approved")  # pending/approved/rejected
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CustomerGroup(Base):
    """Related customers (same parent, 集团客户) that share a group limit."""

    __tablename__ = "customer_group"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    limit_amount: Mapped[int | None] = mapped_column(Fen, default=None)


class CustomerGroupMember(Base):
    __tablename__ = "customer_group_member"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("customer_group.id"), index=True)


class HoldKind(enum.StrEnum):
    CREDIT_HOLD = "credit_hold"  # no new credit sales
    SUPPLY_STOP = "supply_stop"  # 暂停供货: nothing ships either


class CreditHold(Base):
    """A hold on a customer: placed with a reason, released later; both who and when."""

    __tablename__ = "credit_hold"
    __table_args__ = (Index("ix_credit_hold_customer", "company_id", "customer_id", "released_at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(1000))
    origin: Mapped[str] = mapped_column(String(20), default="manual")  # manual / collections
    placed_by: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    released_by: Mapped[str | None] = mapped_column(String(100), default=None)
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    release_reason: Mapped[str] = mapped_column(String(1000), default="")


class BlacklistEntry(Base):
    """A bad customer (不良客户), ours or shared by a partner, matched on name, aliases and
    unified social credit code."""

    __tablename__ = "blacklist_entry"
    __table_args__ = (Index("ix_blacklist_uscc", "company_id", "uscc"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[str] = mapped_column(String(1000), default="")  # "|"-separated
    uscc: Mapped[str] = mapped_column(String(18), default="")  # 统一社会信用代码
    reason: Mapped[str] = mapped_column(String(1000))
    evidence: Mapped[str] = mapped_column(String(2000), default="")
    source: Mapped[str] = mapped_column(String(200), default="")  # ours, or the partner's name
    listed_on: Mapped[dt.date] = mapped_column(Date)
    listed_by: Mapped[str] = mapped_column(String(100), default="")
    removed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    removed_by: Mapped[str | None] = mapped_column(String(100), default=None)


class SalesOrderLine(Base):
    """A line of a sales order: quantity times unit price. The order's amount is their sum."""

    __tablename__ = "sales_order_line"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    item: Mapped[str] = mapped_column(String(200))
    quantity_milli: Mapped[int] = mapped_column(Fen)  # thousandths, so 2.5 t is 2500
    unit_price: Mapped[int] = mapped_column(Fen)  # fen per unit
    amount: Mapped[int] = mapped_column(Fen)


class OrderDecision(Base):
    """Every credit decision on an order: automatic or by a person, with the reasons, the
    exposure and the limit it was judged against."""

    __tablename__ = "order_decision"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), index=True)
    decision: Mapped[str] = mapped_column(String(20))  # auto_approved/pending/approved/rejected
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of rules.Reason
    exposure: Mapped[int] = mapped_column(Fen, default=0)
    limit_amount: Mapped[int | None] = mapped_column(Fen, default=None)
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(String(1000), default="")
