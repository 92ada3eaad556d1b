"""Assessments, scoring from the ledger, limits and overrides, reviews and the assessment import."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from huikuan.core.audit import history
from huikuan.core.errors import Conflict, ImportRejected, InvalidInput
from huikuan.core.models import Company
from huikuan.core.tabular import read_table
from huikuan.credit import limits, review, rules, service
from huikuan.credit.imports import import_assessments
from huikuan.credit.models import CreditAssessment, CreditLimit, CreditScore, FinancialStatement
from huikuan.credit.payment_record import payment_records
from huikuan.ledger import service as ledger
from tests.actors import ACTOR

from .ledger_builders import customer, invoice

D = dt.date
AS_OF = D(2026, 6, 30)


def assessed(**changes) -> service.AssessmentInput:
    base = dict(
        assessed_on=D(2026, 6, 1),
        statements=[rules.Financials(2025, 100_000_000_00, 60_000_000_00, 50_000_000_00,
                                     38_461_539_00, 200_000_000_00, 8_000_000_00, 9_000_000_00)],
        founded_on=D(2018, 6, 30), employees=150, revenue_band="50m-200m", market_share_bp=200,
        reputation_rating=4, reputation_source="行业协会", report_grade="A", report_source="某征信",
    )  # fmt: skip
    base.update(changes)
    return service.AssessmentInput(**base)  # type: ignore[arg-type]


def test_an_assessment_with_bad_figures_is_refused_and_writes_nothing(
    session: Session, company: Company
) -> None:
    c = customer(session, company, "C1", "华东建材有限公司")
    bad = assessed(
        statements=[rules.Financials(2025, 0, 5_000_00), rules.Financials(2024, -1, 0)],
        reputation_rating=7,
    )
    with pytest.raises(InvalidInput) as caught:
        service.record_assessment(session, actor=ACTOR, company_id=company.id, customer=c, data=bad)
    message = caught.value.message
    assert "statements 2025: 有负债却没有资产" in message
    assert "statements 2024: 资产和负债不能为负数" in message
    assert "reputation_rating: must be 1 to 5" in message
    assert session.scalar(select(func.count()).select_from(CreditAssessment)) == 0
    assert session.scalar(select(func.count()).select_from(FinancialStatement)) == 0


def test_a_new_assessment_never_overwrites_the_old_one(session: Session, company: Company) -> None:
    c = customer(session, company, "C1", "华东建材有限公司")
    first = service.record_assessment(
        session, actor=ACTOR, company_id=company.id, customer=c, data=assessed()
    )
    second = service.record_assessment(
        session, actor=ACTOR, company_id=company.id, customer=c,
        data=assessed(assessed_on=D(2026, 7, 1), employees=90),
    )  # fmt: skip
    assert first.id != second.id and first.employees == 150 and second.employees == 90
    latest = service.latest_assessment(session, company_id=company.id, customer_id=c.id)
    assert latest is not None and latest.id == second.id
    assert [r.action for r in history(session, company_id=company.id, entity="credit_assessment", entity_id=first.id)] == ["create"]  # fmt: skip


def test_the_payment_record_comes_from_the_ledger_weighted_by_amount(
    session: Session, company: Company
) -> None:
    c = customer(session, company, "C1", "华东建材有限公司")
    # 1,000.00 paid 10 days late; 3,000.00 paid 2 days early; 1,000.00 still open 70 days late.
    invoice(session, company, c, "I1", D(2026, 1, 1), 100_000, terms=30)  # due 01-31
    invoice(session, company, c, "I2", D(2026, 2, 1), 300_000, terms=30)  # due 03-03
    invoice(session, company, c, "I3", D(2026, 3, 22), 100_000, terms=30)  # due 04-21
    ledger.record_payment(session, actor=ACTOR, company_id=company.id, customer=c,
                          received_on=D(2026, 2, 10), amount=100_000, invoice_numbers=["I1"])  # fmt: skip
    ledger.record_payment(session, actor=ACTOR, company_id=company.id, customer=c,
                          received_on=D(2026, 3, 1), amount=300_000, invoice_numbers=["I2"])  # fmt: skip
    record = payment_records(session, company_id=company.id, as_of=AS_OF)[c.id]
    assert record.invoices == 3
    # (100000×10 + 300000×0 + 100000×70) / 500000 = 16 days
    assert record.weighted_days_late == 16
    assert record.share_paid_late == rules.Fraction(2, 3)
    assert record.share_over_60_late == rules.Fraction(1, 3)
    # All three fell due in the last six months (after 2025-12-30): nothing to compare with.
    assert record.recent_days_late == 16 and record.earlier_days_late is None


def test_scoring_records_grade_explanation_and_the_limit_it_earns(
    session: Session, company: Company
) -> None:
    c = customer(session, company, "C1", "华东建材有限公司")
    service.record_assessment(
        session, actor=ACTOR, company_id=company.id, customer=c, data=assessed()
    )
    [scored] = service.score_customers(
        session, actor=ACTOR, company_id=company.id, customers=[c], as_of=AS_OF
    )
    stored = session.get_one(CreditScore, scored.score.id)
    facts = json.loads(stored.explanation)
    by_name = {f["name"]: f for f in facts["factors"]}
    assert by_name["debt_ratio"] == {"name": "debt_ratio", "dimension": "financial", "value": "0.6",
                                     "points": 55, "weight": 1, "missing": False}  # fmt: skip
    # No invoices yet: the payment record is missing and scored low, and says so.
    assert (
        by_name["weighted_days_late"]["missing"] and by_name["weighted_days_late"]["points"] == 20
    )
    assert stored.grade == scored.card.grade == facts["grade"]
    limit = limits.current_limit(session, company_id=company.id, customer_id=c.id, as_of=AS_OF)
    assert limit is not None and limit.score_id == stored.id and limit.policy_id is not None
    expected = rules.limit_for(stored.grade, assessed().statements[0], 0, AS_OF)
    assert (limit.amount, limit.terms_days, limit.review_on) == (
        expected.amount,
        expected.terms_days,
        expected.review_on,
    )


def test_an_override_needs_a_reason_and_another_persons_approval_and_expires(
    session: Session, company: Company
) -> None:
    c = customer(session, company, "C1", "华东建材有限公司")
    service.record_assessment(
        session, actor=ACTOR, company_id=company.id, customer=c, data=assessed()
    )
    service.score_customers(session, actor=ACTOR, company_id=company.id, customers=[c], as_of=AS_OF)
    policy_limit = limits.current_limit(
        session, company_id=company.id, customer_id=c.id, as_of=AS_OF
    )
    assert policy_limit is not None
    ask = limits.OverrideRequest(amount=2_000_000_00, terms_days=60, reason="",
                                 valid_from=D(2026, 7, 1), expires_on=D(2026, 8, 31))  # fmt: skip
    with pytest.raises(InvalidInput, match="needs a reason"):
        limits.request_override(
            session, actor=ACTOR, company_id=company.id, customer=c, request=ask
        )
    ask = limits.OverrideRequest(
        2_000_000_00, 60, "旺季备货，临时提额", D(2026, 7, 1), D(2026, 8, 31)
    )
    row = limits.request_override(
        session, actor=ACTOR, company_id=company.id, customer=c, request=ask
    )
    assert (
        limits.current_limit(session, company_id=company.id, customer_id=c.id, as_of=D(2026, 7, 15))
        == policy_limit
    )
    with pytest.raises(Conflict, match="your own"):
        limits.decide_override(
            session, actor=ACTOR, company_id=company.id, limit_id=row.id, approve=True
        )
    boss = ACTOR.__class__("credit", "web 127.0.0.1", ACTOR.at)
    limits.decide_override(
        session, actor=boss, company_id=company.id, limit_id=row.id, approve=True
    )
    during = limits.current_limit(
        session, company_id=company.id, customer_id=c.id, as_of=D(2026, 7, 15)
    )
    after = limits.current_limit(
        session, company_id=company.id, customer_id=c.id, as_of=D(2026, 9, 1)
    )
    assert during is not None and during.amount == 2_000_000_00 and during.approved_by == "credit"
    assert after == policy_limit  # the temporary increase ended
    trail = history(session, company_id=company.id, entity="credit_limit", entity_id=row.id)
    assert [r.action for r in trail] == ["request", "approve"]


def test_review_lists_each_reason(session: Session, company: Company) -> None:
    customer(session, company, "C0", "从未评估")
    due = customer(session, company, "C1", "到期复评")
    over = customer(session, company, "C2", "超额度")
    for c in (due, over):
        service.record_assessment(session, actor=ACTOR, company_id=company.id, customer=c, data=assessed(assessed_on=D(2025, 1, 1)))  # fmt: skip
    service.score_customers(session, actor=ACTOR, company_id=company.id, customers=[due, over], as_of=D(2025, 1, 1))  # fmt: skip
    limit = limits.current_limit(session, company_id=company.id, customer_id=over.id, as_of=AS_OF)
    assert limit is not None
    # C2 owes more than its limit, with an invoice 45 days overdue (policy: 30).
    invoice(session, company, over, "BIG", D(2026, 4, 16), limit.amount + 1, terms=30)
    items = {
        i.customer.code: i
        for i in review.due_for_review(session, company_id=company.id, as_of=AS_OF)
    }
    assert items["C0"].reasons == ("never_assessed",)
    assert "review_date" in items["C1"].reasons  # reviewed 2025-01-01, earned 6-12 months
    assert {"over_limit", "overdue"} <= set(items["C2"].reasons)
    assert items["C2"].exposure == limit.amount + 1 and items["C2"].oldest_overdue_days == 45
    rescored = review.rescore(
        session, actor=ACTOR, company_id=company.id, items=list(items.values()), as_of=AS_OF
    )
    assert {s.customer.code for s in rescored} == {"C0", "C1", "C2"}
    assert (
        session.scalar(
            select(func.count()).select_from(CreditLimit).where(CreditLimit.valid_from == AS_OF)
        )
        == 3
    )


ASSESSMENTS = """客户编码,评估日期,报表年度,资产总额,负债总额,营业收入,净利润,成立日期,员工人数,行业口碑,公共记录
C1,2026-06-01,2025,"1,000,000.00",600000,2000000,80000,2018-06-30,150,4,
C1,2026-06-01,2024,900000,550000,1800000,60000,,,,
C2,2026-06-01,2025,500000,abc,,,2030-01-01,,9,dishonest_debtor:执行信息公开网:2026-03-01
C9,2026-06-01,,,,,,,,,
"""


def test_assessment_import_reports_every_bad_row_then_imports_once(
    session: Session, company: Company, tmp_path: Path
) -> None:
    c1 = customer(session, company, "C1", "华东建材有限公司")
    customer(session, company, "C2", "西部机械有限公司")
    path = tmp_path / "assess.csv"
    path.write_bytes(ASSESSMENTS.encode("gbk"))
    with pytest.raises(ImportRejected) as caught:
        import_assessments(
            session, actor=ACTOR, company_id=company.id, table=read_table(path), overrides={}
        )
    reasons = {(e.row, e.column): e.reason for e in caught.value.errors}
    assert "无法识别的金额" in reasons[(4, "负债总额")]
    assert "没有客户 C9" in reasons[(5, "客户编码")]
    assert session.scalar(select(func.count()).select_from(CreditAssessment)) == 0
    good = "\n".join(ASSESSMENTS.splitlines()[:3]) + "\n"
    path.write_bytes(good.encode("gbk"))
    result = import_assessments(
        session, actor=ACTOR, company_id=company.id, table=read_table(path), overrides={}
    )
    again = import_assessments(
        session, actor=ACTOR, company_id=company.id, table=read_table(path), overrides={}
    )
    assert (result.created, again.created, again.unchanged) == (1, 0, 1)
    a = service.latest_assessment(session, company_id=company.id, customer_id=c1.id)
    assert a is not None and a.employees == 150 and a.reputation_rating == 4
    years = {s.year: s.total_assets for s in session.scalars(select(FinancialStatement))}
    assert years == {2025: 100_000_000, 2024: 90_000_000}
