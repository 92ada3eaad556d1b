"""Message templates: the shipped ones say what they must, and a company's edits fail clearly."""

from __future__ import annotations

import dataclasses

import pytest

from huikuan.channels.context import MessageContext, PaymentInstructions
from huikuan.channels.templates import (
    DEFAULT_CODES,
    LANGUAGES,
    Template,
    check_template,
    default_template,
    default_templates,
    money_text,
    render,
    sample_context,
)
from huikuan.core.errors import InvalidInput

ALL = [(code, language) for code in DEFAULT_CODES for language in LANGUAGES]
LETTERS = [code for code in DEFAULT_CODES if default_template(code, "zh").channel == "letter"]


def without_fees(context: MessageContext) -> MessageContext:
    items = tuple(dataclasses.replace(item, late_fee=0) for item in context.items)
    return dataclasses.replace(context, items=items, total_late_fee=0)


def custom(body: str, **changes: str) -> Template:
    fields = {"code": "my_notice", "language": "zh", "channel": "email", "subject": "提醒"}
    fields.update(changes)
    return Template(body=body, **fields)


def test_every_code_ships_in_both_languages() -> None:
    shipped = {(t.code, t.language) for t in default_templates()}
    assert shipped == set(ALL)
    assert len(default_templates()) == 2 * len(DEFAULT_CODES) == 24


@pytest.mark.parametrize(("code", "language"), ALL)
def test_default_template_names_company_customer_total_and_pay_by(code: str, language: str) -> None:
    context = sample_context(language)
    message = render(default_template(code, language), context)
    everything = f"{message.subject}\n{message.text}"
    assert context.company_name in everything
    assert context.customer_name in everything
    assert "2026-12-12" in message.text  # the pay-by date
    if code == "sms_overdue":
        assert "¥934,567.89" in message.text  # the overdue total
    else:
        assert "¥1,234,567.89" in message.text
    assert "\n" not in message.subject and message.subject == message.subject.strip()
    assert "{{" not in everything and "{%" not in everything


@pytest.mark.parametrize(("code", "language"), ALL)
def test_default_template_passes_its_own_check(code: str, language: str) -> None:
    check_template(default_template(code, language))


@pytest.mark.parametrize(("code", "language"), ALL)
def test_late_fee_is_mentioned_only_when_there_is_one(code: str, language: str) -> None:
    template = default_template(code, language)
    with_fee = sample_context(language)
    text = render(template, with_fee).text
    assert money_text(with_fee.total_late_fee) in text  # ¥25,527.78
    for in_pdf in (False, True):
        plain = render(template, without_fees(with_fee), in_pdf=in_pdf)
        words = f"{plain.subject}\n{plain.text}".lower()
        assert "违约金" not in words
        assert "late fee" not in words
        assert "¥25,527.78" not in words


@pytest.mark.parametrize("language", LANGUAGES)
def test_addressee_is_named_when_known(language: str) -> None:
    context = sample_context(language)
    for code in DEFAULT_CODES:
        if code.startswith("sms"):
            continue
        assert context.addressee in render(default_template(code, language), context).text
    anonymous = dataclasses.replace(context, addressee="", addressee_role="")
    text = render(default_template("overdue_reminder", language), anonymous).text
    first_line = text.splitlines()[0]
    assert context.customer_name in first_line  # the salutation falls back to the customer


@pytest.mark.parametrize("language", LANGUAGES)
def test_pre_due_reminder_warns_about_a_holiday_due_date(language: str) -> None:
    context = sample_context(language)
    template = default_template("pre_due_reminder", language)
    word = "节假日" if language == "zh" else "holiday"
    assert word in render(template, context).text
    workdays = dataclasses.replace(
        context,
        items=tuple(dataclasses.replace(item, due_on_holiday=False) for item in context.items),
    )
    assert word not in render(template, workdays).text


@pytest.mark.parametrize("code", LETTERS)
def test_letter_text_leaves_table_and_bank_to_the_pdf(code: str) -> None:
    context = sample_context("zh")
    template = default_template(code, "zh")
    as_message = render(template, context).text
    in_pdf = render(template, context, in_pdf=True).text
    assert "FP-2026-09031" in as_message and context.payment.account_number in as_message
    assert "FP-2026-09031" not in in_pdf and context.payment.account_number not in in_pdf
    assert context.company_name in in_pdf


@pytest.mark.parametrize("code", ["final_notice", "lawyer_letter"])
def test_last_letters_announce_legal_action(code: str) -> None:
    zh = render(default_template(code, "zh"), sample_context("zh")).text
    en = render(default_template(code, "en"), sample_context("en")).text
    assert "诉讼" in zh
    assert "proceedings" in en or "litigation" in en


def test_stop_supply_notice_says_deliveries_stop_until_paid() -> None:
    zh = render(default_template("stop_supply_notice", "zh"), sample_context("zh")).text
    assert "暂停" in zh and "恢复供货" in zh


@pytest.mark.parametrize("language", LANGUAGES)
def test_sms_is_short(language: str) -> None:
    context = sample_context(language)
    limit = 100 if language == "zh" else 220
    for code in ("sms_reminder", "sms_overdue"):
        text = render(default_template(code, language), context).text
        assert "\n" not in text
        assert len(text) <= limit, (code, len(text), text)
        if language == "zh":
            assert text.startswith(f"【{context.company_name}】")
    # Without late fees the reminder fits one Chinese SMS segment (70 characters).
    short = render(default_template("sms_reminder", "zh"), without_fees(sample_context("zh")))
    assert len(short.text) <= 70


def test_sms_and_alerts_have_no_html() -> None:
    context = sample_context("zh")
    assert render(default_template("sms_reminder", "zh"), context).html == ""
    assert render(default_template("internal_alert", "zh"), context).html == ""


def test_generated_html_escapes_a_hostile_customer_name() -> None:
    context = dataclasses.replace(
        sample_context("zh"), customer_name='<script>alert("x")</script>杭州'
    )
    message = render(default_template("overdue_reminder", "zh"), context)
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "<script>" in message.text  # plain text is not HTML: kept as written
    assert "<li>" in message.html  # the invoice lines became a list
    assert message.html.startswith("<!DOCTYPE html>")


def test_company_html_is_autoescaped() -> None:
    template = custom("正文", html="<p>{{ customer_name }}</p>")
    context = dataclasses.replace(sample_context("zh"), customer_name="<b>顺达</b>")
    html = render(template, context).html
    assert html == "<p>&lt;b&gt;顺达&lt;/b&gt;</p>"


def test_unknown_name_is_an_error_naming_it_and_the_line() -> None:
    template = custom("尊敬的客户:\n{{ custmer_name }} 您好")
    with pytest.raises(InvalidInput) as caught:
        render(template, sample_context("zh"))
    message = caught.value.message
    assert "custmer_name" in message
    assert "my_notice" in message
    assert "第 2 行" in message and "line 2" in message
    assert " / " in message  # bilingual


def test_unknown_attribute_is_an_error_naming_it() -> None:
    template = custom("{{ payment.acount_number }}")
    with pytest.raises(InvalidInput, match="acount_number"):
        render(template, sample_context("zh"))


def test_syntax_error_gives_the_line() -> None:
    template = custom("第一行\n第二行\n{% if pay_by %}\n未闭合")
    with pytest.raises(InvalidInput) as caught:
        render(template, sample_context("zh"))
    assert "my_notice" in caught.value.message
    assert "syntax error" in caught.value.message
    assert "line" in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ items.__class__.__init__.__globals__ }}",
        "{{ payment.__class__ }}",
        "{{ cycler.__init__.__globals__.os }}",
    ],
)
def test_sandbox_refuses_python_internals(body: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        render(custom(body), sample_context("zh"))
    assert "不允许" in caught.value.message or "unknown name" in caught.value.message


def test_sandbox_refuses_changing_the_context() -> None:
    with pytest.raises(InvalidInput):
        render(custom("{{ items.append(1) }}"), sample_context("zh"))


def test_errors_in_filters_and_arithmetic_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="money"):
        render(custom("{{ customer_name|money }}"), sample_context("zh"))
    with pytest.raises(InvalidInput, match="ZeroDivisionError"):
        render(custom("{{ 1 / 0 }}"), sample_context("zh"))


def test_check_template_tries_the_sparse_branch_too() -> None:
    template = custom("{% if pay_by %}{{ pay_by|date }}{% else %}{{ no_such_name }}{% endif %}")
    render(template, sample_context("zh"))  # fine with a pay-by date
    with pytest.raises(InvalidInput, match="no_such_name"):
        check_template(template)


def test_money_and_date_filters() -> None:
    context = dataclasses.replace(sample_context("en"), currency="USD", total_open=123456)
    text = render(custom("{{ total_open|money }} {{ 5|money('CNY') }} {{ as_of|date }}"), context)
    assert text.text == "USD 1,234.56 ¥0.05 2026-12-02"
    negative = render(custom("{{ -1250|money }}"), sample_context("zh")).text
    assert negative == "-¥12.50"


def test_lines_holding_only_tags_leave_no_blank_lines() -> None:
    body = "甲\n{% if pay_by %}\n乙\n{% endif %}\n丙{% if pay_by %}丁{% endif %}\n戊"
    assert render(custom(body), sample_context("zh")).text == "甲\n乙\n丙丁\n戊"


def test_signature_follows_the_text() -> None:
    template = custom("正文", signature="{{ company_name }}\n{{ as_of|date }}")
    assert render(template, sample_context("zh")).text == "正文\n\n示例贸易有限公司\n2026-12-02"


def test_sparse_context_renders_every_default() -> None:
    for template in default_templates():
        context = dataclasses.replace(
            without_fees(sample_context(template.language)),
            addressee="",
            addressee_role="",
            pay_by=None,
            payment=PaymentInstructions(),
            sender_phone="",
            sender_email="",
            step_name="",
        )
        text = render(template, context).text
        assert "None" not in text


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"language": "fr"}, "language"),
        ({"channel": "fax"}, "channel"),
        ({"code": "Bad Code"}, "code"),
    ],
)
def test_template_fields_are_checked(changes: dict[str, str], word: str) -> None:
    with pytest.raises(InvalidInput, match=word):
        custom("正文", **changes)


def test_unknown_default_template() -> None:
    with pytest.raises(InvalidInput, match="no default template"):
        default_template("nope", "zh")
    with pytest.raises(InvalidInput, match="language"):
        default_template("due_notice", "fr")


def test_sample_context_totals_add_up() -> None:
    for language in LANGUAGES:
        context = sample_context(language)
        assert context.total_open == sum(item.open_amount for item in context.items) == 123456789
        assert context.total_late_fee == sum(item.late_fee for item in context.items)
        assert any(item.due_on_holiday for item in context.items)
