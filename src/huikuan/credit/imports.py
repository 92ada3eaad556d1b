"""Assessments from a CSV or XLSX file: one row per customer and statement year.

Rows of the same customer and assessment date make one assessment with several years of
statements; the profile columns (founded, employees, reputation, ...) are read from the first
of those rows. Every row is checked first; a file with any bad row writes nothing. Importing
the same file again adds nothing: an assessment of the same customer on the same date that
already exists is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor
from huikuan.core.dates import DateError, parse_date
from huikuan.core.errors import ImportRejected, InvalidInput, RowError
from huikuan.core.money import AmountError, parse_amount
from huikuan.core.tabular import FieldSpec, ImportResult, Row, Table, map_columns, rows_of
from huikuan.credit import rules
from huikuan.credit.models import CreditAssessment
from huikuan.credit.service import (
    AssessmentInput,
    FlagInput,
    assessment_problems,
    record_assessment,
)
from huikuan.customers.models import Customer

ASSESSMENT_FIELDS = (
    FieldSpec("customer_code", True, ("customer", "客户编码", "客户代码", "客户编号")),
    FieldSpec("assessed_on", True, ("date", "评估日期", "日期")),
    FieldSpec("year", False, ("报表年度", "年度", "会计年度")),
    FieldSpec("total_assets", False, ("资产总额", "总资产", "资产总计")),
    FieldSpec("total_liabilities", False, ("负债总额", "总负债", "负债合计")),
    FieldSpec("current_assets", False, ("流动资产", "流动资产合计")),
    FieldSpec("current_liabilities", False, ("流动负债", "流动负债合计")),
    FieldSpec("revenue", False, ("营业收入", "主营业务收入", "收入")),
    FieldSpec("net_profit", False, ("净利润",)),
    FieldSpec("operating_cash_flow", False, ("经营活动现金流量净额", "经营现金流")),
    FieldSpec("founded_on", False, ("成立日期",)),
    FieldSpec("employees", False, ("员工人数", "人数")),
    FieldSpec("revenue_band", False, ("营收规模",)),
    FieldSpec("market_share", False, ("市场份额", "市场占有率")),
    FieldSpec("reputation_rating", False, ("行业口碑", "口碑评分", "声誉评分")),
    FieldSpec("reputation_source", False, ("口碑来源", "声誉来源")),
    FieldSpec("report_grade", False, ("信用报告等级", "评级")),
    FieldSpec("report_source", False, ("报告来源", "评级机构")),
    FieldSpec("report_date", False, ("报告日期", "评级日期")),
    FieldSpec("flags", False, ("公共记录", "风险记录")),
    FieldSpec("guarantee", False, ("担保", "担保说明")),
    FieldSpec("collateral_value", False, ("抵押物价值", "抵押价值")),
    FieldSpec("insured_limit", False, ("信用保险额度", "保险额度")),
    FieldSpec("insurer", False, ("保险公司",)),
    FieldSpec("note", False, ("备注", "说明")),
)
STATEMENT_FIGURES = ("total_assets", "total_liabilities", "current_assets", "current_liabilities",
                     "revenue", "net_profit", "operating_cash_flow")  # fmt: skip


def _fen(row: Row, name: str, errors: list[RowError]) -> int | None:
    if not row.text(name):
        return None
    try:
        return parse_amount(row.raw(name))
    except AmountError as exc:
        errors.append(RowError(row.number, row.column(name), str(exc)))
        return None


def _day(row: Row, name: str, errors: list[RowError]) -> dt.date | None:
    if not row.text(name):
        return None
    try:
        return parse_date(row.raw(name))
    except DateError as exc:
        errors.append(RowError(row.number, row.column(name), str(exc)))
        return None


def _int(row: Row, name: str, errors: list[RowError]) -> int | None:
    text = row.text(name).replace(",", "").removesuffix(".0")
    if not text:
        return None
    if not text.lstrip("-").isdigit():
        errors.append(
            RowError(row.number, row.column(name), f"应为整数，得到 '{text}' / not a whole number")
        )
        return None
    return int(text)


def parse_market_share(text: str) -> int | None:
    """'2.5%' or '2.5' (percent) → basis points (250)."""
    text = text.strip().removesuffix("%").strip()
    if not text:
        return None
    whole, _, decimals = text.partition(".")
    if not whole.isdigit() or (decimals and not decimals.isdigit()) or len(decimals) > 2:
        raise ValueError(
            f"市场份额应为百分数如 2.5%，得到 '{text}' / market share must be a percentage like 2.5%"
        )
    return int(whole) * 100 + int((decimals + "00")[:2])


def parse_flags(text: str, assessed_on: dt.date) -> list[FlagInput]:
    """'dishonest_debtor:中国执行信息公开网:2026-03-01; enforcement:...' → flags."""
    flags = []
    for part in filter(None, (p.strip() for p in text.replace("；", ";").split(";"))):
        kind, _, rest = part.partition(":")
        source, _, day = rest.rpartition(":") if rest.count(":") else (rest, "", "")
        try:
            flag_kind = rules.FlagKind(kind.strip())
        except ValueError:
            known = ", ".join(k.value for k in rules.FlagKind)
            raise ValueError(
                f"未知的公共记录类型 '{kind}' / unknown record kind '{kind}' (one of {known})"
            ) from None
        recorded = parse_date(day.strip()) if day.strip() else assessed_on
        flags.append(FlagInput(flag_kind, source.strip(), recorded))
    return flags


def _row_statement(row: Row, errors: list[RowError]) -> rules.Financials | None:
    figures = {name: _fen(row, name, errors) for name in STATEMENT_FIGURES}
    year = _int(row, "year", errors)
    if year is None and all(v is None for v in figures.values()):
        return None
    if year is None or figures["total_assets"] is None or figures["total_liabilities"] is None:
        errors.append(RowError(row.number, row.column("year"),
                               "财务数据须有年度、资产总额和负债总额 / statements need year, total assets and total liabilities"))  # fmt: skip
        return None
    return rules.Financials(year, **figures)  # type: ignore[arg-type]


def import_assessments(
    session: Session, *, actor: Actor, company_id: int, table: Table, overrides: dict[str, str]
) -> ImportResult:
    mapping = map_columns(table.headers, ASSESSMENT_FIELDS, overrides)
    errors: list[RowError] = []
    groups: dict[tuple[str, dt.date], list[tuple[Row, rules.Financials | None]]] = defaultdict(list)
    for row in rows_of(table, mapping):
        before = len(errors)
        assessed_on = _day(row, "assessed_on", errors)
        statement = _row_statement(row, errors)
        if assessed_on is None and len(errors) == before:
            errors.append(
                RowError(row.number, row.column("assessed_on"), "缺少评估日期 / no assessment date")
            )
        if len(errors) == before and assessed_on is not None:
            groups[(row.text("customer_code"), assessed_on)].append((row, statement))
    customers = _customers(session, company_id, sorted({code for code, _ in groups}))
    inputs: list[tuple[Customer, AssessmentInput]] = []
    for (code, assessed_on), rows in groups.items():
        first = rows[0][0]
        customer = customers.get(code)
        if customer is None:
            errors.append(
                RowError(
                    first.number,
                    first.column("customer_code"),
                    f"没有客户 {code} / no customer {code}",
                )
            )
            continue
        data = _assessment(first, assessed_on, [s for _, s in rows if s], errors)
        if data is not None:
            problems = assessment_problems(data)
            errors += [RowError(first.number, "", p) for p in problems]
            inputs.append((customer, data))
    if errors:
        raise ImportRejected(errors)
    return _write(session, actor, company_id, inputs)


def _assessment(row: Row, assessed_on: dt.date, statements: list[rules.Financials],
                errors: list[RowError]) -> AssessmentInput | None:  # fmt: skip
    before = len(errors)
    try:
        share = parse_market_share(row.text("market_share"))
    except ValueError as exc:
        errors.append(RowError(row.number, row.column("market_share"), str(exc)))
        share = None
    try:
        flags = parse_flags(row.text("flags"), assessed_on)
    except (ValueError, DateError) as exc:
        errors.append(RowError(row.number, row.column("flags"), str(exc)))
        flags = []
    data = AssessmentInput(
        assessed_on=assessed_on, statements=statements, founded_on=_day(row, "founded_on", errors),
        employees=_int(row, "employees", errors), revenue_band=row.text("revenue_band"),
        market_share_bp=share, reputation_rating=_int(row, "reputation_rating", errors),
        reputation_source=row.text("reputation_source"), report_grade=row.text("report_grade").upper(),
        report_source=row.text("report_source"), report_date=_day(row, "report_date", errors),
        flags=flags, guarantee=row.text("guarantee"), collateral_value=_fen(row, "collateral_value", errors),
        insured_limit=_fen(row, "insured_limit", errors), insurer=row.text("insurer"), note=row.text("note"),
    )  # fmt: skip
    return data if len(errors) == before else None


def _customers(session: Session, company_id: int, codes: list[str]) -> dict[str, Customer]:
    found = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        found.update(
            {c.code: c for c in session.scalars(select(Customer).where(Customer.company_id == company_id, Customer.code.in_(chunk)))}
        )  # fmt: skip
    return found


def _write(session: Session, actor: Actor, company_id: int,
           inputs: list[tuple[Customer, AssessmentInput]]) -> ImportResult:  # fmt: skip
    result = ImportResult()
    for customer, data in inputs:
        exists = session.scalar(
            select(CreditAssessment.id).where(
                CreditAssessment.company_id == company_id,
                CreditAssessment.customer_id == customer.id,
                CreditAssessment.assessed_on == data.assessed_on,
            )
        )
        if exists is not None:
            result.unchanged += 1
            continue
        try:
            record_assessment(
                session, actor=actor, company_id=company_id, customer=customer, data=data
            )
        except InvalidInput as exc:  # checked above; kept so nothing half-written slips through
            raise ImportRejected([RowError(0, customer.code, exc.message)]) from exc
        result.created += 1
    return result
