"""The credit scorecard and policy: pure rules, no I/O.

A customer is scored over four dimensions — financial health, operating history, reputation and
market position, and the payment record from our own ledger. Each factor's value falls into a
band that gives it 0–100 points; factors are weighted within their dimension and dimensions
against each other. The score (0–100, kept in tenths) gives a grade, and the grade gives a
credit limit, payment terms, security and a review date under the policy.

Ratios are computed as exact fractions of fen amounts, never floats. A factor with no data
scores the policy's ``missing_points`` (low, not neutral) and is marked missing, so a thin file
never looks like a good one. Public-record findings can cap the grade whatever the score: a
dishonest-debtor listing (失信被执行人) caps it at C.

Example: debt ratio 60% (band ≤ 70% → 55 points), current ratio 1.3 (≥ 1.2 → 60), operating
cash flow 15% of liabilities (≥ 10% → 50) and net margin 4% (≥ 2% → 55), equally weighted,
give the financial dimension 55.0 points; that dimension's weight (30 of 100) carries 16.5
points into the score.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "C")


class Dimension(enum.StrEnum):
    FINANCIAL = "financial"
    HISTORY = "history"
    REPUTATION = "reputation"
    PAYMENT = "payment"


DIMENSION_LABELS = {
    Dimension.FINANCIAL: ("财务状况", "Financial health"),
    Dimension.HISTORY: ("经营历史", "Operating history"),
    Dimension.REPUTATION: ("行业声誉与市场地位", "Reputation and market position"),
    Dimension.PAYMENT: ("付款记录", "Payment record"),
}


class FlagKind(enum.StrEnum):
    DISHONEST_DEBTOR = "dishonest_debtor"  # 失信被执行人
    ENFORCEMENT = "enforcement"  # 被执行人 (court enforcement)
    LITIGATION = "litigation"  # 涉诉 as defendant in a payment dispute
    ABNORMAL_OPERATION = "abnormal_operation"  # 经营异常名录
    TAX_VIOLATION = "tax_violation"  # 重大税收违法


FLAG_LABELS = {
    FlagKind.DISHONEST_DEBTOR: ("失信被执行人", "Dishonest debtor listing"),
    FlagKind.ENFORCEMENT: ("法院强制执行", "Court enforcement"),
    FlagKind.LITIGATION: ("涉诉（被告）", "Sued for payment"),
    FlagKind.ABNORMAL_OPERATION: ("经营异常名录", "Abnormal operation listing"),
    FlagKind.TAX_VIOLATION: ("重大税收违法", "Serious tax violation"),
}

REVENUE_BANDS = ("<10m", "10m-50m", "50m-200m", "200m-1b", ">1b")  # annual revenue, CNY
REPORT_GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")


@dataclass(frozen=True, slots=True)
class Band:
    """``points`` for a value at or beyond ``threshold`` (at or above when higher is better,
    at or below when lower is better). Bands are tried best first."""

    threshold: Fraction
    points: int


@dataclass(frozen=True, slots=True)
class FactorRule:
    name: str
    dimension: Dimension
    weight: int
    higher_is_better: bool
    bands: tuple[Band, ...]  # best first
    floor_points: int = 0  # beyond the last band

    def points(self, value: Fraction) -> int:
        for band in self.bands:
            if (value >= band.threshold) if self.higher_is_better else (value <= band.threshold):
                return band.points
        return self.floor_points


def _bands(*pairs: tuple[str, int]) -> tuple[Band, ...]:
    return tuple(Band(Fraction(t), p) for t, p in pairs)


DEFAULT_FACTORS: tuple[FactorRule, ...] = (
    # Financial health: can they pay? Leverage, liquidity, cash and profit, equally weighted.
    FactorRule("debt_ratio", Dimension.FINANCIAL, 1, False,
               _bands(("0.40", 100), ("0.55", 80), ("0.70", 55), ("0.85", 30), ("1", 10))),
    FactorRule("current_ratio", Dimension.FINANCIAL, 1, True,
               _bands(("2", 100), ("1.5", 80), ("1.2", 60), ("1", 40), ("0.8", 20))),
    FactorRule("cash_flow_to_liabilities", Dimension.FINANCIAL, 1, True,
               _bands(("0.40", 100), ("0.20", 75), ("0.10", 50), ("0", 30))),
    FactorRule("net_margin", Dimension.FINANCIAL, 1, True,
               _bands(("0.10", 100), ("0.05", 75), ("0.02", 55), ("0", 35))),
    # Operating history: survivors of several cycles default less; size absorbs shocks.
    FactorRule("years_in_business", Dimension.HISTORY, 2, True,
               _bands(("10", 100), ("5", 75), ("3", 50), ("1", 25))),
    FactorRule("revenue_band", Dimension.HISTORY, 1, True,
               _bands(("4", 100), ("3", 80), ("2", 60), ("1", 40), ("0", 20))),
    FactorRule("employees", Dimension.HISTORY, 1, True,
               _bands(("1000", 100), ("300", 80), ("100", 60), ("20", 40), ("1", 20))),
    # Reputation and market position: what the trade and independent reports say.
    FactorRule("reputation_rating", Dimension.REPUTATION, 2, True,
               _bands(("5", 100), ("4", 75), ("3", 50), ("2", 25))),
    FactorRule("credit_report_grade", Dimension.REPUTATION, 2, True,
               _bands(("9", 100), ("8", 90), ("7", 80), ("6", 65), ("5", 50), ("4", 35), ("3", 20), ("1", 10))),
    FactorRule("market_share", Dimension.REPUTATION, 1, True,
               _bands(("0.10", 100), ("0.05", 80), ("0.01", 60), ("0.001", 40)), floor_points=20),
    # Payment record from our own ledger: the best predictor of how they will pay us.
    FactorRule("weighted_days_late", Dimension.PAYMENT, 3, False,
               _bands(("0", 100), ("5", 85), ("15", 65), ("30", 45), ("60", 20))),
    FactorRule("share_paid_late", Dimension.PAYMENT, 2, False,
               _bands(("0.10", 100), ("0.25", 75), ("0.50", 45), ("0.75", 20))),
    FactorRule("share_over_60_late", Dimension.PAYMENT, 2, False,
               _bands(("0", 100), ("0.05", 70), ("0.15", 40), ("0.30", 15))),
    FactorRule("trend_days_late", Dimension.PAYMENT, 1, False,
               _bands(("-5", 100), ("0", 80), ("5", 60), ("15", 30))),
    # Counted from the collector's desk; weight 0 by default because weighting them moves every
    # customer's score: the credit manager gives them weight in a new policy version.
    FactorRule("broken_promises", Dimension.PAYMENT, 0, False, _bands(("0", 100), ("1", 60), ("3", 20))),
    FactorRule("disputes", Dimension.PAYMENT, 0, False, _bands(("0", 100), ("2", 60), ("5", 20))),
)  # fmt: skip

FACTOR_LABELS = {
    "debt_ratio": ("资产负债率", "Debt ratio"),
    "current_ratio": ("流动比率", "Current ratio"),
    "cash_flow_to_liabilities": ("经营现金流/负债", "Operating cash flow / liabilities"),
    "net_margin": ("净利率", "Net margin"),
    "years_in_business": ("经营年限", "Years in business"),
    "revenue_band": ("营收规模", "Revenue band"),
    "employees": ("员工人数", "Employees"),
    "reputation_rating": ("行业口碑（1–5）", "Trade reputation (1–5)"),
    "credit_report_grade": ("第三方信用报告等级", "Credit report grade"),
    "market_share": ("市场份额", "Market share"),
    "weighted_days_late": ("加权平均逾期天数", "Weighted average days late"),
    "share_paid_late": ("逾期付款发票占比", "Share of invoices paid late"),
    "share_over_60_late": ("逾期超过60天占比", "Share more than 60 days late"),
    "trend_days_late": ("近6个月较前12个月逾期变化（天）", "Days late, last 6 vs prior 12 months"),
    "broken_promises": ("违约承诺次数", "Broken promises"),
    "disputes": ("争议次数", "Disputes"),
}

DEFAULT_DIMENSION_WEIGHTS = {
    Dimension.FINANCIAL: 30,
    Dimension.HISTORY: 15,
    Dimension.REPUTATION: 20,
    Dimension.PAYMENT: 35,
}
# Lowest score (in points) for each grade, best first; below the last is C.
DEFAULT_GRADE_FLOORS = {"AAA": 90, "AA": 80, "A": 70, "BBB": 60, "BB": 50, "B": 40}
# Public-record findings cap the grade, whatever the score.
DEFAULT_FLAG_CAPS = {FlagKind.DISHONEST_DEBTOR: "C", FlagKind.ENFORCEMENT: "B",
                     FlagKind.TAX_VIOLATION: "BB", FlagKind.ABNORMAL_OPERATION: "BB",
                     FlagKind.LITIGATION: "BBB"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class GradeTerms:
    """What a grade earns: a limit from the customer's size, capped; terms; security; review."""

    equity_share: Fraction  # of net assets (total assets − liabilities)
    revenue_share: Fraction  # of annual revenue
    cap: int  # fen
    terms_days: int
    guarantee_required: bool
    prepayment_required: bool
    review_months: int


DEFAULT_GRADE_TERMS = {
    "AAA": GradeTerms(Fraction(20, 100), Fraction(5, 100), 500_000_000, 90, False, False, 12),
    "AA": GradeTerms(Fraction(15, 100), Fraction(4, 100), 300_000_000, 60, False, False, 12),
    "A": GradeTerms(Fraction(10, 100), Fraction(3, 100), 150_000_000, 60, False, False, 9),
    "BBB": GradeTerms(Fraction(8, 100), Fraction(2, 100), 80_000_000, 45, False, False, 6),
    "BB": GradeTerms(Fraction(5, 100), Fraction(1, 100), 30_000_000, 30, True, False, 6),
    "B": GradeTerms(Fraction(2, 100), Fraction(5, 1000), 10_000_000, 15, True, False, 3),
    "C": GradeTerms(Fraction(0), Fraction(0), 0, 0, False, True, 3),
}


@dataclass(frozen=True, slots=True)
class Policy:
    """A credit policy version: the scorecard and what each grade earns, and order approval."""

    factors: tuple[FactorRule, ...] = DEFAULT_FACTORS
    dimension_weights: Mapping[Dimension, int] = field(
        default_factory=lambda: dict(DEFAULT_DIMENSION_WEIGHTS)
    )
    grade_floors: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_GRADE_FLOORS))
    flag_caps: Mapping[FlagKind, str] = field(default_factory=lambda: dict(DEFAULT_FLAG_CAPS))
    grade_terms: Mapping[str, GradeTerms] = field(default_factory=lambda: dict(DEFAULT_GRADE_TERMS))
    missing_points: int = 20  # a factor without data: poor, never good
    # Without financial statements the limit is this share of the grade's cap.
    share_of_cap_without_statements: Fraction = Fraction(1, 5)
    # Orders wait for a person when any invoice is more than this many days overdue.
    max_days_overdue: int = 30
    # Payment record looks back this many months.
    lookback_months: int = 18


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class Financials:
    """One year of statements, in fen. Optional figures may be None."""

    year: int
    total_assets: int
    total_liabilities: int
    current_assets: int | None = None
    current_liabilities: int | None = None
    revenue: int | None = None
    net_profit: int | None = None
    operating_cash_flow: int | None = None


def financials_problems(f: Financials) -> list[str]:
    """Why these statements cannot be right, as bilingual messages (empty when plausible)."""
    problems = []
    if f.total_assets < 0 or f.total_liabilities < 0:
        problems.append("资产和负债不能为负数 / assets and liabilities cannot be negative")
    if f.total_assets == 0 and f.total_liabilities > 0:
        problems.append("有负债却没有资产 / liabilities without assets")
    if f.current_assets is not None and (f.current_assets < 0 or f.current_assets > f.total_assets):
        problems.append(
            "流动资产须在 0 与总资产之间 / current assets must be between 0 and total assets"
        )
    if f.current_liabilities is not None and (
        f.current_liabilities < 0 or f.current_liabilities > f.total_liabilities
    ):
        problems.append(
            "流动负债须在 0 与总负债之间 / current liabilities must be between 0 and total liabilities"
        )
    if f.revenue is not None and f.revenue < 0:
        problems.append("营业收入不能为负数 / revenue cannot be negative")
    if not 1900 <= f.year <= 2199:
        problems.append(f"年份 {f.year} 不合理 / year {f.year} is not plausible")
    return problems


@dataclass(frozen=True, slots=True)
class Profile:
    """Operating history and reputation as entered by the credit manager."""

    founded_on: dt.date | None = None
    employees: int | None = None
    revenue_band: str = ""
    market_share_bp: int | None = None  # basis points: 1,000 = 10%
    reputation_rating: int | None = None  # 1..5
    report_grade: str = ""
    flags: tuple[FlagKind, ...] = ()
    secured_amount: int = 0  # collateral value + insured limit, fen


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """Our own ledger's view of how the customer pays, over the policy's look-back window.

    ``invoices`` counts invoices due in the window (paid, or open and overdue on the date);
    days late are amount-weighted; for an invoice still open, days late so far count.
    """

    invoices: int = 0
    weighted_days_late: Fraction | None = None
    share_paid_late: Fraction | None = None
    share_over_60_late: Fraction | None = None
    recent_days_late: Fraction | None = None  # last 6 months
    earlier_days_late: Fraction | None = None  # the 12 months before
    broken_promises: int | None = None
    disputes: int | None = None


# ---------------------------------------------------------------------------------------------
# Factor values


def _ratio(numerator: int | None, denominator: int | None) -> Fraction | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return Fraction(numerator, denominator)


def factor_values(
    financials: Financials | None, profile: Profile, record: PaymentRecord, as_of: dt.date
) -> dict[str, Fraction | None]:
    """Every factor's value, or None where there is no data to compute it."""
    f = financials
    values: dict[str, Fraction | None] = {
        "debt_ratio": _ratio(f.total_liabilities, f.total_assets) if f else None,
        "current_ratio": _ratio(f.current_assets, f.current_liabilities) if f else None,
        "cash_flow_to_liabilities": (
            _ratio(f.operating_cash_flow, f.total_liabilities) if f else None
        ),
        "net_margin": _ratio(f.net_profit, f.revenue) if f else None,
        "years_in_business": (
            Fraction((as_of - profile.founded_on).days, 365)
            if profile.founded_on and profile.founded_on <= as_of
            else None
        ),
        "revenue_band": (
            Fraction(REVENUE_BANDS.index(profile.revenue_band))
            if profile.revenue_band in REVENUE_BANDS
            else None
        ),
        "employees": Fraction(profile.employees) if profile.employees is not None else None,
        "reputation_rating": (
            Fraction(profile.reputation_rating) if profile.reputation_rating else None
        ),
        "credit_report_grade": (
            Fraction(len(REPORT_GRADES) - 1 - REPORT_GRADES.index(profile.report_grade))
            if profile.report_grade in REPORT_GRADES
            else None
        ),
        "market_share": (
            Fraction(profile.market_share_bp, 10_000)
            if profile.market_share_bp is not None
            else None
        ),
        "weighted_days_late": record.weighted_days_late,
        "share_paid_late": record.share_paid_late,
        "share_over_60_late": record.share_over_60_late,
        "trend_days_late": (
            record.recent_days_late - record.earlier_days_late
            if record.recent_days_late is not None and record.earlier_days_late is not None
            else None
        ),
        "broken_promises": (
            Fraction(record.broken_promises) if record.broken_promises is not None else None
        ),
        "disputes": Fraction(record.disputes) if record.disputes is not None else None,
    }
    return values


# ---------------------------------------------------------------------------------------------
# The scorecard


@dataclass(frozen=True, slots=True)
class FactorScore:
    name: str
    dimension: Dimension
    value: Fraction | None
    points: int
    weight: int
    missing: bool


@dataclass(frozen=True, slots=True)
class ScoreCard:
    score_tenths: int  # 0..1000
    grade: str
    score_grade: str  # the grade the score alone gives, before any cap
    factors: tuple[FactorScore, ...]
    dimension_points: Mapping[Dimension, Fraction]
    caps: tuple[tuple[FlagKind, str], ...]  # findings that capped the grade

    @property
    def score(self) -> Fraction:
        return Fraction(self.score_tenths, 10)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors if f.missing and f.weight)


def score_card(
    values: Mapping[str, Fraction | None],
    flags: Sequence[FlagKind],
    policy: Policy = Policy(),
) -> ScoreCard:
    """Points per factor, weighted per dimension, weighted into a score; the grade is capped by
    public-record findings."""
    factors = []
    for rule in policy.factors:
        value = values.get(rule.name)
        points = policy.missing_points if value is None else rule.points(value)
        factors.append(
            FactorScore(rule.name, rule.dimension, value, points, rule.weight, value is None)
        )
    dimension_points: dict[Dimension, Fraction] = {}
    for dimension in Dimension:
        weighted = [(f.points, f.weight) for f in factors if f.dimension is dimension]
        total_weight = sum(w for _, w in weighted)
        dimension_points[dimension] = (
            Fraction(sum(p * w for p, w in weighted), total_weight)
            if total_weight
            else Fraction(policy.missing_points)
        )
    weights = policy.dimension_weights
    score = sum((dimension_points[d] * weights.get(d, 0) for d in Dimension), Fraction(0)) / max(
        1, sum(weights.get(d, 0) for d in Dimension)
    )
    tenths = round(score * 10)
    by_score = grade_for(tenths, policy)
    caps = tuple((flag, policy.flag_caps[flag]) for flag in flags if flag in policy.flag_caps)
    grade = by_score
    for _, cap in caps:
        grade = worse_grade(grade, cap)
    return ScoreCard(tenths, grade, by_score, tuple(factors), dimension_points, caps)


def grade_for(score_tenths: int, policy: Policy = Policy()) -> str:
    for grade in GRADES[:-1]:
        if score_tenths >= policy.grade_floors[grade] * 10:
            return grade
    return GRADES[-1]


def worse_grade(a: str, b: str) -> str:
    return a if GRADES.index(a) >= GRADES.index(b) else b


def grade_steps_worse(before: str, after: str) -> int:
    """How many grades ``after`` is below ``before`` (negative if better)."""
    return GRADES.index(after) - GRADES.index(before)


# ---------------------------------------------------------------------------------------------
# From grade to limit and terms


@dataclass(frozen=True, slots=True)
class LimitDecision:
    amount: int  # fen
    terms_days: int
    guarantee_required: bool
    prepayment_required: bool
    review_on: dt.date
    basis: str  # how the amount was found, bilingual


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    days_in_month = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, days_in_month))


def limit_for(
    grade: str, financials: Financials | None, secured_amount: int, as_of: dt.date,
    policy: Policy = Policy(),
) -> LimitDecision:  # fmt: skip
    """The limit a grade earns: a share of net assets or of revenue (whichever is larger), plus
    what collateral and credit insurance secure, never above the grade's cap. Without
    statements, a fixed share of the cap. Rounded down to whole yuan."""
    terms = policy.grade_terms[grade]
    if terms.cap == 0:
        amount, basis = 0, "该等级不给信用额度 / this grade gets no credit"
    elif financials is None:
        amount = int(terms.cap * policy.share_of_cap_without_statements)
        basis = "无财务报表：按上限的固定比例 / no statements: a fixed share of the cap"
    else:
        equity = max(0, financials.total_assets - financials.total_liabilities)
        by_equity = int(equity * terms.equity_share)
        by_revenue = int((financials.revenue or 0) * terms.revenue_share)
        amount = max(by_equity, by_revenue)
        basis = (
            "按净资产比例 / share of net assets"
            if by_equity >= by_revenue
            else "按营业收入比例 / share of revenue"
        )
    if terms.cap and secured_amount > 0:
        amount += secured_amount
        basis += "，加担保/保险 / plus collateral and insurance"
    if amount > terms.cap:
        amount, basis = terms.cap, "等级上限 / the grade's cap"
    amount -= amount % 100
    return LimitDecision(
        amount, terms.terms_days, terms.guarantee_required, terms.prepayment_required,
        add_months(as_of, terms.review_months), basis,
    )  # fmt: skip


def latest_financials(statements: Sequence[Financials]) -> Financials | None:
    return max(statements, key=lambda f: f.year, default=None)


# ---------------------------------------------------------------------------------------------
# Policy as JSON (stored per version, editable as a file)


def policy_to_json(policy: Policy) -> dict[str, Any]:
    return {
        "factors": [
            {
                "name": f.name,
                "dimension": f.dimension.value,
                "weight": f.weight,
                "higher_is_better": f.higher_is_better,
                "floor_points": f.floor_points,
                "bands": [[str(b.threshold), b.points] for b in f.bands],
            }
            for f in policy.factors
        ],
        "dimension_weights": {d.value: w for d, w in policy.dimension_weights.items()},
        "grade_floors": dict(policy.grade_floors),
        "flag_caps": {k.value: v for k, v in policy.flag_caps.items()},
        "grade_terms": {
            g: {
                "equity_share": str(t.equity_share),
                "revenue_share": str(t.revenue_share),
                "cap": t.cap,
                "terms_days": t.terms_days,
                "guarantee_required": t.guarantee_required,
                "prepayment_required": t.prepayment_required,
                "review_months": t.review_months,
            }
            for g, t in policy.grade_terms.items()
        },
        "missing_points": policy.missing_points,
        "share_of_cap_without_statements": str(policy.share_of_cap_without_statements),
        "max_days_overdue": policy.max_days_overdue,
        "lookback_months": policy.lookback_months,
    }


class PolicyError(ValueError):
    """A policy file that cannot be used; the message says where and why (bilingual)."""


def policy_from_json(data: Mapping[str, Any]) -> Policy:
    """Read a policy; anything left out keeps its default. Checks that weights are not negative,
    points lie in 0..100, bands run best first, and every grade has terms."""
    try:
        policy = _policy_from_json(data)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        if isinstance(exc, PolicyError):
            raise
        raise PolicyError(f"信用政策格式错误：{exc} / malformed credit policy: {exc}") from exc
    _check_policy(policy)
    return policy


def _policy_from_json(data: Mapping[str, Any]) -> Policy:
    policy = Policy()
    if "factors" in data:
        factors = tuple(
            FactorRule(
                f["name"],
                Dimension(f["dimension"]),
                int(f["weight"]),
                bool(f["higher_is_better"]),
                tuple(Band(Fraction(str(t)), int(p)) for t, p in f["bands"]),
                int(f.get("floor_points", 0)),
            )
            for f in data["factors"]
        )
        policy = replace(policy, factors=factors)
    if "dimension_weights" in data:
        weights = {Dimension(k): int(v) for k, v in data["dimension_weights"].items()}
        policy = replace(policy, dimension_weights=weights)
    if "grade_floors" in data:
        policy = replace(policy, grade_floors={k: int(v) for k, v in data["grade_floors"].items()})
    if "flag_caps" in data:
        policy = replace(
            policy, flag_caps={FlagKind(k): str(v) for k, v in data["flag_caps"].items()}
        )
    if "grade_terms" in data:
        terms = dict(policy.grade_terms)
        for grade, t in data["grade_terms"].items():
            terms[grade] = GradeTerms(
                Fraction(str(t["equity_share"])), Fraction(str(t["revenue_share"])), int(t["cap"]),
                int(t["terms_days"]), bool(t["guarantee_required"]), bool(t["prepayment_required"]),
                int(t["review_months"]),
            )  # fmt: skip
        policy = replace(policy, grade_terms=terms)
    if "missing_points" in data:
        policy = replace(policy, missing_points=int(data["missing_points"]))
    if "max_days_overdue" in data:
        policy = replace(policy, max_days_overdue=int(data["max_days_overdue"]))
    if "lookback_months" in data:
        policy = replace(policy, lookback_months=int(data["lookback_months"]))
    if "share_of_cap_without_statements" in data:
        share = Fraction(str(data["share_of_cap_without_statements"]))
        policy = replace(policy, share_of_cap_without_statements=share)
    return policy


def _check_policy(policy: Policy) -> None:
    problems = []
    for f in policy.factors:
        if f.weight < 0:
            problems.append(f"{f.name}: 权重不能为负 / weight cannot be negative")
        points = [b.points for b in f.bands] + [f.floor_points]
        if any(not 0 <= p <= 100 for p in points):
            problems.append(f"{f.name}: 分值须在 0–100 / points must be 0–100")
        if points != sorted(points, reverse=True):
            problems.append(f"{f.name}: 档位须从好到差排列 / bands must run best first")
        thresholds = [b.threshold for b in f.bands]
        ordered = sorted(thresholds, reverse=f.higher_is_better)
        if thresholds != ordered:
            problems.append(f"{f.name}: 档位阈值顺序错误 / band thresholds out of order")
    if any(w < 0 for w in policy.dimension_weights.values()):
        problems.append("维度权重不能为负 / dimension weights cannot be negative")
    if sum(policy.dimension_weights.values()) <= 0:
        problems.append("维度权重之和须大于零 / dimension weights must add up to more than 0")
    floors = [policy.grade_floors.get(g) for g in GRADES[:-1]]
    if None in floors or floors != sorted(floors, reverse=True):  # type: ignore[type-var]
        problems.append("等级分数线须从 AAA 到 B 递减 / grade floors must fall from AAA to B")
    missing_terms = [g for g in GRADES if g not in policy.grade_terms]
    if missing_terms:
        problems.append(f"缺少等级条件 {missing_terms} / no terms for grades {missing_terms}")
    if not 0 <= policy.missing_points <= 100:
        problems.append("missing_points 须在 0–100 / missing_points must be 0–100")
    if problems:
        halves = [p.partition(" / ") for p in problems]
        raise PolicyError("；".join(h[0] for h in halves) + " / " + "; ".join(h[2] for h in halves))
