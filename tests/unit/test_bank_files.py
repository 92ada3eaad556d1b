"""Bank statement files read into bank lines: CSV and XLSX exports, MT940 and camt.053."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from huikuan.core.errors import ImportRejected, InvalidInput
from huikuan.core.money import MAX_FEN
from huikuan.reconciliation.bank_files import (
    BankLine,
    BankStatement,
    line_key,
    line_keys,
    read_bank_file,
)

SAMPLES = Path(__file__).parent.parent / "samples" / "bank"
D = dt.date


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def read_sample(name: str, **options: object) -> BankStatement:
    return read_bank_file(sample(name), name, **options)  # type: ignore[arg-type]


def facts(line: BankLine) -> tuple[object, ...]:
    return (line.booked_on, line.amount, line.payer_name, line.remittance, line.bank_reference)


def rejected(data: bytes, name: str = "statement.csv", **options: object) -> list[str]:
    with pytest.raises(ImportRejected) as excinfo:
        read_bank_file(data, name, **options)  # type: ignore[arg-type]
    return [str(error) for error in excinfo.value.errors]


def refused(data: bytes, name: str = "statement.csv", **options: object) -> str:
    with pytest.raises(InvalidInput) as excinfo:
        read_bank_file(data, name, **options)  # type: ignore[arg-type]
    return excinfo.value.message


# --- CSV ---------------------------------------------------------------------------------------


def test_a_gbk_export_with_title_rows_gives_its_lines_account_period_and_balances() -> None:
    statement = read_sample("icbc_2024-03a_gbk.csv")

    assert statement.format == "csv"
    assert statement.account == "1001234567890123456"
    assert (statement.opened_on, statement.closed_on) == (D(2024, 3, 1), D(2024, 3, 12))
    assert (statement.opening_balance, statement.closing_balance) == (123456789, 127570917)
    assert statement.currency == "CNY"
    assert [facts(line) for line in statement.lines] == [
        (
            D(2024, 3, 1),
            5000000,
            "杭州明远五金制品有限公司",
            "转账 | 货款 INV-2024-0102 | 货款",
            "HQ20240301000123",
        ),
        (
            D(2024, 3, 4),
            -1280000,
            "上海浦江物流有限公司",
            "网银转账 | 二月运费",
            "HQ20240304000456",
        ),
        (
            D(2024, 3, 5),
            345678,
            "苏州工业园区启航电子有限公司",
            "转账 | INV-2024-0088 尾款 | 货款",
            "",
        ),
        (D(2024, 3, 8), -1550, "", "手续费 | 跨行汇款手续费", "HQ20240308000789"),
        (D(2024, 3, 12), 50000, "宁波甬江塑料制品厂", "转账 | 订单 PO-7781 预付款 | 预付款", ""),
    ]
    first = statement.lines[0]
    assert first.payer_account == "33050161742700001234"
    assert first.row == 6  # the row Excel shows, below four title rows and the header
    assert first.raw == sample("icbc_2024-03a_gbk.csv").decode("gbk").split("\r\n")[5]


def test_overlapping_exports_give_shared_lines_the_same_keys() -> None:
    first = read_sample("icbc_2024-03a_gbk.csv")
    second = read_sample("icbc_2024-03b_gbk.csv")
    first_keys = line_keys(first.account, first.lines)
    second_keys = line_keys(second.account, second.lines)

    assert line_keys(first.account, read_sample("icbc_2024-03a_gbk.csv").lines) == first_keys
    # The first export was cut after the first of two equal 500.00 transfers on 03-12; the
    # second export has both, the repeated page header and a 0.00 line, which are skipped.
    new = [
        line for line, key in zip(second.lines, second_keys, strict=True) if key not in first_keys
    ]
    assert [(line.booked_on, line.amount, line.row) for line in new] == [
        (D(2024, 3, 12), 50000, 7),
        (D(2024, 3, 15), 12000000, 9),
    ]
    assert second_keys[0] == first_keys[4]
    assert second_keys[1] == first_keys[4] + "#2"


def test_a_signed_amount_with_a_debit_credit_mark_in_utf8_with_bom() -> None:
    statement = read_sample("ccb_signed_utf8.csv")

    assert statement.account == ""  # no title rows: the caller names the account
    assert [(line.booked_on, line.value_on, line.amount) for line in statement.lines] == [
        (D(2024, 3, 5), D(2024, 3, 5), 125000),
        (D(2024, 3, 6), D(2024, 3, 6), -600000),
        (D(2024, 3, 7), D(2024, 3, 6), 230050),  # written ２，３００．５０
    ]
    last = statement.lines[2]
    assert last.payer_account == "4402000011112222333"
    assert last.remittance == "转账 | PO-5521 第二批"
    assert last.raw.endswith('"PO-5521\r\n第二批",77550.50,人民币')  # a cell over two lines
    assert (statement.opening_balance, statement.closing_balance) == (8000000, 7755050)


def test_columns_the_names_do_not_reveal_are_mapped_by_the_user() -> None:
    data = "入账日,收入(元),支出(元),客户,流水\n2024-03-05,88.80,,星河商贸,R1\n2024-03-06,,12.00,顺达,R2\n"
    mapping = {"booked_on": "入账日", "credit": "收入(元)", "debit": "支出(元)"}
    mapping |= {"payer_name": "客户", "bank_reference": "流水"}

    statement = read_bank_file(data.encode(), "export.csv", mapping=mapping, account="6222 0001")

    assert [(line.amount, line.payer_name, line.bank_reference) for line in statement.lines] == [
        (8880, "星河商贸", "R1"),
        (-1200, "顺达", "R2"),
    ]
    assert statement.account == "62220001"


def test_an_xlsx_export_with_excel_serial_dates() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["中国建设银行 账户交易明细"])
    sheet.append(["账号", "6217 0000 1001 2345 678"])
    sheet.append(["交易日期", "起息日", "支出金额", "收入金额", "对方名称", "摘要", "交易流水号"])
    sheet.append([45356, 45355, None, 1234.5, "杭州明远五金制品有限公司", "货款", "CCB001"])
    sheet.append([dt.datetime(2024, 3, 6), None, 99.99, None, "电费", "代扣", "CCB002"])
    sheet.append(["合计", None, 99.99, 1234.5])
    buffer = io.BytesIO()
    workbook.save(buffer)

    statement = read_bank_file(buffer.getvalue(), "明细.xlsx")

    assert statement.format == "xlsx"
    assert statement.account == "6217000010012345678"
    assert [(line.booked_on, line.value_on, line.amount) for line in statement.lines] == [
        (D(2024, 3, 5), D(2024, 3, 4), 123450),
        (D(2024, 3, 6), None, -9999),
    ]
    assert (
        statement.lines[0].raw == "45356\t45355\t\t1234.5\t杭州明远五金制品有限公司\t货款\tCCB001"
    )
    assert statement.lines[0].row == 4


@given(
    fen=st.integers(min_value=1, max_value=MAX_FEN - 1),
    separators=st.booleans(),
    full_width=st.booleans(),
    symbol=st.sampled_from(["", "¥", "￥", "RMB "]),
)
def test_an_amount_written_as_banks_write_it_reads_back_to_the_same_fen(
    fen: int, separators: bool, full_width: bool, symbol: str
) -> None:
    yuan, cents = divmod(fen, 100)
    text = f"{symbol}{yuan:,}.{cents:02d}" if separators else f"{symbol}{yuan}.{cents:02d}"
    if full_width:
        text = text.translate(str.maketrans("0123456789.,", "０１２３４５６７８９．，"))
    data = f'交易日期,贷方发生额\n2024-03-05,"{text}"\n'.encode("gb18030")

    assert read_bank_file(data, "a.csv").lines[0].amount == fen


# --- CSV errors --------------------------------------------------------------------------------

HEADER = "交易日期,借方发生额,贷方发生额,对方户名\n"


def test_every_bad_row_is_reported_with_its_row_field_and_reason() -> None:
    data = (
        HEADER
        + "2024-13-01,,100.00,甲\n"  # no 13th month
        + "2024-03-02,50.00,60.00,乙\n"  # both sides
        + "2024-03-03,,1.005,丙\n"  # a third decimal
        + "2024-03-04,,,丁\n"  # no amount at all
        + "2024-03-05,,10.00,戊\n"
    ).encode("gbk")

    errors = rejected(data)

    assert errors == [
        "第 2 行 [交易日期]: 不存在的日期 '2024-13-01' / no such date: '2024-13-01'",
        "第 3 行 [借方发生额/贷方发生额]: 借方和贷方都有金额（50.00 与 60.00）/ "
        "both debit and credit are filled (50.00 and 60.00)",
        "第 4 行 [贷方发生额]: 金额 1.005 超过两位小数 / amount 1.005 has more than two decimal places",
        "第 5 行 [贷方发生额]: 借方和贷方金额都为空 / neither debit nor credit has an amount",
    ]


def test_an_unknown_debit_credit_mark_is_reported() -> None:
    data = "日期,金额,借贷标志\n2024-03-05,10.00,X\n".encode()

    assert rejected(data) == [
        "第 2 行 [借贷标志]: 借贷标志应为 借/贷 或 D/C，得到 'X' / "
        "the debit/credit mark must be 借/贷 or D/C, got 'X'"
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b" \r\n\n", "the file is empty"),
        (b"\x81\xff\xfe\x00garbage\x80", "unknown encoding"),
        ("说明,备注\n你好,世界\n".encode("gbk"), "no header row"),
        (b"%PDF-1.7\n...", "PDF statements cannot be read"),
        (b"<?xml version='1.0'?><Invoice/>", "not a camt.053 statement"),
    ],
)
def test_a_file_that_is_not_a_statement_is_refused_clearly(data: bytes, reason: str) -> None:
    message = refused(data, "upload.csv")

    assert reason in message
    assert message.startswith("upload.csv: ")


def test_a_mapping_naming_unknown_fields_or_missing_columns_is_refused() -> None:
    data = (HEADER + "2024-03-05,,10.00,甲\n").encode()

    assert "unknown field payer" in refused(data, mapping={"payer": "对方户名"})
    assert "mapped columns: 收款日" in refused(data, mapping={"booked_on": "收款日"})


def test_a_file_of_another_account_is_refused() -> None:
    message = refused(sample("icbc_2024-03a_gbk.csv"), account="1001 2345 6789 0000 000")

    assert "the file is for account 1001234567890123456" in message


# --- MT940 -------------------------------------------------------------------------------------


def test_an_mt940_statement_with_structured_and_free_text_details() -> None:
    statement = read_sample("boc_2024-03.mt940")

    assert statement.format == "mt940"
    assert (statement.account, statement.statement_id) == (
        "456789012345",
        "STMT240331001/00031/001",
    )
    assert (statement.opened_on, statement.closed_on) == (D(2024, 2, 29), D(2024, 3, 31))
    assert (statement.opening_balance, statement.closing_balance) == (85600000, 90494128)
    assert statement.opening_balance + sum(line.amount for line in statement.lines) == 90494128
    lines = statement.lines
    assert [
        (line.booked_on, line.amount, line.payer_name, line.payer_account) for line in lines
    ] == [
        (D(2024, 3, 1), 5000000, "杭州明远五金制品有限公司", "330501617427000012"),
        (D(2024, 3, 4), -1280000, "上海浦江物流有限公司", "31050161393600005678"),
        (D(2024, 3, 5), 345678, "苏州工业园区启航电子有限公司", "322010123456789012"),
        (D(2024, 3, 8), -1550, "", ""),
        (D(2024, 3, 29), 880000, "", ""),
        (D(2024, 3, 30), -50000, "宁波甬江塑料制品厂", "390100123456789"),  # RC: reversed credit
    ]
    assert [line.remittance for line in lines] == [
        "转账收入 | 货款 INV-2024-0102",
        "网银转账 | 二月运费",
        "转账收入 | INV-2024-0088 尾款 苏州工业园区订单 SO-2231",
        "跨行汇款手续费",
        # a full 65-character line was cut by the bank, not by the writer
        "PAYMENT FROM SHENZHEN NANSHAN PRECISION PART CO LTD FOR INVOICE INV-2024-0110 AND INV-2024-0111",
        "冲正 | 退回重复汇款",
    ]
    assert [line.bank_reference for line in lines][:4] == [
        "BOC2403010001",
        "BOC2403040002",
        "BOC2403050003",
        "",
    ]
    assert lines[4].value_on == D(2024, 3, 28)
    assert lines[1].row == 8
    assert lines[1].raw == (
        ":61:2403040304D12800,00NTRFNONREF//BOC2403040002\r\n"
        ":86:网银转账 收款人:上海浦江物流有限公司 收款人账号:31050161393600005678\r\n"
        "用途:二月运费"
    )


def test_an_mt940_booking_date_takes_the_year_across_new_year() -> None:
    text = (
        ":20:S1\n:25:123456\n:60F:C231231CNY0,00\n:61:2312310102C100,00NTRFNONREF\n:86:年终货款\n"
    )

    line = read_bank_file(text.encode(), "s.sta").lines[0]

    assert (line.value_on, line.booked_on, line.amount) == (D(2023, 12, 31), D(2024, 1, 2), 10000)


def test_mt940_lines_that_cannot_be_read_are_each_reported() -> None:
    text = ":20:S1\n:25:123456\n:61:2403050305C1,005NTRF\n:61:not a line\n:61:2402300230D5,00NTRF\n"

    assert rejected(text.encode(), "s.sta") == [
        "第 3 行 [:61:]: 金额 1.005 超过两位小数 / amount 1.005 has more than two decimal places",
        "第 4 行 [:61:]: 无法解析交易行 'not a line' / cannot read the statement line 'not a line'",
        "第 5 行 [:61:]: 不存在的日期 240230 / no such date: 240230",
    ]


# --- camt.053 ----------------------------------------------------------------------------------


def test_a_camt053_v02_statement_with_references_and_a_batch_entry() -> None:
    statement = read_sample("camt053_v02.xml")

    assert statement.format == "camt053"
    assert (statement.account, statement.statement_id) == ("571906123410888", "CMB-STMT-20240305")
    assert (statement.opened_on, statement.closed_on) == (D(2024, 3, 1), D(2024, 3, 5))
    assert (statement.opening_balance, statement.closing_balance) == (100000000, 105270000)
    assert [(line.amount, line.payer_name, line.remittance) for line in statement.lines] == [
        (
            5000000,
            "杭州明远五金制品有限公司",
            "转账收入 | 货款 | INV-2024-0102 | E2E-INV-2024-0102",
        ),
        (800000, "北京京北重工机械股份有限公司", "RF712024INV0091 | INV-2024-0091"),
        (300000, "宁波甬江塑料制品厂", "批量代收 | 订单 PO-7781 预付款"),
        (450000, "苏州工业园区启航电子有限公司", "批量代收 | INV-2024-0093"),
        (-1280000, "上海浦江物流有限公司", "二月运费"),  # money out: the creditor
    ]  # the pending (PDNG) entry is not money on the account yet
    batch = statement.lines[2:4]
    assert [line.row for line in batch] == [99, 107]  # each TxDtls's line in the file
    assert batch[0].raw == batch[1].raw
    text = sample("camt053_v02.xml").decode()
    assert batch[0].raw in text
    assert batch[0].raw.startswith("<Ntry>") and batch[0].raw.endswith("</Ntry>")
    assert "<NtryRef>3</NtryRef>" in batch[0].raw
    keys = line_keys(statement.account, statement.lines)
    assert keys[3] == keys[2] + "#2"  # one bank reference for the whole batch


def test_a_camt053_v08_statement_with_party_names_and_own_batch_references() -> None:
    statement = read_sample("camt053_v08.xml")

    assert (statement.account, statement.currency) == ("DE21514107000012345678", "EUR")
    assert (statement.opened_on, statement.opening_balance) == (D(2024, 3, 4), 2000000)
    assert (statement.closed_on, statement.closing_balance) == (D(2024, 3, 5), 2211500)
    assert [
        (line.booked_on, line.amount, line.currency, line.payer_name, line.payer_account)
        for line in statement.lines
    ] == [
        (D(2024, 3, 5), 125000, "EUR", "Müller Maschinenbau GmbH", "DE89370400440532013000"),
        (D(2024, 3, 5), 40000, "EUR", "Lindqvist Trading AB", "SE4550000000058398257466"),
        (D(2024, 3, 5), 50000, "EUR", "Van Dijk Techniek B.V.", ""),
        (D(2024, 3, 5), -3500, "EUR", "", ""),
    ]
    assert [line.remittance for line in statement.lines] == [
        "Rechnung INV-2024-0120 | MMB-2024-0311",
        "RF18INV20240121",
        "RF47INV20240122",
        "Kontofuehrungsgebuehr Maerz",
    ]
    assert [line.bank_reference for line in statement.lines][1:3] == [
        "FFM2403050002-1",
        "FFM2403050002-2",
    ]


def test_several_camt053_statements_in_one_file_give_all_their_lines() -> None:
    text = sample("camt053_v08.xml").decode()
    stmt = re.search(r"<Stmt>.*</Stmt>", text, re.S)
    assert stmt is not None
    next_day = stmt.group().replace("BOCFFM-EUR-2024-055", "BOCFFM-EUR-2024-056")
    doubled = text.replace(stmt.group(), stmt.group() + "\n" + next_day)

    statement = read_bank_file(doubled.encode(), "two.xml")

    assert statement.statement_id == "BOCFFM-EUR-2024-055, BOCFFM-EUR-2024-056"
    assert len(statement.lines) == 8
    assert statement.lines[4].row > statement.lines[3].row


def test_camt053_statements_of_two_accounts_are_refused() -> None:
    text = sample("camt053_v08.xml").decode()
    stmt = re.search(r"<Stmt>.*</Stmt>", text, re.S)
    assert stmt is not None
    other = stmt.group().replace("DE21 5141 0700 0012 3456 78", "DE02120300000000202051")

    message = refused(text.replace(stmt.group(), stmt.group() + other).encode(), "two.xml")

    assert "import them separately" in message


def test_camt053_batch_details_must_add_up_to_the_entry() -> None:
    text = sample("camt053_v02.xml").decode().replace(">4500.00<", ">4400.00<")

    assert rejected(text.encode(), "b.xml") == [
        "第 88 行 [Ntry/NtryDtls]: 批量入账明细合计 7400.00 与入账金额 7500.00 不符 / "
        "the batch details add up to 7400.00, not the entry's 7500.00"
    ]


def test_camt053_entries_with_bad_amounts_and_dates_are_each_reported() -> None:
    text = sample("camt053_v02.xml").decode()
    text = text.replace(">50000.00<", ">50000.001<").replace(
        "<BookgDt><Dt>2024-03-04</Dt></BookgDt>", "<BookgDt><Dt>2024-02-30</Dt></BookgDt>"
    )

    assert rejected(text.encode(), "b.xml") == [
        "第 37 行 [Ntry/Amt]: 金额 50000.001 超过两位小数 / amount 50000.001 has more than two decimal places",
        "第 63 行 [Ntry/BookgDt]: 不存在的日期 '2024-02-30' / no such date: '2024-02-30'",
    ]


def test_an_xml_bomb_is_refused_without_expanding_it() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        + "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
        + "]>\n"
        + '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol9;</Document>'
    ).replace("&lol0;", "&lol;")

    assert "refused for safety" in refused(bomb.encode(), "bomb.xml")


# --- keys --------------------------------------------------------------------------------------

LINE = BankLine(
    booked_on=D(2024, 3, 12),
    value_on=None,
    amount=50000,
    currency="CNY",
    payer_name="宁波甬江塑料制品厂",
    payer_account="390100123456789",
    remittance="订单 PO-7781 预付款",
    bank_reference="",
    raw="",
    row=2,
)


def test_a_line_with_a_bank_reference_is_known_by_it_alone() -> None:
    with_reference = replace(LINE, bank_reference="HQ1")

    assert line_key("A", with_reference) == line_key("A", replace(with_reference, remittance="x"))
    assert line_key("A", with_reference) != line_key("B", with_reference)
    assert line_key("A", with_reference).startswith("ref:")


def test_a_line_without_reference_is_known_by_its_facts_and_equal_lines_are_numbered() -> None:
    other_day = replace(LINE, booked_on=D(2024, 3, 13))

    keys = line_keys("A", [LINE, other_day, replace(LINE, row=9), LINE])

    assert keys[0].startswith("line:")
    assert keys[0] != keys[1]
    assert keys[2:] == [keys[0] + "#2", keys[0] + "#3"]
    assert line_key("A", replace(LINE, raw="anything", row=40, value_on=D(2024, 3, 1))) == keys[0]


def test_a_commented_out_camt053_entry_does_not_shift_the_kept_text() -> None:
    text = sample("camt053_v08.xml").decode()
    commented = text.replace("<Stmt>", "<Stmt><!-- <Ntry>old\n</Ntry> -->", 1)

    lines = read_bank_file(commented.encode(), "c.xml").lines

    assert [line.raw for line in lines] == [
        line.raw for line in read_sample("camt053_v08.xml").lines
    ]
    assert lines[0].raw.startswith("<Ntry>\n<Amt")
    assert lines[0].row == 13  # one line further down than in the sample
