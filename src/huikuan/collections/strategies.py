"""Strategies as the company's data: install the defaults, import and export YAML, assign a
customer by hand, and load the ladders and rules the daily run follows.

Importing is all-or-nothing and idempotent: the same file twice changes nothing. A strategy's
steps that are unchanged keep their rows; a changed ladder retires the old steps and adds the
new ones, so the actions already taken still show the step as it was. Invoices keep their
place on the ladder because they remember the trigger they reached, not a step row.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from huikuan.channels.templates import default_templates
from huikuan.collections import spec as specs
from huikuan.collections.models import (
    CustomerStrategy,
    MessageTemplate,
    Strategy,
    StrategyRule,
    StrategyStep,
)
from huikuan.collections.rules import Anchor, AssignmentRule, Channel, Ladder, Step
from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import InvalidInput, NotFound
from huikuan.customers.models import Customer


def default_strategy_text() -> str:
    return (
        resources.files("huikuan.collections")
        .joinpath("default_strategies.yaml")
        .read_text(encoding="utf-8")
    )


def template_codes(session: Session, *, company_id: int) -> set[str]:
    own = session.scalars(
        select(MessageTemplate.code).where(MessageTemplate.company_id == company_id)
    )
    return {t.code for t in default_templates()} | set(own)


def parse_strategy_text(session: Session, *, company_id: int, text: str) -> specs.StrategyFile:
    """YAML (or JSON, which is YAML) to a checked spec; InvalidInput lists every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"YAML 格式错误：{exc} / not valid YAML: {exc}") from exc
    spec = specs.read_spec(data, templates=template_codes(session, company_id=company_id))
    problems = list(spec.problems) + _reference_problems(session, company_id, spec)
    if problems:
        raise InvalidInput("；".join(problems))
    return spec


def _reference_problems(session: Session, company_id: int, spec: specs.StrategyFile) -> list[str]:
    known = {s.code for s in spec.strategies} | set(
        session.scalars(select(Strategy.code).where(Strategy.company_id == company_id))
    )
    named = [(f"rules[{i}]", r.strategy) for i, r in enumerate(spec.rules or ())]
    if spec.default:
        named.append(("default", spec.default))
    return [
        f"{where}: 策略 {code} 不存在 / strategy {code} does not exist"
        for where, code in named
        if code not in known
    ]


def import_strategies(
    session: Session, *, actor: Actor, company_id: int, text: str
) -> dict[str, int]:
    """Create or update the strategies in the file (and the rules, when it has them).
    Returns counts: created, updated, unchanged strategies."""
    spec = parse_strategy_text(session, company_id=company_id, text=text)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for strategy_spec in spec.strategies:
        counts[_save_strategy(session, actor, company_id, strategy_spec)] += 1
    if spec.rules is not None:
        _replace_rules(session, actor, company_id, spec.rules)
    if spec.default:
        _set_default(session, actor, company_id, spec.default)
    return counts


def install_defaults(session: Session, *, actor: Actor, company_id: int) -> bool:
    """Give a company the default strategies if it has none yet. True when installed."""
    if session.scalar(select(Strategy.id).where(Strategy.company_id == company_id).limit(1)):
        return False
    import_strategies(session, actor=actor, company_id=company_id, text=default_strategy_text())
    return True


def _save_strategy(
    session: Session, actor: Actor, company_id: int, spec: specs.StrategySpec
) -> str:
    strategy = session.scalar(
        select(Strategy).where(Strategy.company_id == company_id, Strategy.code == spec.code)
    )
    before = strategy_document(session, strategy) if strategy else None
    if strategy is None:
        strategy = Strategy(company_id=company_id, code=spec.code, name=spec.name)
        session.add(strategy)
        session.flush()
    strategy.name, strategy.description = spec.name, spec.description
    strategy.customer_type, strategy.active = spec.customer_type, True
    current = _active_steps(session, strategy.id)
    if [_step_spec(s) for s in current] != list(spec.steps):
        for step in current:
            step.retired = True
        session.add_all(
            StrategyStep(company_id=company_id, strategy_id=strategy.id, **_step_columns(s))
            for s in spec.steps
        )
    session.flush()
    after = strategy_document(session, strategy)
    if after == before:
        return "unchanged"
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="strategy",
        entity_id=spec.code,
        action="create" if before is None else "update",
        before=before,
        after=after,
    )
    return "created" if before is None else "updated"


def _step_columns(step: specs.StepSpec) -> dict[str, Any]:
    return {
        "seq": step.seq,
        "name": step.name,
        "trigger_days": step.trigger_days,
        "channel": step.channel,
        "template": step.template,
        "wait_days": step.wait_days,
        "anchor": step.anchor,
        "working_days": step.working_days,
        "min_amount": step.min_amount,
        "max_amount": step.max_amount,
        "grades": "|".join(step.grades),
    }


def _step_spec(row: StrategyStep) -> specs.StepSpec:
    return specs.StepSpec(
        seq=row.seq,
        name=row.name,
        trigger_days=row.trigger_days,
        channel=row.channel,
        template=row.template,
        wait_days=row.wait_days,
        anchor=row.anchor,
        working_days=row.working_days,
        min_amount=row.min_amount,
        max_amount=row.max_amount,
        grades=tuple(g for g in row.grades.split("|") if g),
    )


def _active_steps(session: Session, strategy_id: int) -> list[StrategyStep]:
    return list(
        session.scalars(
            select(StrategyStep)
            .where(StrategyStep.strategy_id == strategy_id, StrategyStep.retired.is_(False))
            .order_by(StrategyStep.seq)
        )
    )


def _replace_rules(
    session: Session, actor: Actor, company_id: int, rules: Iterable[specs.RuleSpec]
) -> None:
    ids = strategy_ids(session, company_id=company_id)
    before = [specs.rule_document(r) for r in rule_specs(session, company_id=company_id)]
    session.execute(delete(StrategyRule).where(StrategyRule.company_id == company_id))
    session.add_all(
        StrategyRule(
            company_id=company_id,
            priority=r.priority,
            strategy_id=ids[r.strategy],
            customer_type=r.customer_type,
            grades="|".join(r.grades),
            min_overdue=r.min_overdue,
            min_days_overdue=r.min_days_overdue,
        )
        for r in rules
    )
    session.flush()
    after = [specs.rule_document(r) for r in rule_specs(session, company_id=company_id)]
    if after != before:
        record_change(
            session,
            actor=actor,
            company_id=company_id,
            entity="strategy_rules",
            entity_id=company_id,
            action="replace",
            before={"rules": before},
            after={"rules": after},
        )


def _set_default(session: Session, actor: Actor, company_id: int, code: str) -> None:
    current = session.scalar(
        select(Strategy.code).where(Strategy.company_id == company_id, Strategy.is_default)
    )
    if current == code:
        return
    session.execute(
        update(Strategy)
        .where(Strategy.company_id == company_id)
        .values(is_default=Strategy.code == code)
    )
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="strategy",
        entity_id=code,
        action="set_default",
        before={"default": current},
        after={"default": code},
    )


def strategy_ids(session: Session, *, company_id: int) -> dict[str, int]:
    return dict(
        session.execute(
            select(Strategy.code, Strategy.id).where(Strategy.company_id == company_id)
        ).all()
    )


def rule_specs(session: Session, *, company_id: int) -> list[specs.RuleSpec]:
    rows = session.execute(
        select(StrategyRule, Strategy.code)
        .join(Strategy, Strategy.id == StrategyRule.strategy_id)
        .where(StrategyRule.company_id == company_id)
        .order_by(StrategyRule.priority, StrategyRule.id)
    ).all()
    return [
        specs.RuleSpec(
            priority=rule.priority,
            strategy=code,
            customer_type=rule.customer_type,
            grades=tuple(g for g in rule.grades.split("|") if g),
            min_overdue=rule.min_overdue,
            min_days_overdue=rule.min_days_overdue,
        )
        for rule, code in rows
    ]


def get_strategy(session: Session, *, company_id: int, code: str) -> Strategy:
    strategy = session.scalar(
        select(Strategy).where(Strategy.company_id == company_id, Strategy.code == code)
    )
    if strategy is None:
        raise NotFound(f"策略 {code} 不存在 / no strategy {code}")
    return strategy


def list_strategies(session: Session, *, company_id: int) -> list[Strategy]:
    return list(
        session.scalars(
            select(Strategy).where(Strategy.company_id == company_id).order_by(Strategy.code)
        )
    )


def strategy_steps(session: Session, strategy: Strategy) -> list[specs.StepSpec]:
    return [_step_spec(row) for row in _active_steps(session, strategy.id)]


def strategy_document(session: Session, strategy: Strategy) -> dict[str, Any]:
    spec = specs.StrategySpec(
        code=strategy.code,
        name=strategy.name,
        description=strategy.description,
        customer_type=strategy.customer_type,
        steps=tuple(strategy_steps(session, strategy)),
    )
    return specs.file_document(specs.StrategyFile((spec,)))["strategies"][0]


def export_strategies(session: Session, *, company_id: int, codes: Iterable[str] = ()) -> str:
    """The company's strategies (all, or those named) with the rules, as YAML that imports
    back to the same thing."""
    wanted = set(codes)
    chosen = [
        s for s in list_strategies(session, company_id=company_id) if not wanted or s.code in wanted
    ]
    missing = wanted - {s.code for s in chosen}
    if missing:
        raise NotFound(
            f"策略 {', '.join(sorted(missing))} 不存在 / no strategy {', '.join(sorted(missing))}"
        )
    default = next(
        (s.code for s in list_strategies(session, company_id=company_id) if s.is_default), None
    )
    doc: dict[str, Any] = {"strategies": [strategy_document(session, s) for s in chosen]}
    if not wanted:
        doc["rules"] = [specs.rule_document(r) for r in rule_specs(session, company_id=company_id)]
        if default:
            doc["default"] = default
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def assign_customer(
    session: Session,
    *,
    actor: Actor,
    company_id: int,
    customer: Customer,
    code: str | None,
    reason: str = "",
) -> None:
    """Put the customer on a strategy by hand (``code``), or back on the rules (None)."""
    current = session.get(CustomerStrategy, (company_id, customer.id))
    before = {"strategy": _code_of(session, current.strategy_id)} if current else None
    if code is None:
        if current is None:
            return
        session.delete(current)
        after = None
    else:
        strategy = get_strategy(session, company_id=company_id, code=code)
        if current is None:
            current = CustomerStrategy(
                company_id=company_id, customer_id=customer.id, strategy_id=strategy.id
            )
            session.add(current)
        current.strategy_id, current.reason = strategy.id, reason[:500]
        current.set_by, current.set_at = actor.name, actor.at.replace(tzinfo=None)
        after = {"strategy": code, "reason": reason}
    session.flush()
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="customer_strategy",
        entity_id=customer.code,
        action="assign" if code else "unassign",
        before=before,
        after=after,
    )


def _code_of(session: Session, strategy_id: int) -> str:
    return session.get_one(Strategy, strategy_id).code


# --- What the daily run reads ----------------------------------------------------------------


def load_ladders(session: Session, *, company_id: int) -> dict[int, Ladder]:
    rows = session.execute(
        select(Strategy.id, Strategy.code, StrategyStep)
        .join(StrategyStep, StrategyStep.strategy_id == Strategy.id)
        .where(
            Strategy.company_id == company_id,
            Strategy.active.is_(True),
            StrategyStep.retired.is_(False),
        )
        .order_by(Strategy.id, StrategyStep.trigger_days, StrategyStep.seq)
    ).all()
    steps: dict[int, list[Step]] = {}
    codes: dict[int, str] = {}
    for strategy_id, code, row in rows:
        codes[strategy_id] = code
        steps.setdefault(strategy_id, []).append(_step(row))
    return {sid: Ladder(sid, codes[sid], tuple(found)) for sid, found in steps.items()}


def _step(row: StrategyStep) -> Step:
    return Step(
        id=row.id,
        seq=row.seq,
        name=row.name,
        trigger_days=row.trigger_days,
        channel=Channel(row.channel),
        template=row.template,
        wait_days=row.wait_days,
        anchor=Anchor(row.anchor),
        working_days=row.working_days,
        min_amount=row.min_amount,
        max_amount=row.max_amount,
        grades=frozenset(g for g in row.grades.split("|") if g),
    )


def load_assignment(
    session: Session, *, company_id: int
) -> tuple[list[AssignmentRule], dict[int, int], int | None]:
    """The rules, the customers assigned by hand, and the default strategy."""
    rules = [
        AssignmentRule(
            priority=r.priority,
            strategy_id=r.strategy_id,
            customer_type=r.customer_type,
            grades=frozenset(g for g in r.grades.split("|") if g),
            min_overdue=r.min_overdue,
            min_days_overdue=r.min_days_overdue,
        )
        for r in session.scalars(select(StrategyRule).where(StrategyRule.company_id == company_id))
    ]
    overrides = dict(
        session.execute(
            select(CustomerStrategy.customer_id, CustomerStrategy.strategy_id).where(
                CustomerStrategy.company_id == company_id
            )
        ).all()
    )
    default = session.scalar(
        select(Strategy.id).where(Strategy.company_id == company_id, Strategy.is_default)
    )
    return rules, overrides, default
