"""Strategies written as data (YAML or JSON): read, checked and written back. Pure.

A file holds ``strategies`` (each with its ladder of ``steps``) and, optionally, the
assignment ``rules``. Every problem is reported with where it is (``strategies[2].steps[4]``)
and why, and nothing is saved unless the whole file is right. Amounts are written as people
write them (``500000`` or ``"¥500,000.00"``) and kept in fen.

```yaml
strategies:
  - code: dealer
    name: 经销商
    customer_type: dealer
    steps:
      - {name: 到期前提醒, trigger: -3, working_days: true, channel: email,
         template: pre_due_reminder}
      - {name: 暂停供货, trigger: 45, channel: stop_supply, wait: 10}
rules:
  - {priority: 10, strategy: bad_customer, grades: [C]}
default: standard
```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from huikuan.collections.rules import Anchor, Channel
from huikuan.core.money import decimal_string, parse_amount

GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "C")
CUSTOMER_TYPES = ("project", "dealer", "industrial", "retail_chain", "other")
# Steps that send a message need a template; the others may name one (a notice with the step).
NEEDS_TEMPLATE = frozenset({Channel.EMAIL, Channel.SMS, Channel.LETTER, Channel.LAWYER_LETTER})


@dataclass(frozen=True, slots=True)
class StepSpec:
    seq: int
    name: str
    trigger_days: int
    channel: str
    template: str = ""
    wait_days: int = 0
    anchor: str = Anchor.DUE.value
    working_days: bool = False
    min_amount: int | None = None
    max_amount: int | None = None
    grades: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StrategySpec:
    code: str
    name: str
    description: str = ""
    customer_type: str = ""
    steps: tuple[StepSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSpec:
    priority: int
    strategy: str  # code
    customer_type: str = ""
    grades: tuple[str, ...] = ()
    min_overdue: int = 0
    min_days_overdue: int = 0


@dataclass(frozen=True, slots=True)
class StrategyFile:
    strategies: tuple[StrategySpec, ...]
    rules: tuple[RuleSpec, ...] | None = None  # None: the file leaves the rules as they are
    default: str | None = None
    problems: tuple[str, ...] = field(default=())


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, zh: str, en: str) -> None:
        self.items.append(f"{where}: {zh} / {en}")


def read_spec(data: object, *, templates: Iterable[str]) -> StrategyFile:
    """Check a parsed YAML/JSON document; ``templates`` are the template codes that exist."""
    problems = _Problems()
    known_templates = frozenset(templates)
    if not isinstance(data, Mapping):
        problems.add("文件", "应为包含 strategies 的映射", "expected a mapping with 'strategies'")
        return StrategyFile((), problems=tuple(problems.items))
    _unknown_keys(data, {"strategies", "rules", "default"}, "文件/file", problems)
    raw_strategies = data.get("strategies") or []
    strategies = tuple(
        _strategy(raw, f"strategies[{i}]", known_templates, problems)
        for i, raw in enumerate(_as_list(raw_strategies, "strategies", problems))
    )
    codes = [s.code for s in strategies]
    for code in {c for c in codes if codes.count(c) > 1}:
        problems.add("strategies", f"策略代码 {code} 重复", f"strategy code {code} appears twice")
    rules = None
    if "rules" in data:
        rules = tuple(
            _rule(raw, f"rules[{i}]", problems)
            for i, raw in enumerate(_as_list(data["rules"] or [], "rules", problems))
        )
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        problems.add("default", "应为策略代码", "expected a strategy code")
        default = None
    return StrategyFile(strategies, rules, default, tuple(problems.items))


def _as_list(value: object, where: str, problems: _Problems) -> Sequence[Any]:
    if isinstance(value, list):
        return value
    problems.add(where, "应为列表", "expected a list")
    return []


def _unknown_keys(raw: Mapping[str, Any], allowed: set[str], where: str, p: _Problems) -> None:
    for key in sorted(set(raw) - allowed, key=str):
        p.add(where, f"未知字段 {key}", f"unknown field {key}")


def _strategy(raw: object, where: str, templates: frozenset[str], p: _Problems) -> StrategySpec:
    if not isinstance(raw, Mapping):
        p.add(where, "应为映射", "expected a mapping")
        return StrategySpec(code="", name="")
    _unknown_keys(raw, {"code", "name", "description", "customer_type", "steps"}, where, p)
    code = _text(raw, "code", where, p, required=True, limit=40)
    customer_type = _text(raw, "customer_type", where, p, limit=20)
    if customer_type and customer_type not in CUSTOMER_TYPES:
        p.add(where, f"未知客户类型 {customer_type}", f"unknown customer type {customer_type}")
    steps = tuple(
        _step(step, f"{where}.steps[{i}]", i + 1, templates, p)
        for i, step in enumerate(_as_list(raw.get("steps") or [], f"{where}.steps", p))
    )
    if not steps:
        p.add(where, "至少需要一个步骤", "needs at least one step")
    return StrategySpec(
        code=code,
        name=_text(raw, "name", where, p, required=True, limit=100),
        description=_text(raw, "description", where, p, limit=1000),
        customer_type=customer_type,
        steps=steps,
    )


_STEP_KEYS = {
    "name",
    "trigger",
    "channel",
    "template",
    "wait",
    "anchor",
    "working_days",
    "min_amount",
    "max_amount",
    "grades",
}


def _step(raw: object, where: str, seq: int, templates: frozenset[str], p: _Problems) -> StepSpec:
    if not isinstance(raw, Mapping):
        p.add(where, "应为映射", "expected a mapping")
        return StepSpec(seq=seq, name="", trigger_days=0, channel="")
    _unknown_keys(raw, _STEP_KEYS, where, p)
    channel = _text(raw, "channel", where, p, required=True, limit=20)
    if channel and channel not in Channel.__members__.values():
        choices = ", ".join(c.value for c in Channel)
        p.add(
            where, f"未知渠道 {channel}（可选 {choices}）", f"unknown channel {channel} ({choices})"
        )
    template = _text(raw, "template", where, p, limit=60)
    if template and template not in templates:
        p.add(where, f"模板 {template} 不存在", f"template {template} does not exist")
    if not template and channel in NEEDS_TEMPLATE:
        p.add(where, f"{channel} 步骤需要模板", f"a {channel} step needs a template")
    anchor = _text(raw, "anchor", where, p, limit=20) or Anchor.DUE.value
    if anchor not in Anchor.__members__.values():
        p.add(
            where,
            f"未知基准日 {anchor}（due 或 settlement）",
            f"unknown anchor {anchor} (due or settlement)",
        )
    minimum, maximum = _amount(raw, "min_amount", where, p), _amount(raw, "max_amount", where, p)
    if minimum is not None and maximum is not None and minimum >= maximum:
        p.add(where, "min_amount 应小于 max_amount", "min_amount must be below max_amount")
    return StepSpec(
        seq=seq,
        name=_text(raw, "name", where, p, required=True, limit=100),
        trigger_days=_int(raw, "trigger", where, p, required=True, low=-365, high=3650),
        channel=channel,
        template=template,
        wait_days=_int(raw, "wait", where, p, low=0, high=3650),
        anchor=anchor,
        working_days=_bool(raw, "working_days", where, p),
        min_amount=minimum,
        max_amount=maximum,
        grades=_grades(raw, where, p),
    )


def _rule(raw: object, where: str, p: _Problems) -> RuleSpec:
    if not isinstance(raw, Mapping):
        p.add(where, "应为映射", "expected a mapping")
        return RuleSpec(priority=0, strategy="")
    allowed = {"priority", "strategy", "customer_type", "grades", "min_overdue", "min_days_overdue"}
    _unknown_keys(raw, allowed, where, p)
    customer_type = _text(raw, "customer_type", where, p, limit=20)
    if customer_type and customer_type not in CUSTOMER_TYPES:
        p.add(where, f"未知客户类型 {customer_type}", f"unknown customer type {customer_type}")
    return RuleSpec(
        priority=_int(raw, "priority", where, p, required=True, low=0, high=100000),
        strategy=_text(raw, "strategy", where, p, required=True, limit=40),
        customer_type=customer_type,
        grades=_grades(raw, where, p),
        min_overdue=_amount(raw, "min_overdue", where, p) or 0,
        min_days_overdue=_int(raw, "min_days_overdue", where, p, low=0, high=36500),
    )


def _text(
    raw: Mapping[str, Any],
    key: str,
    where: str,
    p: _Problems,
    *,
    required: bool = False,
    limit: int,
) -> str:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            p.add(where, f"缺少 {key}", f"{key} is missing")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        p.add(where, f"{key} 应为文字", f"{key} must be text")
        return ""
    text = str(value).strip()
    if len(text) > limit:
        p.add(where, f"{key} 超过 {limit} 个字符", f"{key} is longer than {limit} characters")
    return text


def _int(
    raw: Mapping[str, Any],
    key: str,
    where: str,
    p: _Problems,
    *,
    required: bool = False,
    low: int,
    high: int,
) -> int:
    value = raw.get(key)
    if value is None:
        if required:
            p.add(where, f"缺少 {key}", f"{key} is missing")
        return 0
    if not isinstance(value, int) or isinstance(value, bool):
        p.add(where, f"{key} 应为整数天数", f"{key} must be a whole number")
        return 0
    if not low <= value <= high:
        p.add(where, f"{key} 应在 {low} 到 {high} 之间", f"{key} must be between {low} and {high}")
    return value


def _bool(raw: Mapping[str, Any], key: str, where: str, p: _Problems) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        p.add(where, f"{key} 应为 true 或 false", f"{key} must be true or false")
        return False
    return value


def _amount(raw: Mapping[str, Any], key: str, where: str, p: _Problems) -> int | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    try:
        fen = parse_amount(value)
    except ValueError as exc:
        p.add(where, f"{key} 金额无效：{exc}", f"{key} is not an amount: {exc}")
        return None
    if fen < 0:
        p.add(where, f"{key} 不能为负数", f"{key} cannot be negative")
    return fen


def _grades(raw: Mapping[str, Any], where: str, p: _Problems) -> tuple[str, ...]:
    value = raw.get("grades") or []
    if isinstance(value, str):
        value = [g for g in value.replace("|", ",").split(",") if g.strip()]
    if not isinstance(value, list):
        p.add(where, "grades 应为等级列表", "grades must be a list of grades")
        return ()
    grades = tuple(str(g).strip().upper() for g in value)
    for grade in grades:
        if grade not in GRADES:
            p.add(where, f"未知信用等级 {grade}", f"unknown credit grade {grade}")
    return grades


# --- Writing back --------------------------------------------------------------------------


def step_document(step: StepSpec) -> dict[str, Any]:
    """A step as written in the file, leaving out what is the default."""
    doc: dict[str, Any] = {"name": step.name, "trigger": step.trigger_days, "channel": step.channel}
    optional: dict[str, Any] = {
        "template": step.template,
        "wait": step.wait_days,
        "anchor": step.anchor if step.anchor != Anchor.DUE.value else "",
        "working_days": step.working_days,
        "min_amount": decimal_string(step.min_amount) if step.min_amount is not None else None,
        "max_amount": decimal_string(step.max_amount) if step.max_amount is not None else None,
        "grades": list(step.grades),
    }
    doc.update({key: value for key, value in optional.items() if value})
    return doc


def file_document(spec: StrategyFile) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "strategies": [
            {
                key: value
                for key, value in {
                    "code": s.code,
                    "name": s.name,
                    "description": s.description,
                    "customer_type": s.customer_type,
                    "steps": [step_document(step) for step in s.steps],
                }.items()
                if value
            }
            for s in spec.strategies
        ]
    }
    if spec.rules is not None:
        doc["rules"] = [rule_document(rule) for rule in spec.rules]
    if spec.default:
        doc["default"] = spec.default
    return doc


def rule_document(rule: RuleSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"priority": rule.priority, "strategy": rule.strategy}
    optional: dict[str, Any] = {
        "customer_type": rule.customer_type,
        "grades": list(rule.grades),
        "min_overdue": decimal_string(rule.min_overdue) if rule.min_overdue else None,
        "min_days_overdue": rule.min_days_overdue,
    }
    doc.update({key: value for key, value in optional.items() if value})
    return doc
