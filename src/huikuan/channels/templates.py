"""Message and letter templates: Jinja2 text that a company may edit, rendered in a sandbox.

A template is a code (``dunning_letter``), a language (``zh``/``en``), a channel (``email``,
``sms``, ``letter``, or ``alert`` for the internal group robot), a subject and a body; an email
may carry its own HTML, otherwise the HTML part is made from the text, escaped.

What a template may use: every field of :class:`MessageContext` by its name (``company_name``,
``customer_name``, ``addressee``, ``items``, ``total_open``, ``pay_by``, ``payment`` …), plus
``overdue_items``, ``upcoming_items``, ``holiday_items``, ``item_count``, ``max_days_overdue``,
``total_with_fees`` (open amount plus late fees) and ``in_pdf`` (true when the text is the body of
a PDF letter, which prints the invoice table, the payment block and the signature itself).
Filters: ``money`` (fen → ``¥1,234,567.89``; other currencies by their code) and ``date``
(``YYYY-MM-DD``).

Templates are written by people, so rendering is strict and safe: the sandbox refuses access
to Python internals, an unknown name is an error naming it (not an empty string), and every
problem is an :class:`InvalidInput` naming the template, the line and the cause. A line that
holds only ``{% ... %}`` tags leaves no blank line behind; runs of blank lines collapse to one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from types import TracebackType
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, pass_context
from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from huikuan.channels.context import MessageContext, OpenItem, PaymentInstructions
from huikuan.core.dates import format_date
from huikuan.core.errors import HuikuanError, InvalidInput
from huikuan.core.money import format_amount

LANGUAGES = ("zh", "en")
CHANNELS = ("email", "sms", "letter", "alert")
DEFAULT_CODES = (
    "pre_due_reminder",
    "due_notice",
    "overdue_reminder",
    "second_reminder",
    "sms_reminder",
    "sms_overdue",
    "dunning_letter",
    "final_notice",
    "lawyer_letter",
    "stop_supply_notice",
    "statement_cover",
    "internal_alert",
)
# A template is a page of text; anything far larger is a mistake (or an attempt to slow us down).
MAX_TEMPLATE_CHARS = 50_000
_TEMPLATE_FILENAME = "<template>"


@dataclass(frozen=True, slots=True)
class Template:
    code: str
    language: str  # "zh" or "en"
    channel: str  # "email", "sms", "letter" or "alert"
    subject: str  # Jinja2: the email subject or the letter's title
    body: str  # Jinja2: the text
    html: str = ""  # Jinja2 (autoescaped), emails only; empty: made from the text
    # Jinja2: the closing lines (company, signer, date). Appended to the text of a message; a PDF
    # letter prints them right-aligned after the invoice table and the bank details.
    signature: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", self.code):
            raise InvalidInput(
                f"模板代码 '{self.code}' 只能用小写字母、数字和下划线 / "
                f"template code '{self.code}' may use only lower-case letters, digits and _"
            )
        if self.language not in LANGUAGES:
            raise InvalidInput(
                f"模板语言须为 zh 或 en，而不是 '{self.language}' / "
                f"template language must be zh or en, not '{self.language}'"
            )
        if self.channel not in CHANNELS:
            raise InvalidInput(
                f"模板渠道须为 {'、'.join(CHANNELS)} 之一 / "
                f"template channel must be one of {', '.join(CHANNELS)}"
            )
        if not self.body.strip():
            raise InvalidInput(
                f"模板 {self.code} 的正文为空 / template {self.code} has an empty body"
            )
        for part in (self.subject, self.body, self.html, self.signature):
            if len(part) > MAX_TEMPLATE_CHARS:
                raise InvalidInput(
                    f"模板 {self.code} 过长（上限 {MAX_TEMPLATE_CHARS} 字）/ "
                    f"template {self.code} is too long (limit {MAX_TEMPLATE_CHARS} characters)"
                )


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    text: str  # the body followed by the signature
    html: str  # empty for SMS and internal alerts


# ---------------------------------------------------------------- default templates


def default_template(code: str, language: str) -> Template:
    """The template Huikuan ships for ``code`` in ``language`` (``zh`` or ``en``)."""
    if language not in LANGUAGES:
        raise InvalidInput(
            f"模板语言须为 zh 或 en，而不是 '{language}' / "
            f"template language must be zh or en, not '{language}'"
        )
    if code not in DEFAULT_CODES:
        raise InvalidInput(f"没有名为 {code} 的默认模板 / no default template named {code}")
    return _default_templates()[(code, language)]


def default_templates() -> list[Template]:
    """Every shipped template, in :data:`DEFAULT_CODES` order, Chinese before English."""
    loaded = _default_templates()
    return [loaded[(code, language)] for code in DEFAULT_CODES for language in LANGUAGES]


@cache
def _default_templates() -> dict[tuple[str, str], Template]:
    folder = resources.files("huikuan.channels") / "default_templates"
    loaded: dict[tuple[str, str], Template] = {}
    for code in DEFAULT_CODES:
        data = yaml.safe_load((folder / f"{code}.yaml").read_text(encoding="utf-8"))
        for language in LANGUAGES:
            part = data[language]
            loaded[(code, language)] = Template(
                code=code,
                language=language,
                channel=data["channel"],
                subject=part["subject"].strip(),
                body=part["text"],
                html=part.get("html", ""),
                signature=part.get("signature", ""),
            )
    return loaded


# ---------------------------------------------------------------- rendering


def render(template: Template, context: MessageContext, *, in_pdf: bool = False) -> RenderedMessage:
    """The subject, text and HTML of ``template`` for ``context``.

    ``in_pdf`` tells the template that a PDF letter prints the invoice table, the payment block
    and the signature around its text (see :mod:`huikuan.channels.letters`).
    """
    variables = template_variables(context, in_pdf=in_pdf)
    subject = " ".join(_render_part(template, "subject", template.subject, variables).split())
    text = _tidy(_render_part(template, "text", template.body, variables))
    signature = render_signature(template, context)
    if signature and not in_pdf:
        text = f"{text}\n\n{signature}"
    html = ""
    if template.channel in ("email", "letter"):
        if template.html.strip():
            html = _render_part(template, "html", template.html, variables, autoescape=True)
        else:
            html = text_to_html(subject, text, template.language)
    return RenderedMessage(subject=subject, text=text, html=html)


def render_signature(template: Template, context: MessageContext) -> str:
    """The template's closing lines for ``context`` (empty when it has none)."""
    if not template.signature.strip():
        return ""
    variables = template_variables(context, in_pdf=True)
    return _tidy(_render_part(template, "signature", template.signature, variables))


def check_template(template: Template) -> None:
    """Raise :class:`InvalidInput` if ``template`` fails on the sample context.

    Renders it as a message and as a letter body against the full sample and against a sparse
    one (no addressee, no late fees, no pay-by date, no bank details) so that both sides of the
    usual ``{% if %}`` blocks are tried before a company saves its version.
    """
    full = sample_context(template.language)
    sparse = dataclasses.replace(
        full,
        addressee="",
        addressee_role="",
        items=tuple(dataclasses.replace(item, late_fee=0) for item in full.items),
        total_late_fee=0,
        pay_by=None,
        sender_phone="",
        sender_email="",
        payment=PaymentInstructions(),
        step_name="",
    )
    for context in (full, sparse):
        for in_pdf in (False, True):
            render(template, context, in_pdf=in_pdf)


def template_variables(context: MessageContext, *, in_pdf: bool = False) -> dict[str, Any]:
    """The names a template sees: the context's fields and a few sums made from its items."""
    variables: dict[str, Any] = {
        field.name: getattr(context, field.name) for field in dataclasses.fields(context)
    }
    items = context.items
    overdue = tuple(item for item in items if item.days_overdue > 0)
    variables.update(
        overdue_items=overdue,
        upcoming_items=tuple(item for item in items if item.days_overdue <= 0),
        holiday_items=tuple(item for item in items if item.due_on_holiday),
        item_count=len(items),
        max_days_overdue=max((item.days_overdue for item in items), default=0),
        total_with_fees=context.total_open + context.total_late_fee,
        in_pdf=in_pdf,
    )
    return variables


def money_text(fen: int, currency: str = "CNY") -> str:
    """Fen as a reader sees it: ``¥1,234,567.89`` for CNY, ``USD 1,234.00`` otherwise."""
    code = (currency or "CNY").upper()
    return format_amount(fen, "¥" if code in ("CNY", "RMB") else f"{code} ")


@pass_context
def _money_filter(context: Context, value: Any, currency: str | None = None) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"money 过滤器需要以分计的整数金额，而不是 {value!r} / "
            f"the money filter needs an amount in fen (an integer), not {value!r}"
        )
    return money_text(value, currency or context.get("currency") or "CNY")


def _date_filter(value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, dt.date):
        raise TypeError(
            f"date 过滤器需要日期，而不是 {value!r} / the date filter needs a date, not {value!r}"
        )
    return format_date(value)


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=autoescape,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["money"] = _money_filter
    env.filters["date"] = _date_filter
    return env


_TEXT_ENV = _environment(autoescape=False)
_HTML_ENV = _environment(autoescape=True)
# A line holding only block tags or comments: it should leave no line of its own in the output.
_TAG_ONLY_LINE = re.compile(r"[ \t]*(?:(?:\{%.*?%\}|\{#.*?#\})[ \t]*)+")


def _standalone_tags(source: str) -> str:
    """Make lines that hold only ``{% %}`` tags vanish from the output, keeping line numbers.

    The newline after such a line moves into a Jinja comment, so it is not written out but error
    messages still count lines as the author sees them. Lines with text keep their newline, so
    ``…{% endif %}`` at the end of a sentence does not glue two lines together.
    """
    lines = source.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        if _TAG_ONLY_LINE.fullmatch(line) and not last:
            out.append(line.strip() + "{#\n#}")
        else:
            out.append(line if last else line + "\n")
    return "".join(out)


@lru_cache(maxsize=512)
def _compile(source: str, autoescape: bool) -> JinjaTemplate:
    env = _HTML_ENV if autoescape else _TEXT_ENV
    return env.from_string(_standalone_tags(source))


def _render_part(
    template: Template,
    part: str,
    source: str,
    variables: dict[str, Any],
    *,
    autoescape: bool = False,
) -> str:
    where = f"模板 {template.code}（{template.language}）的{_PART_ZH[part]}"
    where_en = f"template {template.code} ({template.language}), {part}"
    try:
        compiled = _compile(source, autoescape)
    except TemplateSyntaxError as exc:
        raise InvalidInput(
            f"{where}第 {exc.lineno} 行语法错误：{exc.message} / "
            f"{where_en}, line {exc.lineno}: syntax error: {exc.message}"
        ) from exc
    try:
        return compiled.render(variables)
    except HuikuanError:
        raise
    except Exception as exc:  # a company's template may fail in any way: report, never crash
        line = _template_line(exc.__traceback__)
        at, at_en = (f"第 {line} 行", f", line {line}") if line else ("", "")
        zh, en = _explain(exc)
        raise InvalidInput(f"{where}{at}{zh} / {where_en}{at_en}: {en}") from exc


_PART_ZH = {"subject": "标题", "text": "正文", "html": "HTML", "signature": "落款"}


def _explain(exc: Exception) -> tuple[str, str]:
    message = str(exc)
    if isinstance(exc, SecurityError):
        return (
            f"使用了模板不允许的访问（{message}）",
            f"access not allowed in templates ({message})",
        )
    if isinstance(exc, UndefinedError):
        name = _undefined_name(message)
        return (f"使用了未定义的名称 {name}", f"unknown name {name} ({message})")
    if isinstance(exc, TemplateError):
        return (f"出错：{message}", f"error: {message}")
    return (f"出错：{message}", f"error: {type(exc).__name__}: {message}")


def _undefined_name(message: str) -> str:
    match = re.search(r"has no attribute '([^']+)'", message) or re.search(
        r"'([^']+)' is undefined", message
    )
    return match.group(1) if match else message


def _template_line(tb: TracebackType | None) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def text_to_html(subject: str, text: str, language: str = "zh") -> str:
    """An HTML email part made from plain text: paragraphs, bullet lists, everything escaped."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        # Within a paragraph, runs of "· " or "- " lines become a list; other lines stay lines.
        runs: list[tuple[bool, list[str]]] = []
        for line in block.split("\n"):
            bullet = line.lstrip().startswith(("· ", "- "))
            if runs and runs[-1][0] == bullet:
                runs[-1][1].append(line)
            else:
                runs.append((bullet, [line]))
        for bullet, lines in runs:
            if bullet:
                entries = "".join(f"<li>{escape(line.lstrip()[2:])}</li>" for line in lines)
                blocks.append(f'<ul style="margin:0 0 1em 0;padding-left:1.4em">{entries}</ul>')
            else:
                body = Markup("<br>\n").join(escape(line) for line in lines)
                blocks.append(f'<p style="margin:0 0 1em 0">{body}</p>')
    lang = "zh-CN" if language == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head>\n"
        "<body style=\"font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',"
        'Arial,sans-serif;font-size:14px;line-height:1.7;color:#222">\n'
        + "\n".join(blocks)
        + "\n</body></html>\n"
    )


# ---------------------------------------------------------------- the sample context


def sample_context(language: str) -> MessageContext:
    """A realistic customer with two overdue invoices and one due on a holiday, for previews.

    Totals: ¥1,234,567.89 open, ¥934,567.89 overdue, ¥25,527.78 late fees (0.05% a day).
    """
    zh = language == "zh"
    as_of = dt.date(2026, 12, 2)
    items = (
        OpenItem(
            invoice_number="FP-2026-08153",
            order_number="SO-2026-0701",
            issue_date=dt.date(2026, 8, 15),
            due_date=dt.date(2026, 9, 30),
            amount=60_000_000,
            open_amount=50_000_000,
            days_overdue=63,
            late_fee=1_575_000,
        ),
        OpenItem(
            invoice_number="FP-2026-09031",
            order_number="SO-2026-0722",
            issue_date=dt.date(2026, 9, 3),
            due_date=dt.date(2026, 10, 18),
            amount=43_456_789,
            open_amount=43_456_789,
            days_overdue=45,
            late_fee=977_778,
        ),
        OpenItem(
            invoice_number="FP-2026-10207",
            order_number="SO-2026-0930",
            issue_date=dt.date(2026, 10, 20),
            due_date=dt.date(2027, 1, 1),
            amount=30_000_000,
            open_amount=30_000_000,
            days_overdue=0,
            due_on_holiday=True,
        ),
    )
    return MessageContext(
        language=language,
        as_of=as_of,
        company_name="示例贸易有限公司" if zh else "Example Trading Co., Ltd.",
        customer_code="C001",
        customer_name="杭州顺达建材有限公司"
        if zh
        else "Hangzhou Shunda Building Materials Co., Ltd.",
        addressee="王建国" if zh else "Wang Jianguo",
        addressee_role="总经理" if zh else "General Manager",
        currency="CNY",
        items=items,
        total_open=sum(item.open_amount for item in items),
        total_overdue=sum(item.open_amount for item in items if item.days_overdue > 0),
        total_late_fee=sum(item.late_fee for item in items),
        pay_by=dt.date(2026, 12, 12),
        reference="HK-2026-12-02-C001-3",
        sender_name="信用管理部 李敏" if zh else "Li Min, Credit Department",
        sender_phone="0571-88886666",
        sender_email="ar@example.com",
        payment=PaymentInstructions(
            bank_name="中国工商银行杭州西湖支行" if zh else "ICBC Hangzhou Xihu Sub-branch",
            account_name="示例贸易有限公司" if zh else "Example Trading Co., Ltd.",
            account_number="1202 0210 0900 1234 567",
            note="请在汇款附言中注明发票号" if zh else "Please quote the invoice numbers.",
        ),
        step_name="正式催款函" if zh else "Formal dunning letter",
    )
