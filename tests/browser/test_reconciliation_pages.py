"""The reconciliation pages in a real browser over the demo company: finance confirms a bank
line waiting in the queue and sees it applied; the statements list and a disputed statement
with its differences."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import AS_OF, screenshot, sign_in


def test_finance_confirms_a_waiting_bank_line_and_reads_the_statements(
    server: str, page: Page
) -> None:
    sign_in(page, server, "finance")
    page.goto(f"{server}/bank?as_of={AS_OF}")
    expect(page.locator("h1")).to_contain_text("银行流水")
    confirm = page.locator("form.confirm-form").first
    expect(confirm).to_be_visible()
    line_action = confirm.get_attribute("action") or ""
    screenshot(page, "10-bank-queue")
    confirm.locator("button[type=submit]").click()
    page.goto(f"{server}/bank?status=applied&as_of={AS_OF}")
    # The confirmed line is now among the applied ones, with its undo form (folded away).
    undo = line_action.replace("/apply", "/undo")
    expect(page.locator(f"form[action='{undo}']")).to_have_count(1)
    screenshot(page, "11-bank-applied")

    page.goto(f"{server}/statements?as_of={AS_OF}")
    expect(page.locator("table")).to_contain_text("有差异")
    expect(page.locator("table")).to_contain_text("已确认")
    screenshot(page, "12-statements")
    page.locator("a[href^='/statements/']").first.click()
    expect(page.locator("body")).to_contain_text("对账单")
    screenshot(page, "13-statement")
