"""Credit use cases: record an assessment, score customers (one or all), and the latest
grade, score and limit of a customer. Scores and limits are new rows each time; the
explanation of every factor is kept with the score, so a grade can be defended later."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import InvalidInput, joined, prefixed
from huikuan.credit import limits, rules
from huikuan.credit.models import (
    CreditAssessment,
    CreditLimit,
    CreditScore,
    FinancialStatement,
    PublicRecordFlag,
)
from huikuan.credit.payment_record import payment_records
from huikuan.customers.models import Customer


@dataclass(frozen=True, slots=True)
class FlagInput:
    kind: rules.FlagKind
    source: str
    recorded_on: dt.date
    note: str = ""


@dataclass(frozen=True, slots=True)
class AssessmentInput:
    """Everything a credit manager enters for one assessment (amounts in fen)."""

    assessed_on: dt.date
    statements: Sequence[rules.Financials] = ()
    founded_on: dt.date | None = None
    employees: int | None = None
    revenue_band: str = ""
    market_share_bp: int | None = None
    reputation_rating: int | None = None
    reputation_source: str = ""
    reputation_note: str = ""
    report_grade: str = ""
    report_source: str = ""
    report_date: dt.date | None = None
    flags: Sequence[FlagInput] = ()
    guarantee: str = ""
    collateral_value: int | None = None
    insured_limit: int | None = None
    insurer: str = ""
    note: str = ""


def assessment_problems(data: AssessmentInput) -> list[str]:
    """Every reason the input cannot be recorded, as bilingual messages naming the field."""
    problems = []
    years = [s.year for s in data.statements]
    if len(set(years)) != len(years):
        problems.append(prefixed("statements", "同一年份出现两次 / the same year twice"))
    for s in data.statements:
        problems += [prefixed(f"statements {s.year}", p) for p in rules.financials_problems(s)]
    if data.founded_on is not None and data.founded_on > data.assessed_on:
        problems.append(prefixed("founded_on", "成立日期晚于评估日期 / after the assessment date"))
    if data.employees is not None and data.employees < 0:
        problems.append(prefixed("employees", "不能为负 / cannot be negative"))
    if data.revenue_band and data.revenue_band not in rules.REVENUE_BANDS:
        bands = ", ".join(rules.REVENUE_BANDS)
        problems.append(prefixed("revenue_band", f"须为 {bands} 之一 / must be one of {bands}"))
    if data.market_share_bp is not None and not 0 <= data.market_share_bp <= 10_000:
        problems.append(prefixed("market_share", "须在 0–100% / must be 0–100%"))
    if data.reputation_rating is not None and not 1 <= data.reputation_rating <= 5:
        problems.append(prefixed("reputation_rating", "须为 1–5 / must be 1 to 5"))
    if data.report_grade and data.report_grade not in rules.REPORT_GRADES:
        grade = data.report_grade
        problems.append(prefixed("report_grade", f"未知等级 {grade} / unknown grade {grade}"))
    for amount, name in ((data.collateral_value, "collateral_value"), (data.insured_limit, "insured_limit")):  # fmt: skip
        if amount is not None and amount < 0:
            problems.append(prefixed(name, "不能为负数 / cannot be negative"))
    for flag in data.flags:
        if not flag.source.strip():
            problems.append(prefixed(f"flags {flag.kind}", "须注明来源 / needs a source"))
        if flag.recorded_on > data.assessed_on:
            problems.append(
                prefixed(f"flags {flag.kind}", "日期晚于评估日期 / dated after the assessment")
            )
    return problems


def record_assessment(
    session: Session, *, actor: Actor, company_id: int, customer: Customer, data: AssessmentInput
) -> CreditAssessment:
    """Store a new dated assessment; earlier ones are kept as they were."""
    problems = assessment_problems(data)
    if problems:
        raise InvalidInput(joined(problems))
    row = CreditAssessment(
        company_id=company_id, customer_id=customer.id, assessed_on=data.assessed_on,
        founded_on=data.founded_on, employees=data.employees, revenue_band=data.revenue_band,
        market_share_bp=data.market_share_bp, reputation_rating=data.reputation_rating,
        reputation_source=data.reputation_source, reputation_note=data.reputation_note,
        report_grade=data.report_grade, report_source=data.report_source,
        report_date=data.report_date, guarantee=data.guarantee,
        collateral_value=data.collateral_value, insured_limit=data.insured_limit,
        insurer=data.insurer, note=data.note, entered_by=actor.name, entered_at=actor.at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    for s in data.statements:
        session.add(
            FinancialStatement(
                company_id=company_id,
                assessment_id=row.id,
                year=s.year,
                total_assets=s.total_assets,
                total_liabilities=s.total_liabilities,
                current_assets=s.current_assets,
                current_liabilities=s.current_liabilities,
                revenue=s.revenue,
                net_profit=s.net_profit,
                operating_cash_flow=s.operating_cash_flow,
            )
        )
    for f in data.flags:
        session.add(
            PublicRecordFlag(
                company_id=company_id,
                assessment_id=row.id,
                kind=f.kind.value,
                source=f.source,
                recorded_on=f.recorded_on,
                note=f.note,
            )
        )
    session.flush()
    record_change(
        session, actor=actor, company_id=company_id, entity="credit_assessment",
        entity_id=row.id, action="create", after={
            "customer": customer.code, "assessed_on": data.assessed_on,
            "statements": [vars_of(s) for s in data.statements],
            "flags": [[f.kind.value, f.source, f.recorded_on] for f in data.flags],
            "reputation_rating": data.reputation_rating, "report_grade": data.report_grade,
        },
    )  # fmt: skip
    return row


def vars_of(statement: rules.Financials) -> dict[str, object]:
    return {name: getattr(statement, name) for name in statement.__slots__}


# ---------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the scorecard is given for one customer."""

    assessment: CreditAssessment | None
    financials: rules.Financials | None
    profile: rules.Profile
    record: rules.PaymentRecord


def gather_evidence(
    session: Session, *, company_id: int, customer_ids: Sequence[int], as_of: dt.date,
    lookback_months: int,
) -> dict[int, Evidence]:  # fmt: skip
    """The latest assessment on or before ``as_of`` for each customer, its latest statements and
    flags, and the payment record: a handful of statements whatever the number of customers."""
    latest = (
        select(CreditAssessment.customer_id, func.max(CreditAssessment.id).label("id"))
        .where(
            CreditAssessment.company_id == company_id,
            CreditAssessment.assessed_on <= as_of,
            CreditAssessment.customer_id.in_(list(customer_ids)),
        )
        .group_by(CreditAssessment.customer_id)
        .subquery()
    )
    assessments = {
        a.customer_id: a
        for a in session.scalars(select(CreditAssessment).join(latest, latest.c.id == CreditAssessment.id))
    }  # fmt: skip
    ids = [a.id for a in assessments.values()]
    statements: dict[int, list[rules.Financials]] = defaultdict(list)
    for s in session.scalars(
        select(FinancialStatement).where(FinancialStatement.assessment_id.in_(ids))
    ):
        statements[s.assessment_id].append(_financials(s))  # fmt: skip
    flags: dict[int, list[rules.FlagKind]] = defaultdict(list)
    for f in session.scalars(
        select(PublicRecordFlag).where(PublicRecordFlag.assessment_id.in_(ids))
    ):
        flags[f.assessment_id].append(rules.FlagKind(f.kind))  # fmt: skip
    records = payment_records(
        session, company_id=company_id, as_of=as_of, lookback_months=lookback_months,
        customer_ids=customer_ids,
    )  # fmt: skip
    evidence = {}
    for customer_id in customer_ids:
        a = assessments.get(customer_id)
        evidence[customer_id] = Evidence(
            a,
            rules.latest_financials(statements[a.id]) if a else None,
            _profile(a, flags[a.id] if a else []),
            records.get(customer_id, rules.PaymentRecord()),
        )
    return evidence


def _financials(s: FinancialStatement) -> rules.Financials:
    return rules.Financials(
        s.year, s.total_assets, s.total_liabilities, s.current_assets, s.current_liabilities,
        s.revenue, s.net_profit, s.operating_cash_flow,
    )  # fmt: skip


def _profile(a: CreditAssessment | None, flags: list[rules.FlagKind]) -> rules.Profile:
    if a is None:
        return rules.Profile()
    return rules.Profile(
        a.founded_on, a.employees, a.revenue_band, a.market_share_bp, a.reputation_rating,
        a.report_grade, tuple(flags), (a.collateral_value or 0) + (a.insured_limit or 0),
    )  # fmt: skip


def card_for(evidence: Evidence, as_of: dt.date, policy: rules.Policy) -> rules.ScoreCard:
    values = rules.factor_values(evidence.financials, evidence.profile, evidence.record, as_of)
    return rules.score_card(values, evidence.profile.flags, policy)


@dataclass(frozen=True, slots=True)
class Scored:
    customer: Customer
    card: rules.ScoreCard
    score: CreditScore
    limit: CreditLimit
    previous_grade: str | None


def score_customers(
    session: Session, *, actor: Actor, company_id: int, customers: Sequence[Customer],
    as_of: dt.date, progress: Callable[[int, int], None] | None = None,
) -> list[Scored]:  # fmt: skip
    """Score each customer on ``as_of`` under the policy in force and record the limit the grade
    earns. Batched: evidence for 2,000 customers at a time."""
    policy_row = limits.ensure_policy(session, actor=actor, company_id=company_id)
    _, policy = limits.current_policy(session, company_id=company_id)
    done: list[Scored] = []
    for start in range(0, len(customers), 2000):
        chunk = customers[start : start + 2000]
        ids = [c.id for c in chunk]
        evidence = gather_evidence(
            session, company_id=company_id, customer_ids=ids, as_of=as_of,
            lookback_months=policy.lookback_months,
        )  # fmt: skip
        previous = latest_grades(session, company_id=company_id, customer_ids=ids)
        for customer in chunk:
            done.append(
                _score_one(
                    session,
                    actor,
                    company_id,
                    customer,
                    evidence[customer.id],
                    as_of,
                    policy,
                    policy_row.id,
                    previous.get(customer.id),
                )
            )
        if progress:
            progress(len(done), len(customers))
    return done


def _score_one(
    session: Session, actor: Actor, company_id: int, customer: Customer, evidence: Evidence,
    as_of: dt.date, policy: rules.Policy, policy_id: int, previous: str | None,
) -> Scored:  # fmt: skip
    card = card_for(evidence, as_of, policy)
    row = CreditScore(
        company_id=company_id, customer_id=customer.id,
        assessment_id=evidence.assessment.id if evidence.assessment else None,
        policy_id=policy_id, scored_on=as_of, score=card.score_tenths, grade=card.grade,
        explanation=json.dumps(explanation(card, evidence), ensure_ascii=False),
        created_by=actor.name, created_at=actor.at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    decision = rules.limit_for(
        card.grade, evidence.financials, evidence.profile.secured_amount, as_of, policy
    )
    record_change(
        session, actor=actor, company_id=company_id, entity="credit_score", entity_id=row.id,
        action="create", before={"grade": previous} if previous else None,
        after={"customer": customer.code, "score": card.score_tenths, "grade": card.grade,
               "scored_on": as_of},
    )  # fmt: skip
    limit = limits.record_policy_limit(
        session, actor=actor, company_id=company_id, customer=customer, policy_id=policy_id,
        score_id=row.id, decision=decision, as_of=as_of,
    )  # fmt: skip
    return Scored(customer, card, row, limit, previous)


def explanation(card: rules.ScoreCard, evidence: Evidence) -> dict[str, object]:
    """Every factor's value, points and weight, as stored with the score and shown on pages."""
    return {
        "score": card.score_tenths,
        "grade": card.grade,
        "score_grade": card.score_grade,
        "dimensions": {d.value: f"{float(p):.1f}" for d, p in card.dimension_points.items()},
        "factors": [
            {
                "name": f.name,
                "dimension": f.dimension.value,
                "value": _shown(f.value),
                "points": f.points,
                "weight": f.weight,
                "missing": f.missing,
            }
            for f in card.factors
        ],
        "caps": [[flag.value, grade] for flag, grade in card.caps],
        "statements_year": evidence.financials.year if evidence.financials else None,
        "invoices_in_record": evidence.record.invoices,
    }


def _shown(value: Fraction | None) -> str | None:
    """Values as people read them: ratios to 4 decimals, days to 1."""
    if value is None:
        return None
    return f"{float(value):.4f}".rstrip("0").rstrip(".") if value.denominator != 1 else str(value)


def latest_grades(
    session: Session, *, company_id: int, customer_ids: Sequence[int]
) -> dict[int, str]:
    latest = (
        select(func.max(CreditScore.id))
        .where(CreditScore.company_id == company_id, CreditScore.customer_id.in_(list(customer_ids)))
        .group_by(CreditScore.customer_id)
    )  # fmt: skip
    return {
        customer_id: grade
        for customer_id, grade in session.execute(
            select(CreditScore.customer_id, CreditScore.grade).where(CreditScore.id.in_(latest))
        )
    }


def latest_score(session: Session, *, company_id: int, customer_id: int) -> CreditScore | None:
    return session.scalar(
        select(CreditScore)
        .where(CreditScore.company_id == company_id, CreditScore.customer_id == customer_id)
        .order_by(CreditScore.id.desc())
        .limit(1)
    )


def latest_assessment(
    session: Session, *, company_id: int, customer_id: int
) -> CreditAssessment | None:
    return session.scalar(
        select(CreditAssessment)
        .where(
            CreditAssessment.company_id == company_id, CreditAssessment.customer_id == customer_id
        )
        .order_by(CreditAssessment.assessed_on.desc(), CreditAssessment.id.desc())
        .limit(1)
    )
