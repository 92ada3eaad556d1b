"""Use cases people carry out around the daily run: import strategies with every problem named,
complete a task with its outcome, keep the company's own wording of a template (or go back to
Huikuan's), and change the collection settings. Each change is audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from huikuan.channels.templates import (
    DEFAULT_CODES,
    LANGUAGES,
    Template,
    check_template,
    default_template,
)
from huikuan.collections.daily import collection_settings
from huikuan.collections.messages import template_for
from huikuan.collections.models import CollectionAction, CollectionSettings, MessageTemplate
from huikuan.collections.strategies import import_strategies
from huikuan.core.audit import Actor, record_change
from huikuan.core.errors import Conflict, InvalidInput, NotFound, joined

# --- Strategies ------------------------------------------------------------------------------


class StrategyRejected(InvalidInput):
    """A strategy file with problems; ``details`` lists each one, nothing was saved."""

    code = "strategy_rejected"

    def __init__(self, details: list[str]) -> None:
        super().__init__(
            f"策略文件有 {len(details)} 处问题，未保存任何内容 / "
            f"the strategy file has {len(details)} problems; nothing was saved"
        )
        self.details = details


def import_strategy_text(
    session: Session, *, actor: Actor, company_id: int, text: str
) -> dict[str, int]:
    """Import a YAML/JSON strategy file, raising :class:`StrategyRejected` with one entry per
    problem. The import joins its problems with "；" into one message; a person fixing a file
    needs them one per line, each in their own language."""
    if not text.strip():
        raise StrategyRejected(["文件为空 / the file is empty"])
    if _unstorable(_loaded(text)):
        raise StrategyRejected([UNSTORABLE])
    try:
        with session.begin_nested():
            return import_strategies(session, actor=actor, company_id=company_id, text=text)
    except InvalidInput as exc:
        raise StrategyRejected([p.strip() for p in exc.message.split("；") if p.strip()]) from exc


UNSTORABLE = (
    "文件含有无法保存的字符（不成对的 UTF-16 代理码）/ "
    "the file holds characters that cannot be stored (unpaired UTF-16 surrogates)"
)


def _loaded(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None  # the import reports it, with the line


def _unstorable(value: object) -> bool:
    """A YAML escape such as "\\ud800" makes a string no database (nor JSON) can hold."""
    if isinstance(value, str):
        return any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


# --- Tasks ---------------------------------------------------------------------------------


def complete_action(
    session: Session, *, actor: Actor, action: CollectionAction, outcome: str, now: dt.datetime
) -> CollectionAction:
    """Mark an open task (call, visit, letter to post, referral) done with what came of it.
    Only open actions: a message already sent or a failed one is not 'completed' by a person.
    ``now`` is the local wall-clock time, as the daily run records its actions."""
    outcome = outcome.strip()
    if not outcome:
        raise InvalidInput("请填写处理结果 / enter the outcome")
    if action.status != "open":
        raise Conflict(
            f"该动作状态为 {action.status}，只有待办的可以完成 / "
            f"the action is {action.status}: only open ones can be completed"
        )
    before = {"status": action.status, "detail": action.detail}
    action.status = "done"
    action.completed_at = now.replace(tzinfo=None)
    action.detail = f"{outcome}（{actor.name}）；{action.detail}"[:1000]
    session.flush()
    record_change(
        session,
        actor=actor,
        company_id=action.company_id,
        entity="collection_action",
        entity_id=action.id,
        action="complete",
        before=before,
        after={"status": "done", "outcome": outcome},
    )
    return action


# --- Templates -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateText:
    subject: str
    body: str
    html: str = ""
    channel: str = ""  # empty: the default template's channel (or the company's, if it has one)
    # The closing lines; None keeps those in force (the company's, else Huikuan's), so a
    # company that rewrites only the text keeps its signature.
    signature: str | None = None


def save_template(
    session: Session, *, actor: Actor, company_id: int, code: str, language: str, text: TemplateText
) -> MessageTemplate:
    """Keep the company's wording after rendering it on the sample customer (full and sparse),
    so a mistake is found when it is typed, not at 9 o'clock during the daily run."""
    own = _own(session, company_id, code, language)
    template = Template(
        code=code,
        language=language,
        channel=text.channel or _channel(own, code, language),
        subject=text.subject.strip(),
        body=text.body,
        html=text.html,
        signature=_signature(session, company_id, code, language, text),
    )
    check_template(template)
    before = _template_doc(own) if own else None
    if own is None:
        own = MessageTemplate(company_id=company_id, code=code, language=language, body="")
        session.add(own)
    own.channel, own.subject, own.body, own.html = (
        template.channel,
        template.subject,
        template.body,
        template.html,
    )
    own.signature = template.signature
    own.updated_by, own.updated_at = actor.name, actor.at.replace(tzinfo=None)
    session.flush()
    after = _template_doc(own)
    if after != before:
        record_change(
            session,
            actor=actor,
            company_id=company_id,
            entity="message_template",
            entity_id=f"{code}/{language}",
            action="create" if before is None else "update",
            before=before,
            after=after,
        )
    return own


def reset_template(
    session: Session, *, actor: Actor, company_id: int, code: str, language: str
) -> bool:
    """Go back to Huikuan's wording; True when the company had its own."""
    own = _own(session, company_id, code, language)
    if own is None:
        return False
    if code not in DEFAULT_CODES:
        raise Conflict(
            f"模板 {code} 没有默认版本，不能恢复 / template {code} has no default to go back to"
        )
    before = _template_doc(own)
    session.delete(own)
    session.flush()
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="message_template",
        entity_id=f"{code}/{language}",
        action="reset",
        before=before,
        after=None,
    )
    return True


def _own(session: Session, company_id: int, code: str, language: str) -> MessageTemplate | None:
    if language not in LANGUAGES:
        raise NotFound(f"模板语言 {language} 不存在 / no template language {language}")
    return session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.company_id == company_id,
            MessageTemplate.code == code,
            MessageTemplate.language == language,
        )
    )


def _channel(own: MessageTemplate | None, code: str, language: str) -> str:
    if own is not None:
        return own.channel
    if code in DEFAULT_CODES:
        return default_template(code, language).channel
    raise InvalidInput(
        f"新模板 {code} 须指定渠道（email、sms、letter 或 alert）/ "
        f"a new template {code} needs a channel (email, sms, letter or alert)"
    )


def _signature(
    session: Session, company_id: int, code: str, language: str, text: TemplateText
) -> str:
    if text.signature is not None:
        return text.signature
    try:
        return template_for(session, company_id=company_id, code=code, language=language).signature
    except NotFound:
        return ""  # a code of the company's own: no signature unless it writes one


def _template_doc(row: MessageTemplate) -> dict[str, Any]:
    return {
        "channel": row.channel,
        "subject": row.subject,
        "body": row.body,
        "html": row.html,
        "signature": row.signature,
    }


# --- Settings --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingsInput:
    contacts_per_week: int
    quiet_start: str
    quiet_end: str
    language: str
    pay_within_days: int
    statement_format: str
    sender_name: str = ""
    sender_phone: str = ""
    sender_email: str = ""
    bank_name: str = ""
    account_name: str = ""
    account_number: str = ""
    payment_note: str = ""
    promise_grace_workdays: int = 2


def update_settings(
    session: Session, *, actor: Actor, company_id: int, values: SettingsInput
) -> CollectionSettings:
    """Change how the company chases (weekly contact cap, quiet hours, language, pay-by days,
    statement format, the grace for promised money) and what its messages say about the sender and the bank account."""
    problems = _settings_problems(values)
    if problems:
        raise InvalidInput(joined(problems))
    row = collection_settings(session, company_id=company_id)
    before = {k: getattr(row, k) for k in asdict(values)}
    after = {k: v.strip() if isinstance(v, str) else v for k, v in asdict(values).items()}
    for key in ("quiet_start", "quiet_end"):
        after[key] = clock_time(after[key])
    if after == before:
        return row
    for key, value in after.items():
        setattr(row, key, value)
    session.flush()
    record_change(
        session,
        actor=actor,
        company_id=company_id,
        entity="collection_settings",
        entity_id=company_id,
        action="update",
        before=before,
        after=after,
    )
    return row


def clock_time(text: str) -> str | None:
    """'8:00' or '08:00' as '08:00' (how the run reads quiet hours); None if not a time."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return f"{int(match[1]):02d}:{match[2]}"


def _settings_problems(values: SettingsInput) -> list[str]:
    problems = []
    if not 1 <= values.contacts_per_week <= 50:
        problems.append("每周联系次数应在 1 到 50 之间 / contacts per week must be 1 to 50")
    for name, text in (("quiet_start", values.quiet_start), ("quiet_end", values.quiet_end)):
        if clock_time(text) is None:
            problems.append(f"{name}: 时间格式应为 HH:MM / {name}: time must be HH:MM")
    if values.language not in LANGUAGES:
        problems.append("语言须为 zh 或 en / language must be zh or en")
    if not 0 <= values.pay_within_days <= 365:
        problems.append("付款期限应在 0 到 365 天之间 / pay-by days must be 0 to 365")
    if not 0 <= values.promise_grace_workdays <= 20:
        problems.append(
            "承诺付款宽限应在 0 到 20 个工作日之间 / promise grace must be 0 to 20 working days"
        )
    if values.statement_format not in ("xlsx", "pdf", "none"):
        problems.append("对账明细格式须为 xlsx、pdf 或 none / statement format: xlsx, pdf or none")
    limits = {
        "sender_name": 100,
        "sender_phone": 60,
        "sender_email": 200,
        "bank_name": 200,
        "account_name": 200,
        "account_number": 60,
        "payment_note": 300,
    }
    for name, limit in limits.items():
        if len(getattr(values, name).strip()) > limit:
            problems.append(
                f"{name} 超过 {limit} 个字符 / {name} is longer than {limit} characters"
            )
    return problems
