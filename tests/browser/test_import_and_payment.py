"""In the browser: import a file with one bad row, see the error, fix it and import; enter a
payment and see the aging change."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from .conftest import AS_OF, screenshot, sign_in

HEADER = "发票号码,客户编码,开票日期,到期日,价税合计\n"


def test_import_with_a_bad_row_fix_it_then_enter_a_payment(
    server: str, page: Page, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        (
            HEADER
            + "WEB-1,C000001,2026-01-10,2026-02-09,1000.00\nWEB-2,C000001,2026-01-12,2026-02-11,12.345\n"
        ).encode("gbk")
    )
    good = tmp_path / "good.csv"
    good.write_bytes(
        (
            HEADER
            + "WEB-1,C000001,2026-01-10,2026-02-09,1000.00\nWEB-2,C000001,2026-01-12,2026-02-11,12.34\n"
        ).encode("gbk")
    )
    sign_in(page, server, "finance")

    page.goto(f"{server}/imports")
    page.set_input_files("input[name=file]", str(bad))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#import-errors")).to_contain_text("超过两位小数")
    expect(page.locator("#import-errors tbody tr")).to_have_count(1)
    screenshot(page, "05-import-error")

    page.set_input_files("input[name=file]", str(good))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#import-preview")).to_contain_text("将新增 2 条")
    page.click("#confirm-import")
    expect(page.locator("#import-done")).to_contain_text("新增 2 条")
    screenshot(page, "06-import-done")

    page.goto(f"{server}/invoices?customer=C000001&status=open&as_of={AS_OF}")
    expect(page.locator("#invoices")).to_contain_text("WEB-1")
    page.goto(f"{server}/?as_of={AS_OF}")
    before = page.locator("#total").inner_text()

    page.goto(f"{server}/payments")
    page.fill("input[name=customer]", "C000001")
    page.fill("input[name=received_on]", AS_OF)
    page.fill("input[name=amount]", "1,012.34")
    page.fill("input[name=invoice_numbers]", "WEB-1 WEB-2")
    page.click("#payment-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/customers/C000001"))
    expect(page.locator("#open-invoices")).not_to_contain_text("WEB-1")
    screenshot(page, "07-customer-after-payment")

    page.goto(f"{server}/?as_of={AS_OF}")
    after = page.locator("#total").inner_text()
    assert _fen(before) - _fen(after) == 101234
    screenshot(page, "08-aging-after-payment")


def _fen(text: str) -> int:
    return int(text.replace("¥", "").replace(",", "").replace(".", ""))
