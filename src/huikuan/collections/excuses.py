"""The call assistant's catalogue of common excuses, kept as the company's data.

Each excuse has a code, a title, what it usually means, a suggested reply, the facts the
collector must capture and the follow-ups it opens (a closed set, :data:`FOLLOW_UP_KINDS`).
Huikuan ships ten classic excuses plus "other" (``default_excuses.yaml``); a company installs
them (only the codes it lacks, so its own edits survive), exports them as YAML, edits and imports
them back. Importing is all-or-nothing with every problem listed, and idempotent: the same file
twice changes nothing. Every change is audited.

The file's checking (:func:`read_catalogue`) is pure; the rest reads and writes the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.collections.models import Excuse
from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import InvalidInput, NotFound

FOLLOW_UP_KINDS = (
    "verify_payment",
    "debt_acknowledgment",
    "credit_review",
    "limit_review",
    "dispute_window_check",
    "reissue_invoice",
    "confirm_amount",
)
FOLLOW_UP_LABELS_ZH = {
    "verify_payment": "核实所称付款",
    "debt_acknowledgment": "欠款确认书待签",
    "credit_review": "信用复评",
    "limit_review": "额度复核",
    "dispute_window_check": "异议期核对",
    "reissue_invoice": "补发带订单号的发票副本",
    "confirm_amount": "确认欠款金额",
}
FACT_TYPES = ("text", "date", "amount", "invoices")
_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True, slots=True)
class FactSpec:
    """A fact the collector writes down when the excuse is given."""

    name: str
    label: str
    type: str = "text"  # text, date, amount (yuan → fen), invoices (numbers)
    optional: bool = False


@dataclass(frozen=True, slots=True)
class ExcuseSpec:
    code: str
    title: str
    meaning: str = ""
    reply: str = ""
    facts: tuple[FactSpec, ...] = ()
    follow_ups: tuple[str, ...] = ()
    position: int = 0
    active: bool = True


@dataclass(frozen=True, slots=True)
class Catalogue:
    excuses: tuple[ExcuseSpec, ...]
    problems: tuple[str, ...] = ()


# ---------------------------------------------------------------- checking a file (pure)


def read_catalogue(data: object) -> Catalogue:
    """Check a parsed YAML document ``{excuses: [...]}``; every problem is listed."""
    problems: list[str] = []

    def add(where: str, zh: str, en: str) -> None:
        problems.append(f"{where}: {zh} / {en}")

    if not isinstance(data, Mapping) or not isinstance(data.get("excuses"), list):
        add("文件 file", "应为包含 excuses 列表的映射", "expected a mapping with an 'excuses' list")
        return Catalogue((), tuple(problems))
    for key in sorted(set(data) - {"excuses"}, key=str):
        add("文件 file", f"未知字段 {key}", f"unknown field {key}")
    found: list[ExcuseSpec] = []
    for index, raw in enumerate(data["excuses"]):
        where = f"excuses[{index}]"
        spec = _excuse(raw, where, index + 1, add)
        if spec is not None:
            found.append(spec)
    codes = [e.code for e in found]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        add("excuses", f"理由代码 {code} 重复", f"excuse code {code} appears twice")
    return Catalogue(tuple(found), tuple(problems))


_EXCUSE_KEYS = {"code", "title", "meaning", "reply", "facts", "follow_ups", "position", "active"}
_FACT_KEYS = {"name", "label", "type", "optional"}


def _excuse(raw: object, where: str, position: int, add: Any) -> ExcuseSpec | None:
    if not isinstance(raw, Mapping):
        add(where, "应为映射", "expected a mapping")
        return None
    for key in sorted(set(raw) - _EXCUSE_KEYS, key=str):
        add(where, f"未知字段 {key}", f"unknown field {key}")
    code = raw.get("code")
    if not isinstance(code, str) or not code or not set(code) <= _CODE_CHARS or len(code) > 40:
        add(
            f"{where}.code",
            "须为不超过 40 个字符的小写字母、数字和下划线",
            "must be up to 40 lower-case letters, digits and _",
        )
        code = ""
    else:
        where = f"{where} ({code})"
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        add(f"{where}.title", "须填写（不超过 200 字）", "is required (up to 200 characters)")
        title = ""
    texts = {}
    for key in ("meaning", "reply"):
        value = raw.get(key, "")
        if not isinstance(value, str):
            add(f"{where}.{key}", "应为文字", "expected text")
            value = ""
        texts[key] = value.strip()
    facts = _facts(raw.get("facts", []), where, add)
    follow_ups = raw.get("follow_ups", [])
    if not isinstance(follow_ups, list) or not all(isinstance(k, str) for k in follow_ups):
        add(f"{where}.follow_ups", "应为列表", "expected a list")
        follow_ups = []
    for kind in follow_ups:
        if kind not in FOLLOW_UP_KINDS:
            add(
                f"{where}.follow_ups",
                f"未知的后续动作 {kind}（可用：{'、'.join(FOLLOW_UP_KINDS)}）",
                f"unknown follow-up {kind} (known: {', '.join(FOLLOW_UP_KINDS)})",
            )
    raw_position = raw.get("position", position)
    if isinstance(raw_position, bool) or not isinstance(raw_position, int):
        add(f"{where}.position", "应为整数", "expected a whole number")
        raw_position = position
    active = raw.get("active", True)
    if not isinstance(active, bool):
        add(f"{where}.active", "应为 true 或 false", "expected true or false")
        active = True
    return ExcuseSpec(
        code=code,
        title=title.strip(),
        meaning=texts["meaning"],
        reply=texts["reply"],
        facts=facts,
        follow_ups=tuple(dict.fromkeys(k for k in follow_ups if k in FOLLOW_UP_KINDS)),
        position=raw_position,
        active=active,
    )


def _facts(raw: object, where: str, add: Any) -> tuple[FactSpec, ...]:
    if not isinstance(raw, list):
        add(f"{where}.facts", "应为列表", "expected a list")
        return ()
    facts: list[FactSpec] = []
    for index, item in enumerate(raw):
        at = f"{where}.facts[{index}]"
        if not isinstance(item, Mapping):
            add(at, "应为映射 {name, label}", "expected a mapping {name, label}")
            continue
        for key in sorted(set(item) - _FACT_KEYS, key=str):
            add(at, f"未知字段 {key}", f"unknown field {key}")
        name, label = item.get("name"), item.get("label")
        if not isinstance(name, str) or not name or not set(name) <= _CODE_CHARS:
            add(
                f"{at}.name",
                "须为小写字母、数字和下划线",
                "must be lower-case letters, digits and _",
            )
            continue
        if not isinstance(label, str) or not label.strip():
            add(f"{at}.label", "须填写", "is required")
            continue
        kind = item.get("type", "text")
        if kind not in FACT_TYPES:
            add(
                f"{at}.type",
                f"须为 {'、'.join(FACT_TYPES)} 之一",
                f"must be one of {', '.join(FACT_TYPES)}",
            )
            continue
        optional = item.get("optional", False)
        if not isinstance(optional, bool):
            add(f"{at}.optional", "应为 true 或 false", "expected true or false")
            continue
        facts.append(FactSpec(name, label.strip(), kind, optional))
    names = [f.name for f in facts]
    for name in sorted({n for n in names if names.count(n) > 1}):
        add(f"{where}.facts", f"事实 {name} 重复", f"fact {name} appears twice")
    return tuple(facts)


def excuse_document(spec: ExcuseSpec) -> dict[str, Any]:
    """The excuse as the YAML file writes it (and the audit trail records it)."""
    return {
        "code": spec.code,
        "title": spec.title,
        "meaning": spec.meaning,
        "reply": spec.reply,
        "facts": [_fact_document(f) for f in spec.facts],
        "follow_ups": list(spec.follow_ups),
        "position": spec.position,
        "active": spec.active,
    }


def _fact_document(fact: FactSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": fact.name, "label": fact.label}
    if fact.type != "text":
        doc["type"] = fact.type
    if fact.optional:
        doc["optional"] = True
    return doc


# ---------------------------------------------------------------- the company's catalogue


def default_excuse_text() -> str:
    return (
        resources.files("huikuan.collections")
        .joinpath("default_excuses.yaml")
        .read_text(encoding="utf-8")
    )


def parse_excuse_text(text: str) -> Catalogue:
    """YAML text to a checked catalogue; :class:`InvalidInput` lists every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"YAML 格式错误：{exc} / not valid YAML: {exc}") from exc
    catalogue = read_catalogue(data)
    if catalogue.problems:
        raise InvalidInput("；".join(catalogue.problems))
    return catalogue


def import_excuses(
    session: Session, *, actor: Actor, company_id: int, text: str, only_new: bool = False
) -> dict[str, int]:
    """Create or update the excuses in the file; all or nothing. ``only_new`` leaves the
    excuses the company already has as they are. Returns counts created/updated/unchanged."""
    catalogue = parse_excuse_text(text)
    existing = {
        e.code: e for e in session.scalars(select(Excuse).where(Excuse.company_id == company_id))
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for spec in catalogue.excuses:
        row = existing.get(spec.code)
        before = excuse_document(excuse_spec(row)) if row is not None else None
        after = excuse_document(spec)
        if before == after or (row is not None and only_new):
            counts["unchanged"] += 1
            continue
        if row is None:
            row = Excuse(company_id=company_id, code=spec.code)
            session.add(row)
        row.title, row.meaning, row.reply = spec.title, spec.meaning, spec.reply
        row.facts = json.dumps(
            [_fact_document(f) for f in spec.facts], ensure_ascii=False, sort_keys=True
        )
        row.follow_ups = "|".join(spec.follow_ups)
        row.position, row.active = spec.position, spec.active
        record_change(
            session,
            actor=actor,
            company_id=company_id,
            entity="excuse",
            entity_id=spec.code,
            action="create" if before is None else "update",
            before=before,
            after=after,
        )
        counts["created" if before is None else "updated"] += 1
    session.flush()
    return counts


def install_default_excuses(session: Session, *, actor: Actor, company_id: int) -> int:
    """Add the shipped excuses the company does not have yet (its own edits are kept).
    Returns how many were added; a second call adds none."""
    counts = import_excuses(
        session, actor=actor, company_id=company_id, text=default_excuse_text(), only_new=True
    )
    return counts["created"]


def export_excuses(session: Session, *, company_id: int) -> str:
    """The catalogue as YAML that imports back to the same thing."""
    doc = {"excuses": [excuse_document(s) for s in list_excuses(session, company_id=company_id)]}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def list_excuses(
    session: Session, *, company_id: int, active_only: bool = False
) -> list[ExcuseSpec]:
    query = select(Excuse).where(Excuse.company_id == company_id)
    if active_only:
        query = query.where(Excuse.active.is_(True))
    rows = session.scalars(query.order_by(Excuse.position, Excuse.code))
    return [excuse_spec(row) for row in rows]


def get_excuse(session: Session, *, company_id: int, code: str) -> ExcuseSpec:
    row = session.scalar(select(Excuse).where(Excuse.company_id == company_id, Excuse.code == code))
    if row is None:
        raise NotFound(
            f"话术库中没有理由 {code}（huikuan excuse list 查看）/ "
            f"no excuse {code} in the catalogue (see huikuan excuse list)"
        )
    return excuse_spec(row)


def excuse_spec(row: Excuse) -> ExcuseSpec:
    facts: Sequence[Mapping[str, Any]] = json.loads(row.facts or "[]")
    return ExcuseSpec(
        code=row.code,
        title=row.title,
        meaning=row.meaning,
        reply=row.reply,
        facts=tuple(
            FactSpec(
                name=str(f["name"]),
                label=str(f.get("label", f["name"])),
                type=str(f.get("type", "text")),
                optional=bool(f.get("optional", False)),
            )
            for f in facts
        ),
        follow_ups=tuple(k for k in row.follow_ups.split("|") if k),
        position=row.position,
        active=row.active,
    )
