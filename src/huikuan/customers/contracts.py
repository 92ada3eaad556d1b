"""Sales contracts (销售合同): the terms that decide payment days, the dispute window and the
late fee of every invoice issued while the contract is in force.

A contract is set by its number: setting it again with other terms changes it (audited, before
and after), setting it again with the same terms changes nothing. A contract states its late-fee
rate a day (万分之五 = ``0.0005``) **or** a year (``0.18`` with a day count), never both; late fees
compound only when the contract says so (``collections/fee_rules.py`` holds the arithmetic).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import InvalidInput
from huikuan.customers.models import Contract, Customer

# The day counts ``collections.fee_rules.DayCount`` knows (kept equal by a test).
DAY_COUNTS = ("actual/365", "actual/360")
MAX_DAILY_RATE = Decimal("0.01")  # 1% a day is far beyond any enforceable clause
MAX_ANNUAL_RATE = Decimal("1")


@dataclass(frozen=True, slots=True)
class ContractTerms:
    signed_on: dt.date
    ends_on: dt.date | None = None
    payment_terms_days: int = 30
    dispute_window_days: int = 15
    late_fee_rate_per_day: Decimal = Decimal(0)
    late_fee_rate_per_year: Decimal = Decimal(0)
    late_fee_day_count: str = "actual/365"
    late_fee_compound: bool = False
    grace_days: int = 0
    guarantee: str = ""


def read_rate(text: str, field: str) -> Decimal:
    """A rate as typed: ``0.0005`` or ``0.05%`` (the same rate)."""
    cleaned = text.strip()
    percent = cleaned.endswith("%")
    try:
        value = Decimal(cleaned.rstrip("%").strip() or "0")
    except InvalidOperation as exc:
        raise InvalidInput(f"{field}：无法识别 {text} / {field}: cannot read {text}") from exc
    return value / 100 if percent else value


def terms_problems(terms: ContractTerms) -> list[str]:
    problems = []
    if terms.ends_on is not None and terms.ends_on < terms.signed_on:
        problems.append("到期日早于签订日 / the contract ends before it was signed")
    for name, value, top in (
        ("payment_terms_days", terms.payment_terms_days, 3650),
        ("dispute_window_days", terms.dispute_window_days, 3650),
        ("grace_days", terms.grace_days, 365),
    ):
        if not 0 <= value <= top:
            problems.append(f"{name} 应在 0 到 {top} 之间 / {name} must be 0 to {top}")
    daily, annual = terms.late_fee_rate_per_day, terms.late_fee_rate_per_year
    if not 0 <= daily <= MAX_DAILY_RATE:
        problems.append("日费率应在 0 到 0.01 之间 / the daily rate must be 0 to 0.01")
    if not 0 <= annual <= MAX_ANNUAL_RATE:
        problems.append("年费率应在 0 到 1 之间 / the annual rate must be 0 to 1")
    if daily > 0 and annual > 0:
        problems.append(
            "日费率与年费率只能填一个 / state the late-fee rate a day or a year, not both"
        )
    if terms.late_fee_day_count not in DAY_COUNTS:
        problems.append(
            f"计息天数规则须为 {' 或 '.join(DAY_COUNTS)} / day count must be one of {', '.join(DAY_COUNTS)}"
        )
    if any(rate != rate.quantize(Decimal("0.000001")) for rate in (daily, annual)):
        problems.append("费率最多六位小数 / a rate has at most six decimals")
    return problems


def set_contract(
    session: Session, *, actor: Actor, customer: Customer, number: str, terms: ContractTerms
) -> Contract:
    """Create the contract ``number`` for ``customer`` or change its terms (audited)."""
    number = number.strip()
    if not number or len(number) > 60:
        raise InvalidInput("合同号须为 1 到 60 个字符 / a contract number has 1 to 60 characters")
    problems = terms_problems(terms)
    if problems:
        raise InvalidInput("；".join(problems))
    contract = session.scalar(
        select(Contract).where(
            Contract.company_id == customer.company_id, Contract.number == number
        )
    )
    if contract is not None and contract.customer_id != customer.id:
        raise InvalidInput(
            f"合同号 {number} 属于另一客户 / contract {number} belongs to another customer"
        )
    after = asdict(terms)
    if contract is None:
        contract = Contract(company_id=customer.company_id, customer_id=customer.id, number=number)
        session.add(contract)
        before = None
    else:
        before = contract_facts(contract)
        if before == _facts(after):
            return contract
    for key, value in after.items():
        setattr(contract, key, value)
    session.flush()
    record_change(
        session,
        actor=actor,
        company_id=customer.company_id,
        entity="contract",
        entity_id=number,
        action="create" if before is None else "update",
        before=before,
        after=contract_facts(contract) | {"customer": customer.code},
    )
    return contract


def contract_facts(contract: Contract) -> dict[str, object]:
    """The audited terms of a contract, as plain values."""
    return _facts({name: getattr(contract, name) for name in ContractTerms.__dataclass_fields__})


def _facts(values: dict[str, object]) -> dict[str, object]:
    facts: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, Decimal):
            value = f"{value.normalize():f}"
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = bool(value)
        facts[key] = value
    return facts


def list_contracts(
    session: Session, *, company_id: int, customer: Customer | None = None
) -> list[tuple[Contract, str]]:
    """Contracts with their customer's code, by customer then signing date."""
    query = (
        select(Contract, Customer.code)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(Contract.company_id == company_id)
        .order_by(Customer.code, Contract.signed_on, Contract.number)
    )
    if customer is not None:
        query = query.where(Contract.customer_id == customer.id)
    return [(row[0], row[1]) for row in session.execute(query)]
