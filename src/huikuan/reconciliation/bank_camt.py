"""ISO 20022 camt.053 bank-to-customer statements (versions 001.02 to 001.08 and later).

The XML is parsed with defusedxml and any DTD is refused: an uploaded file must not be able to
expand entities (billion laughs) or reach for external files. Namespaces are matched by wildcard,
so every version of the schema reads alike; the few elements that moved between versions
(``Dbtr/Nm`` → ``Dbtr/Pty/Nm``, ``TxDtls/AmtDtls/TxAmt/Amt`` → ``TxDtls/Amt``) are read in both
places.

One ``Ntry`` is one line; a batch entry with several ``TxDtls`` (a collective credit) gives one
line per ``TxDtls`` with its own amount, and those amounts must add up to the entry's. Pending
and information-only entries (``Sts`` PDNG/INFO) are not money on the account and are left out.
Several ``Stmt`` in one file (one per day) give one statement with all their lines, opening with
the first statement's balance and closing with the last's; statements of different accounts are
refused. Each line keeps its ``<Ntry>`` element's text exactly as written in the file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, tostring

import defusedxml
import defusedxml.ElementTree

from huikuan.core.dates import DateError, parse_date
from huikuan.core.errors import ImportRejected, InvalidInput, RowError
from huikuan.core.money import AmountError, parse_amount
from huikuan.reconciliation.bank_lines import (
    BankLine,
    BankStatement,
    account_number,
    chosen_account,
    clean_text,
    remittance_text,
)

CAMT053_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053."
_ENTRY = re.compile(r"<(?:[\w.-]+:)?Ntry[\s>].*?</(?:[\w.-]+:)?Ntry\s*>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TX_DETAILS = re.compile(r"<(?:[\w.-]+:)?TxDtls[\s>]")
_DECLARED_ENCODING = re.compile(rb"\s*<\?xml[^>]*encoding=[\"']([\w.-]+)[\"']")
_OPENING_CODES = ("OPBD", "PRCD")  # opening booked; else the previous closing booked


@dataclass(frozen=True, slots=True)
class _Source:
    """An ``<Ntry>`` as written: its text, its line in the file, the lines of its TxDtls."""

    raw: str
    row: int
    detail_rows: tuple[int, ...]


def looks_like_camt053(data: bytes) -> bool:
    return CAMT053_NAMESPACE.encode() in data


def read_camt053(data: bytes, *, account: str | None) -> BankStatement:
    statements = _document(data).findall("{*}BkToCstmrStmt/{*}Stmt")
    if not statements:
        raise InvalidInput(
            "camt.053 文件中没有对账单（Stmt）/ the camt.053 file holds no statement (Stmt)"
        )
    stated = _one_account(statements)
    entries = [(s, e) for s in statements for e in s.findall("{*}Ntry")]
    sources = _entry_sources(data, [e for _, e in entries])
    lines: list[BankLine] = []
    errors: list[RowError] = []
    for (statement, entry), source in zip(entries, sources, strict=True):
        lines.extend(_entry_lines(entry, source, _currency(statement), errors))
    opening = _balance(statements[0], _OPENING_CODES, errors)
    closing = _balance(statements[-1], ("CLBD",), errors)
    if errors:
        raise ImportRejected(errors)
    return BankStatement(
        account=chosen_account(stated, account),
        statement_id=", ".join(_text(s, "{*}Id") for s in statements),
        opened_on=_period(statements[0], "{*}FrDtTm") or (opening[1] if opening else None),
        closed_on=_period(statements[-1], "{*}ToDtTm") or (closing[1] if closing else None),
        opening_balance=opening[0] if opening else None,
        closing_balance=closing[0] if closing else None,
        currency=_currency(statements[0]),
        lines=tuple(lines),
        format="camt053",
    )


def _document(data: bytes) -> Element:
    try:
        root: Element = defusedxml.ElementTree.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise InvalidInput(
            "XML 文件含有 DTD 或实体声明，出于安全原因拒绝读取 / "
            "the XML file declares a DTD or entities and is refused for safety"
        ) from exc
    except ParseError as exc:
        raise InvalidInput(f"XML 格式错误：{exc} / malformed XML: {exc}") from exc
    if not root.tag.startswith("{" + CAMT053_NAMESPACE):
        raise InvalidInput(
            f"XML 文件不是 camt.053 对账单（根元素 {root.tag}）/ "
            f"the XML file is not a camt.053 statement (root element {root.tag})"
        )
    return root


def _one_account(statements: list[Element]) -> str:
    accounts = {
        account_number(_text(s, "{*}Acct/{*}Id/{*}IBAN") or _text(s, "{*}Acct/{*}Id/{*}Othr/{*}Id"))
        for s in statements
    }
    if len(accounts) > 1:
        listed = ", ".join(sorted(accounts))
        raise InvalidInput(
            f"一个文件中有多个账户 {listed}，请分开导入 / "
            f"the file holds several accounts ({listed}): import them separately"
        )
    return accounts.pop()


def _entry_sources(data: bytes, entries: list[Element]) -> list[_Source]:
    """Each entry's own text, found in the file; re-serialised if the file cannot be matched."""
    found = _sources_in_text(_decoded(data))
    if len(found) == len(entries):
        return found
    # Only an odd file (an <Ntry> inside CDATA) gets here: the element's XML, in the parser's
    # namespace prefixes, still shows what was read; rows become entry numbers.
    return [_Source(tostring(e, encoding="unicode"), n, ()) for n, e in enumerate(entries, 1)]


def _decoded(data: bytes) -> str:
    declared = _DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    encoding = declared.group(1).decode() if declared else "utf-8"
    try:
        return data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except (LookupError, UnicodeDecodeError):
        return ""


def _sources_in_text(text: str) -> list[_Source]:
    # Comments are blanked out, keeping every position, so a commented-out <Ntry> is not found.
    searched = _COMMENT.sub(lambda c: re.sub(r"[^\n]", " ", c.group()), text)
    sources, line, counted_to = [], 1, 0
    for match in _ENTRY.finditer(searched):
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        raw = text[match.start() : match.end()]
        details = tuple(line + raw.count("\n", 0, d.start()) for d in _TX_DETAILS.finditer(raw))
        sources.append(_Source(raw, line, details))
    return sources


# --- one entry ---------------------------------------------------------------------------------


def _entry_lines(
    entry: Element, source: _Source, currency: str, errors: list[RowError]
) -> list[BankLine]:
    if (_text(entry, "{*}Sts/{*}Cd") or _text(entry, "{*}Sts")) in ("PDNG", "INFO"):
        return []
    before = len(errors)
    booked_on = _date(entry, "{*}BookgDt", source.row, errors, required=True)
    value_on = _date(entry, "{*}ValDt", source.row, errors, required=False)
    total = _signed_amount(entry, source.row, None, errors)
    parts = _parts(entry, total, source, errors)
    if len(errors) > before:
        return []
    assert booked_on is not None and total is not None
    currency = _amount_currency(entry) or currency
    return [
        _line(entry, detail, booked_on, value_on, amount, currency, source, row)
        for detail, amount, row in parts
        if amount != 0
    ]


def _line(
    entry: Element,
    detail: Element | None,
    booked_on: dt.date,
    value_on: dt.date | None,
    amount: int,
    currency: str,
    source: _Source,
    row: int,
) -> BankLine:
    name, account = _party(detail, amount)
    return BankLine(
        booked_on=booked_on,
        value_on=value_on,
        amount=amount,
        currency=currency,
        payer_name=name,
        payer_account=account,
        remittance=_remittance(entry, detail),
        # A batch's details may carry their own reference; else they share the entry's.
        bank_reference=_text(detail, "{*}Refs/{*}AcctSvcrRef") or _text(entry, "{*}AcctSvcrRef"),
        raw=source.raw,
        row=row,
    )


def _parts(
    entry: Element, total: int | None, source: _Source, errors: list[RowError]
) -> list[tuple[Element | None, int, int]]:
    """(TxDtls, signed amount, row) for each line the entry gives."""
    details = entry.findall("{*}NtryDtls/{*}TxDtls")
    if len(details) <= 1 or total is None:
        return [(details[0] if details else None, total or 0, source.row)]
    rows = source.detail_rows if len(source.detail_rows) == len(details) else ()
    parts: list[tuple[Element | None, int, int]] = []
    for index, detail in enumerate(details):
        row = rows[index] if rows else source.row
        amount = _signed_amount(detail, row, 1 if total > 0 else -1, errors)
        parts.append((detail, amount or 0, row))
    added = sum(amount for _, amount, _ in parts)
    if added != total:
        errors.append(
            RowError(
                source.row,
                "Ntry/NtryDtls",
                f"批量入账明细合计 {added / 100:.2f} 与入账金额 {total / 100:.2f} 不符 / "
                f"the batch details add up to {added / 100:.2f}, not the entry's {total / 100:.2f}",
            )
        )
    return parts


def _signed_amount(
    element: Element, row: int, default_sign: int | None, errors: list[RowError]
) -> int | None:
    """The element's ``Amt`` (or ``AmtDtls/TxAmt/Amt``) in fen, signed by ``CdtDbtInd``."""
    tag = _local(element.tag)
    text = _text(element, "{*}Amt") or _text(element, "{*}AmtDtls/{*}TxAmt/{*}Amt")
    indicator = _text(element, "{*}CdtDbtInd")
    sign = {"CRDT": 1, "DBIT": -1}.get(indicator, default_sign if not indicator else None)
    if sign is None:
        errors.append(
            RowError(
                row,
                f"{tag}/CdtDbtInd",
                f"借贷标志应为 CRDT 或 DBIT，得到 '{indicator}' / CdtDbtInd must be CRDT or DBIT, got '{indicator}'",
            )
        )
        return None
    try:
        amount = parse_amount(text)
    except AmountError as exc:
        errors.append(RowError(row, f"{tag}/Amt", str(exc)))
        return None
    if amount < 0:
        errors.append(
            RowError(row, f"{tag}/Amt", f"金额不能为负 {text} / the amount {text} is negative")
        )
        return None
    return sign * amount


def _party(detail: Element | None, amount: int) -> tuple[str, str]:
    """The other party: the debtor of money in, the creditor of money out."""
    role = "Dbtr" if amount > 0 else "Cdtr"
    name = _text(detail, f"{{*}}RltdPties/{{*}}{role}/{{*}}Nm") or _text(
        detail, f"{{*}}RltdPties/{{*}}{role}/{{*}}Pty/{{*}}Nm"
    )
    account = _text(detail, f"{{*}}RltdPties/{{*}}{role}Acct/{{*}}Id/{{*}}IBAN") or _text(
        detail, f"{{*}}RltdPties/{{*}}{role}Acct/{{*}}Id/{{*}}Othr/{{*}}Id"
    )
    return clean_text(name), account_number(account)


def _remittance(entry: Element, detail: Element | None) -> str:
    """Booking text, then unstructured remittance, creditor and document references, then the
    payer's end-to-end reference: where payers write the invoice number."""
    info = _text(detail, "{*}AddtlTxInf") or _text(entry, "{*}AddtlNtryInf")
    remittance = _all(detail, "{*}RmtInf/{*}Ustrd")
    references = _all(detail, "{*}RmtInf/{*}Strd/{*}CdtrRefInf/{*}Ref")
    documents = _all(detail, "{*}RmtInf/{*}Strd/{*}RfrdDocInf/{*}Nb")
    end_to_end = _text(detail, "{*}Refs/{*}EndToEndId")
    if end_to_end == "NOTPROVIDED":  # the scheme's placeholder for "no reference"
        end_to_end = ""
    return remittance_text([info, *remittance, *references, *documents, end_to_end])


# --- statement level --------------------------------------------------------------------------


def _currency(statement: Element) -> str:
    return _text(statement, "{*}Acct/{*}Ccy") or _amount_currency(statement, "{*}Bal") or "CNY"


def _amount_currency(element: Element, under: str = ".") -> str:
    node = element.find(f"{under}/{{*}}Amt")
    if node is None:
        node = element.find(f"{under}/{{*}}AmtDtls/{{*}}TxAmt/{{*}}Amt")
    return (node.get("Ccy") or "").upper() if node is not None else ""


def _balance(
    statement: Element, codes: tuple[str, ...], errors: list[RowError]
) -> tuple[int, dt.date | None] | None:
    """The first balance of the wanted type, in order of preference: amount and date."""
    balances = statement.findall("{*}Bal")
    for code in codes:
        for balance in balances:
            if _text(balance, "{*}Tp/{*}CdOrPrtry/{*}Cd") == code:
                amount = _signed_amount(balance, 0, None, errors)
                on = _date(balance, "{*}Dt", 0, errors, required=False)
                return (amount, on) if amount is not None else None
    return None


def _period(statement: Element, name: str) -> dt.date | None:
    text = _text(statement, f"{{*}}FrToDt/{name}")
    try:
        return parse_date(text[:10]) if text else None
    except DateError:
        return None


# --- elements ---------------------------------------------------------------------------------


def _date(
    parent: Element, path: str, row: int, errors: list[RowError], *, required: bool
) -> dt.date | None:
    """``<X><Dt>2024-03-05</Dt></X>`` or ``<X><DtTm>2024-03-05T10:15:00+08:00</DtTm></X>``."""
    column = f"{_local(parent.tag)}/{path.replace('{*}', '')}"
    text = _text(parent, f"{path}/{{*}}Dt") or _text(parent, f"{path}/{{*}}DtTm")[:10]
    if not text:
        if required:
            errors.append(RowError(row, column, "日期为空 / date is empty"))
        return None
    try:
        return parse_date(text)
    except DateError as exc:
        errors.append(RowError(row, column, str(exc)))
        return None


def _text(element: Element | None, path: str) -> str:
    node = element.find(path) if element is not None else None
    return (node.text or "").strip() if node is not None else ""


def _all(element: Element | None, path: str) -> list[str]:
    return [(n.text or "").strip() for n in element.findall(path)] if element is not None else []


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
