"""A person in a browser: signs in, reads the aging, switches language, signs out; a collector
sees only their own customers."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from .conftest import AS_OF, screenshot, sign_in


def test_sign_in_read_the_aging_switch_language_and_sign_out(server: str, page: Page) -> None:
    page.goto(f"{server}/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    screenshot(page, "01-sign-in")
    page.fill("input[name=username]", "finance")
    page.fill("input[name=password]", "wrong-password1")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_have_text("用户名或密码错误")
    sign_in(page, server, "finance")
    expect(page.locator("h1")).to_have_text("应收账款账龄分析")
    total = page.locator("#total").inner_text()
    assert re.fullmatch(r"¥\d{1,3}(,\d{3})*\.\d{2}", total), total
    expect(page.locator("input[name=as_of]")).to_have_value(AS_OF)
    assert page.locator("table.aging tbody tr").count() > 10
    screenshot(page, "02-aging-zh")
    page.select_option("select[name=by]", "customer_type")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.aging tbody")).to_contain_text("工程项目型")
    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("Receivables aging")
    screenshot(page, "03-aging-en-by-type")
    page.click("form.logout button")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_a_collector_cannot_open_another_collectors_customer(server: str, browser: Browser) -> None:
    finance = browser.new_context().new_page()
    sign_in(finance, server, "finance")
    everyone = finance.request.get(f"{server}/api/customers?page_size=200").json()["items"]
    others = [c["code"] for c in everyone if c["collector"] != "张伟"]
    assert others, "the demo assigns customers to several collectors"
    finance.context.close()

    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    sign_in(page, server, "collector")
    expect(page).to_have_url(re.compile(r"/worklist\?as_of="))  # a collector's home page
    screenshot(page, "05-worklist-collector")
    page.goto(f"{server}/aging?as_of={AS_OF}")
    mine = page.request.get(f"{server}/api/customers?page_size=200").json()
    assert mine["total"] > 0
    assert {c["collector"] for c in mine["items"]} == {"张伟"}
    assert page.request.get(f"{server}/api/customers?q={others[0]}").json()["total"] == 0
    assert page.request.get(f"{server}/api/invoices?customer={others[0]}").json()["items"] == []
    shown = set(page.locator("table.aging tbody tr span.code").all_inner_texts())
    assert shown and shown <= {c["code"] for c in mine["items"]}
    screenshot(page, "04-aging-collector")
    page.context.close()
