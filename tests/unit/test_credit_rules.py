"""The scorecard and policy rules: bands, weights, grades, caps, limits. No database."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.credit import rules
from huikuan.credit.rules import Dimension, FlagKind, Policy

D = dt.date
AS_OF = D(2026, 6, 30)


def sound_company() -> dict[str, Fraction | None]:
    """Debt 60%, current ratio 1.3, cash flow 15% of debt, margin 4%; 8 years, mid-size;
    reputation 4, report A; pays 3 days late on average, 20% of invoices late, none > 60."""
    fin = rules.Financials(2025, 100_000_000, 60_000_000, 50_000_000, 38_461_539, 200_000_000,
                           8_000_000, 9_000_000)  # fmt: skip
    profile = rules.Profile(D(2018, 6, 30), 150, "50m-200m", 200, 4, "A")
    record = rules.PaymentRecord(
        40, Fraction(3), Fraction(1, 5), Fraction(0), Fraction(2), Fraction(4)
    )
    return rules.factor_values(fin, profile, record, AS_OF)


def test_each_factor_lands_in_its_band_and_the_explanation_adds_up() -> None:
    card = rules.score_card(sound_company(), ())
    points = {f.name: f.points for f in card.factors}
    assert points["debt_ratio"] == 55  # 60% ≤ 70%
    assert points["current_ratio"] == 60  # 1.3 ≥ 1.2
    assert points["cash_flow_to_liabilities"] == 50  # 15% ≥ 10%
    assert points["net_margin"] == 55  # 4% ≥ 2%
    assert points["years_in_business"] == 75  # 8 years ≥ 5
    assert points["weighted_days_late"] == 85  # 3 days ≤ 5
    assert points["trend_days_late"] == 80  # improving by 2 days ≤ 0
    assert card.dimension_points[Dimension.FINANCIAL] == Fraction(55)
    # Dimension weights 30/15/20/35: the score is their weighted mean of dimension points.
    expected = (
        sum(card.dimension_points[d] * w for d, w in rules.DEFAULT_DIMENSION_WEIGHTS.items()) / 100
    )
    assert card.score_tenths == round(expected * 10)
    assert card.grade == rules.grade_for(card.score_tenths)
    assert card.missing == ()  # every weighted factor had data


def test_missing_data_scores_low_and_is_listed() -> None:
    values = {name: None for name in sound_company()}
    card = rules.score_card(values, ())
    assert all(f.points == Policy().missing_points for f in card.factors)
    assert "debt_ratio" in card.missing and "weighted_days_late" in card.missing
    assert "broken_promises" not in card.missing  # weight 0 until promises are recorded
    assert card.score_tenths == 200 and card.grade == "C"


def test_a_dishonest_debtor_listing_caps_the_grade_at_c_whatever_the_score() -> None:
    card = rules.score_card(sound_company(), (FlagKind.DISHONEST_DEBTOR,))
    assert card.score_grade != "C" and card.grade == "C"
    assert card.caps == ((FlagKind.DISHONEST_DEBTOR, "C"),)
    enforcement = rules.score_card(sound_company(), (FlagKind.ENFORCEMENT,))
    assert enforcement.grade == rules.worse_grade(enforcement.score_grade, "B")


@pytest.mark.parametrize(
    ("tenths", "grade"),
    [(1000, "AAA"), (900, "AAA"), (899, "AA"), (800, "AA"), (700, "A"), (600, "BBB"),
     (500, "BB"), (400, "B"), (399, "C"), (0, "C")],
)  # fmt: skip
def test_grade_floors(tenths: int, grade: str) -> None:
    assert rules.grade_for(tenths) == grade


# A strictly better input never lowers the score: moving any factor's value in its better
# direction. (Missing data is not "worse" or "better" than a value, so the property is over
# present values; missing data is scored low by its own test above.)
factor_names = [f.name for f in rules.DEFAULT_FACTORS]
values_strategy = st.fractions(min_value=-5, max_value=2000, max_denominator=1000)


@given(
    base=st.fixed_dictionaries({n: st.one_of(st.none(), values_strategy) for n in factor_names}),
    name=st.sampled_from(factor_names),
    better=values_strategy,
)
def test_a_strictly_better_value_never_lowers_the_score_or_the_grade(
    base: dict[str, Fraction | None], name: str, better: Fraction
) -> None:
    rule = next(f for f in rules.DEFAULT_FACTORS if f.name == name)
    if base[name] is None:
        base[name] = better
    value = base[name]
    assert value is not None
    improved = dict(base)
    improved[name] = max(value, better) if rule.higher_is_better else min(value, better)
    before, after = rules.score_card(base, ()), rules.score_card(improved, ())
    assert after.score_tenths >= before.score_tenths
    assert rules.GRADES.index(after.grade) <= rules.GRADES.index(before.grade)


@given(
    values=st.fixed_dictionaries({n: st.one_of(st.none(), values_strategy) for n in factor_names}),
    weights=st.fixed_dictionaries({d: st.integers(0, 100) for d in Dimension}),
)
def test_the_score_stays_within_0_and_100_for_any_weights(
    values: dict[str, Fraction | None], weights: dict[Dimension, int]
) -> None:
    if sum(weights.values()) == 0:
        weights[Dimension.PAYMENT] = 1
    card = rules.score_card(values, (), replace(Policy(), dimension_weights=weights))
    assert 0 <= card.score_tenths <= 1000


@given(
    values=st.fixed_dictionaries({n: st.one_of(st.none(), values_strategy) for n in factor_names}),
    flags=st.lists(st.sampled_from(list(FlagKind)), max_size=3),
    extra=st.sampled_from(list(FlagKind)),
)
def test_a_further_public_record_finding_never_improves_the_grade(
    values: dict[str, Fraction | None], flags: list[FlagKind], extra: FlagKind
) -> None:
    before = rules.score_card(values, flags)
    after = rules.score_card(values, [*flags, extra])
    assert rules.GRADES.index(after.grade) >= rules.GRADES.index(before.grade)


def test_limit_is_the_larger_share_of_equity_or_revenue_capped_and_in_whole_yuan() -> None:
    fin = rules.Financials(2025, 100_000_000_00, 60_000_000_00, revenue=300_000_000_00)
    # BBB: 8% of net assets 40m = 3.2m; 2% of revenue 300m = 6m -> 6m, but the cap is 800k.
    capped = rules.limit_for("BBB", fin, 0, AS_OF)
    assert capped.amount == 80_000_000 and "cap" in capped.basis
    small = rules.Financials(2025, 5_000_000_00, 4_000_000_00, revenue=6_000_000_33)
    # BB: 5% of 1m net assets = 50,000.00; 1% of revenue 6,000,003.33 = 60,000.0333 -> 60,000
    decision = rules.limit_for("BB", small, 0, AS_OF)
    assert decision.amount == 6_000_000
    assert decision.guarantee_required and decision.terms_days == 30
    assert decision.review_on == D(2026, 12, 30)
    secured = rules.limit_for("BB", small, 1_234_567, AS_OF)
    assert secured.amount == 6_000_000 + 1_234_500  # collateral added, whole yuan
    assert rules.limit_for("C", fin, 10**9, AS_OF).amount == 0
    assert rules.limit_for("C", fin, 0, AS_OF).prepayment_required
    assert rules.limit_for("A", None, 0, AS_OF).amount == 150_000_000 // 5  # no statements


def test_add_months_keeps_the_day_or_the_month_end() -> None:
    assert rules.add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert rules.add_months(D(2026, 11, 30), 3) == D(2027, 2, 28)
    assert rules.add_months(D(2026, 6, 30), -18) == D(2024, 12, 30)


def test_statements_that_cannot_be_right_are_refused_with_the_reason() -> None:
    assert rules.financials_problems(rules.Financials(2025, -1, 0)) == [
        "资产和负债不能为负数 / assets and liabilities cannot be negative"
    ]
    assert (
        "liabilities without assets" in rules.financials_problems(rules.Financials(2025, 0, 5))[0]
    )
    assert rules.financials_problems(rules.Financials(2025, 100, 50, current_assets=101))
    assert rules.financials_problems(rules.Financials(2025, 100, 50)) == []


def test_a_policy_round_trips_through_json_and_bad_ones_say_why() -> None:
    policy = Policy()
    assert rules.policy_from_json(rules.policy_to_json(policy)) == policy
    changed = rules.policy_from_json({"max_days_overdue": 45, "dimension_weights": {"payment": 50}})
    assert changed.max_days_overdue == 45 and changed.dimension_weights[Dimension.PAYMENT] == 50
    with pytest.raises(rules.PolicyError, match="weight cannot be negative"):
        body = rules.policy_to_json(policy)
        body["factors"][0]["weight"] = -1
        rules.policy_from_json(body)
    with pytest.raises(rules.PolicyError, match="grade floors must fall"):
        rules.policy_from_json(
            {"grade_floors": {"AAA": 50, "AA": 80, "A": 70, "BBB": 60, "BB": 50, "B": 40}}
        )
    with pytest.raises(rules.PolicyError, match="malformed"):
        rules.policy_from_json({"dimension_weights": {"nonsense": 1}})
