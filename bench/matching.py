"""Cash application (收款核销) benchmark: a month of a bank account's money in, 10,000 labelled
lines, imported and matched against 100,000 open invoices of 30,000 customers, on SQLite and
PostgreSQL; the quality (precision and share of lines applied automatically) and the time.

    .venv/bin/python bench/matching.py --invoices 100000 --lines 10000

The company (built once, kept in bench/results/ under a name carrying the migration head): 30%
as many customers as invoices, named as Chinese companies are (region + trade name + trade +
legal form: 杭州宏达建材有限公司; trade names shared across regions and trades, names one
character apart, some customers the branch of another, 分公司), each with a corporate account and
a boss; payer accounts learned for 35% of customers and the boss's personal name and card for
12% (as clerks confirming earlier lines would have taught them), a registered short name for
8%. The open invoices are numbered as the demo numbers them (INV-2026-0012345, with the order
SO-2026-0012345 for 60%), issued over the last eight months, amounts by customer type as the
demo draws them (35% round hundreds of yuan, 25% whole yuan, the rest with fen; 3% copy
another customer's open amount); customers owe skewed numbers of invoices (lognormal weights).

The bank file: an ICBC-style CSV export in GBK (title rows, 借方/贷方 columns, 对方户名,
对方账号, 附言, 用途, a 合计 row), 10,000 money-in lines plus 3% money out, imported through
``import_bank_statement`` and matched by ``match_waiting``, each in a unit of work of its own
(``huikuan bank import`` does both in one). Every money-in line has a ground truth: the customer
and the invoices and amounts its money pays, or "unknown payer". See ``CATEGORIES`` and
``PAYER_FORMS`` for the mix and its reasons.

Measured: import and matching seconds (matching = reading the book, deciding every line,
recording the automatic payments with their allocations and audit records, storing the
suggestions), the fastest of ``--runs`` runs on fresh copies, on SQLite and on a PostgreSQL
database of its own (filled by COPY, dropped afterwards); precision = automatic lines whose
customer and allocations equal the truth / all automatic lines; auto share = automatic lines /
lines with a known payer; for the lines left waiting, whether the top suggestion is right. Per
category and per payer form. ``--invoices 10000 --lines 1000`` runs in seconds. Results go to
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import math
import os
import pstats
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    PG_ADMIN,
    RESULTS,
    drop_postgres,
    machine,
    migration_head,
    say,
    sqlite_rows,
    write_section,
)
from huikuan.core.audit import Actor
from huikuan.core.company import create_company
from huikuan.core.db import make_engine, normalise_url, session_factory, unit_of_work
from huikuan.core.migrate import upgrade_to_head
from huikuan.customers.models import Customer
from huikuan.demo import names
from huikuan.demo.generator import AMOUNT_RANGE, TERMS, TYPE_WEIGHTS
from huikuan.ledger import daily_totals
from huikuan.ledger import rules as ledger_rules
from huikuan.ledger import service as ledger
from huikuan.ledger.models import Allocation, Invoice
from huikuan.reconciliation import matching, matching_rules
from huikuan.reconciliation.bank_files import read_bank_file
from huikuan.reconciliation.bank_import import import_bank_statement
from huikuan.reconciliation.models import BankLine, MatchSuggestion, PayerAlias

AS_OF = dt.date(2026, 11, 24)  # the other benchmarks' date; the statement is November's
COMPANY = 1
ACTOR = Actor(name="bench", source="bench", at=dt.datetime(2026, 11, 24, 18, 0, tzinfo=dt.UTC))
DATA_VERSION = 1  # part of the cache name: bump when the generated company changes
OUR_ACCOUNT = "1202 0210 0910 0345 678"
OUR_NAME = "上海汇宽示例机电有限公司"

# What the money-in lines are (per cent of the lines). A reference is an invoice or order
# number in 摘要/附言/用途. In Chinese B2B transfers about half the lines carry a usable
# number; the rest say 货款 or nothing, and the clerk knows the customer by name and amount.
CATEGORIES: dict[str, tuple[int, str]] = {
    "exact_ref": (33, "the invoice number as issued in 附言, the exact open amount"),
    "noisy_ref": (12, "the number full-width, with spaces, in lower case or without INV-"),
    "single_noref": (17, "no number (货款, 往来款 or nothing); the exact open amount of one invoice"),
    "combined_ref": (5, "2–4 invoices paid together, each number written"),
    "combined_noref": (7, "2–4 invoices among the customer's six oldest together, no number"),
    "partial_ref": (6, "30–80% of one referenced invoice (首付, 部分货款)"),
    "fee_ref": (3, "1–2 referenced invoices less a fee the bank deducted (¥5–20; a quarter ¥0.50–50)"),
    "fee_noref": (3, "the same without a number"),
    "same_amount_trap": (4, "no number; another customer has an invoice of the same amount open"),
    "unknown_payer": (10, "not a customer's money: persons, strangers, names one character from a customer's; 30% with the amount of some open invoice"),
}  # fmt: skip
# Who the bank says paid, for the lines of a known payer (per cent).
PAYER_FORMS: dict[str, tuple[int, str]] = {
    "legal_name": (70, "the registered name, as banks print it (the customer's account on 90%)"),
    "cut_short": (4, "the bank cut the legal form: 杭州宏达建材有限公"),
    "branch": (3, "a branch pays: 杭州宏达建材有限公司萧山分公司, from its own account"),
    "abbreviation": (6, "宏达建材, 杭州宏达 (the registered short name when there is one)"),
    "typo": (4, "one character wrong: 杭州弘达建材有限公司"),
    "boss_learned": (4, "the boss's personal transfer, name and card learned before"),
    "boss_unknown": (3, "the boss's personal transfer, never seen before"),
    "related_company": (6, "a sister or parent company pays: no name evidence at all"),
}  # fmt: skip
FEES = (500, 1000, 1500, 2000)  # fen: what the matching rules expect (MatchSettings.fee_amounts)
ODD_FEES = (50, 250, 2500, 5000)  # fees banks also deduct; a quarter of the fee lines
OUTGOING_SHARE = 0.03

TRADE_CHARS = "宏鑫源恒信华美永盛瑞丰金诚嘉和远航正泰顺昌博天成汇通立新振广益富安卓越佳禾长兴明辉凯润泽中联德海川隆昊晟泓浩达康宁祥福星鼎聚兆亿创"
REGIONS = (
    *names.REGIONS,
    *("绍兴", "嘉兴", "湖州", "金华", "台州", "泉州", "漳州", "中山", "珠海", "惠州"),
    *("江门", "南通", "扬州", "徐州", "烟台", "潍坊", "临沂", "洛阳", "襄阳", "宜昌"),
)
MORE_INDUSTRIES = {
    "project": ("建材", "钢结构工程", "幕墙工程"),
    "dealer": ("钢材贸易", "化工贸易", "建材"),
    "industrial": ("五金制品", "新材料", "纺织"),
    "retail_chain": ("商业连锁", "超市"),
    "other": ("供应链管理", "信息技术"),
}
GIVEN = (
    *names.GIVEN,
    *("建国", "国强", "卫东", "晓明", "文华", "金龙", "玉兰", "春梅", "志明", "俊杰"),
    *("海涛", "永红", "德明", "立新", "红梅", "伟民", "学军", "宏伟", "丽华", "秋菊"),
    *("国庆", "振华", "雪梅", "小平", "新民", "长青", "凤英", "建军", "少华", "光明"),
)
DISTRICTS = ("萧山", "滨江", "江宁", "浦东", "南山", "宝安", "高新区", "经开区", "城东", "工业园")
RELATED_FORMS = ("投资", "控股", "实业", "集团", "贸易", "科技")
# Characters people and input methods confuse (同音字, 形近字): a typo in a payer name.
TYPOS = {
    "宏": "弘", "鑫": "新", "源": "元", "恒": "衡", "信": "兴", "华": "化", "美": "每",
    "永": "勇", "盛": "胜", "瑞": "锐", "丰": "峰", "金": "今", "诚": "成", "嘉": "佳",
    "和": "合", "远": "原", "航": "行", "正": "证", "泰": "太", "顺": "舜", "昌": "常",
    "博": "搏", "天": "添", "成": "诚", "汇": "惠", "通": "同", "立": "力", "新": "鑫",
    "振": "震", "广": "光", "益": "义", "富": "福", "安": "按", "卓": "桌", "越": "跃",
    "佳": "嘉", "禾": "和", "长": "常", "兴": "星", "明": "名", "辉": "晖", "凯": "恺",
    "润": "闰", "泽": "择", "中": "忠", "联": "连", "德": "得", "海": "每", "川": "传",
    "隆": "龙", "昊": "浩", "晟": "盛", "泓": "宏", "浩": "皓", "达": "大", "康": "唐",
    "宁": "凝", "祥": "详", "福": "富", "星": "兴", "鼎": "顶", "聚": "巨", "兆": "照",
    "亿": "忆", "创": "闯", "州": "洲", "材": "才", "贸": "茂", "易": "益", "械": "戒",
}  # fmt: skip
SUMMARIES = ("转账", "网银转账", "跨行汇款", "汇入", "电子汇入", "转账存入", "网上银行")
NOREF_TEXTS = ("货款", "往来款", "10月货款", "11月货款", "结算款", "", "", "材料款", "还款")
REF_TEXTS = (
    "货款 {n}",
    "{n}货款",
    "付{n}",
    "支付{n}号发票货款",
    "发票号:{n}",
    "{n} 11月货款",
    "还{n}欠款",
)
PARTIAL_TEXTS = ("{n}部分货款", "{n}首付", "付{n}部分款", "{n} 分期付款", "预付{n}")
UNKNOWN_TEXTS = ("往来款", "借款", "投标保证金", "退款", "还款", "服务费", "", "租金", "报销")


# --- The company --------------------------------------------------------------------------------


@dataclass(slots=True)
class Cust:
    id: int
    code: str
    name: str
    region: str
    trade: str
    industry: str
    ctype: str
    boss: str
    account: str
    boss_account: str
    branch_of: int | None = None
    short_name: str = ""  # registered in customer.aliases
    learned_account: bool = False
    learned_boss: bool = False


@dataclass(slots=True)
class Inv:
    id: int
    customer_id: int
    number: str
    order_number: str
    issued: dt.date
    due: dt.date
    amount: int

    def age(self) -> tuple[dt.date, dt.date, str, int]:
        return (self.due, self.issued, self.number, self.id)


@dataclass(slots=True)
class World:
    customers: list[Cust]
    invoices: list[Inv]

    def by_customer(self) -> dict[int, list[Inv]]:
        grouped: dict[int, list[Inv]] = defaultdict(list)
        for invoice in self.invoices:
            grouped[invoice.customer_id].append(invoice)
        for group in grouped.values():
            group.sort(key=Inv.age)
        return grouped


def account_number(rng: random.Random) -> str:
    prefix = rng.choice(("1202", "3301", "3100", "4400", "6228", "1001", "3205"))
    return prefix + "".join(rng.choice("0123456789") for _ in range(rng.choice((12, 14, 15))))


def card_number(rng: random.Random) -> str:
    prefix = rng.choice(("622202", "621700", "622848", "622588", "621226"))
    return prefix + "".join(rng.choice("0123456789") for _ in range(13))


def person(rng: random.Random) -> str:
    return rng.choice(names.SURNAMES) + rng.choice(GIVEN)


def trade_name(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(names.WORDS)
    first, second = rng.sample(TRADE_CHARS, 2)
    return first + second


def legal_form(rng: random.Random) -> str:
    return rng.choices(("有限公司", "有限责任公司", "股份有限公司"), weights=(85, 10, 5))[0]


def make_world(invoices: int, customers: int, seed: int = 2026) -> World:
    rng = random.Random(seed)
    people: list[Cust] = []
    taken: set[str] = set()
    for index in range(customers):
        customer_id = index + 1
        if people and rng.random() < 0.02:  # a branch registered as a customer of its own
            parent = rng.choice([c for c in people[-200:] if c.branch_of is None])
            name = f"{parent.name}{rng.choice(DISTRICTS)}分公司"
            if name in taken:
                name = f"{parent.name}{rng.choice(DISTRICTS)}第二分公司"
            cust = Cust(
                customer_id, f"C{customer_id:06d}", name, parent.region, parent.trade,
                parent.industry, parent.ctype, person(rng), account_number(rng),
                card_number(rng), branch_of=parent.id,
            )  # fmt: skip
        else:
            ctype = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
            industries = names.INDUSTRY_BY_TYPE[ctype] + MORE_INDUSTRIES[ctype]
            while True:
                region, trade = rng.choice(REGIONS), trade_name(rng)
                industry = rng.choice(industries)
                if rng.random() < 0.05:  # the region in brackets: 宏达建材（杭州）有限公司
                    name = f"{trade}{industry}（{region}）{legal_form(rng)}"
                else:
                    name = f"{region}{trade}{industry}{legal_form(rng)}"
                if name not in taken:
                    break
            cust = Cust(
                customer_id, f"C{customer_id:06d}", name, region, trade, industry, ctype,
                person(rng), account_number(rng), card_number(rng),
            )  # fmt: skip
            if rng.random() < 0.08:
                cust.short_name = f"{trade}{industry}"
        taken.add(cust.name)
        cust.learned_account = rng.random() < 0.35
        cust.learned_boss = rng.random() < 0.12
        people.append(cust)
    return World(people, make_invoices(rng, people, invoices))


def make_invoices(rng: random.Random, people: list[Cust], count: int) -> list[Inv]:
    weights = [math.exp(rng.gauss(0, 1)) * (2 if c.ctype == "retail_chain" else 1) for c in people]
    owners = rng.choices(people, weights=weights, k=count)
    drafts = []
    for cust in owners:
        issued = AS_OF - dt.timedelta(days=rng.randint(8, 240))
        if cust.ctype == "retail_chain":  # 月结: due at the end of the next month
            month_after = (issued.replace(day=1) + dt.timedelta(days=62)).replace(day=1)
            due = month_after - dt.timedelta(days=1)
        else:
            due = issued + dt.timedelta(days=rng.choice(TERMS[cust.ctype]))
        low, high = AMOUNT_RANGE[cust.ctype]
        shape = rng.random()
        if shape < 0.35:
            amount = rng.randrange(max(1, low // 100), high // 100) * 100_00
        elif shape < 0.60:
            amount = rng.randrange(low, high) * 100
        else:
            amount = rng.randrange(low * 100, high * 100)
        drafts.append((issued, cust.id, due, amount))
    drafts.sort()
    made: list[Inv] = []
    for number, (issued, customer_id, due, amount) in enumerate(drafts, start=1):
        if made and rng.random() < 0.03:  # the same amount as another customer's invoice
            other = rng.choice(made)
            if other.customer_id != customer_id:
                amount = other.amount
        order = f"SO-{issued.year}-{number:07d}" if rng.random() < 0.6 else ""
        made.append(
            Inv(number, customer_id, f"INV-{issued.year}-{number:07d}", order, issued, due, amount)
        )
    return made


def cache_path(args: argparse.Namespace) -> Path:
    return (
        RESULTS / f"matching-{migration_head()}-v{DATA_VERSION}-{args.invoices}-{args.customers}.db"
    )


def build_data(world: World, path: Path) -> None:
    """The company in a SQLite file (reused when present)."""
    if path.exists():
        say(f"reusing {path}")
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    url = f"sqlite:///{tmp}"
    upgrade_to_head(url)
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as session:
        create_company(session, code="bench", name=OUR_NAME)
    with engine.begin() as conn:
        write_world(conn, world)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    os.replace(tmp, path)
    say(f"built {len(world.invoices):,} open invoices in {time.perf_counter() - started:.0f} s")


def write_world(conn: Any, world: World) -> None:
    customers = [
        {
            "id": c.id, "company_id": COMPANY, "code": c.code, "name": c.name,
            "aliases": c.short_name, "customer_type": c.ctype, "status": "active",
            "salesperson": "", "collector": "", "tags": "",
        }
        for c in world.customers
    ]  # fmt: skip
    invoices = [
        {
            "id": i.id, "company_id": COMPANY, "customer_id": i.customer_id, "number": i.number,
            "order_number": i.order_number, "issue_date": i.issued, "due_date": i.due,
            "amount": i.amount, "currency": "CNY", "status": "open", "open_amount": i.amount,
            "settled_on": None, "description": "",
        }
        for i in world.invoices
    ]  # fmt: skip
    learned = AS_OF - dt.timedelta(days=60)
    aliases = [
        {
            "company_id": COMPANY, "customer_id": c.id, "name": name, "account": account,
            "learned_from": None, "learned_by": "clerk", "learned_on": learned,
        }
        for c in world.customers
        for name, account, known in (("", c.account, c.learned_account),
                                     (c.boss, c.boss_account, c.learned_boss))
        if known
    ]  # fmt: skip
    for model, rows in ((Customer, customers), (Invoice, invoices), (PayerAlias, aliases)):
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(model), rows[start : start + 10_000])
    daily_totals.rebuild(conn, COMPANY)


# --- The bank file ------------------------------------------------------------------------------


@dataclass(slots=True)
class Truth:
    category: str
    form: str  # payer form; "" for unknown payers
    customer_id: int | None  # None: unknown payer
    allocations: frozenset[tuple[int, int]]


@dataclass(slots=True)
class Line:
    booked_on: dt.date
    amount: int  # fen, negative = money out
    payer_name: str
    payer_account: str
    summary: str
    remittance: str
    purpose: str
    truth: Truth | None  # None for money out


def full_width(value: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)


def noisy_number(rng: random.Random, number: str) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return full_width(number)
    if kind == 1:
        return number.replace("-", " ")
    if kind == 2:
        return number.lower()
    if kind == 3:  # the prefix left out: 2026-0012345 or 20260012345
        bare = number.split("-", 1)[1]
        return bare if rng.random() < 0.5 else bare.replace("-", "")
    return "Inv " + number.split("-", 1)[1].replace("-", "")


class LineMaker:
    """Draws the labelled lines from the company; each invoice is paid by one line at most."""

    def __init__(self, world: World, seed: int = 20261124) -> None:
        self.rng = random.Random(seed)
        self.world = world
        self.customers = {c.id: c for c in world.customers}
        self.unpaid = world.by_customer()
        self.invoices = world.invoices
        owners_by_amount: dict[int, set[int]] = defaultdict(set)
        for invoice in world.invoices:
            owners_by_amount[invoice.amount].add(invoice.customer_id)
        self.shared = [i for i in world.invoices if len(owners_by_amount[i.amount]) > 1]
        self.taken_names = {c.name for c in world.customers}
        days = [AS_OF - dt.timedelta(days=n) for n in range(0, 24)]
        self.days = [d for d in days if d.weekday() < 5]

    def lines(self, count: int) -> list[Line]:
        made = []
        categories, weights = list(CATEGORIES), [share for share, _ in CATEGORIES.values()]
        forms, form_weights = list(PAYER_FORMS), [share for share, _ in PAYER_FORMS.values()]
        while len(made) < count:
            category = self.rng.choices(categories, weights=weights)[0]
            if category == "unknown_payer":
                made.append(self.unknown())
                continue
            form = self.rng.choices(forms, weights=form_weights)[0]
            line = self.known(category, form)
            if line is not None:
                made.append(line)
        made += [self.outgoing() for _ in range(round(count * OUTGOING_SHARE))]
        self.rng.shuffle(made)
        made.sort(key=lambda line: line.booked_on)
        return made

    # -- who pays and for what

    def customer_for(
        self, form: str, need: int, pool: list[Inv] | None = None
    ) -> tuple[Cust, Inv] | None:
        """A customer with ``need`` unpaid invoices who can pay in this form (and the invoice
        drawn, one of ``pool`` when given): customers with more invoices pay more often."""
        for _ in range(2000):
            invoice = self.rng.choice(pool or self.invoices)
            cust = self.customers[invoice.customer_id]
            unpaid = self.unpaid[cust.id]
            if len(unpaid) < need or (pool is not None and invoice not in unpaid):
                continue
            if form == "boss_learned" and not cust.learned_boss:
                continue
            if form == "boss_unknown" and cust.learned_boss:
                continue
            if form == "branch" and cust.branch_of is not None:
                continue
            return cust, invoice
        return None

    def take(self, cust: Cust, count: int, oldest: int) -> list[Inv]:
        unpaid = self.unpaid[cust.id]
        window = unpaid[: max(oldest, count)]
        chosen = window[:count] if self.rng.random() < 0.6 else self.rng.sample(window, count)
        for invoice in chosen:
            unpaid.remove(invoice)
        return sorted(chosen, key=Inv.age)

    def known(self, category: str, form: str) -> Line | None:
        rng = self.rng
        count = 1
        if category.startswith("combined"):
            count = rng.choices((2, 3, 4), weights=(50, 30, 20))[0]
        elif category.startswith("fee") and rng.random() < 0.3:
            count = 2
        pool = self.shared if category == "same_amount_trap" else None
        found = self.customer_for(form, count, pool)
        if found is None:
            return None
        cust, drawn = found
        if pool is not None:
            chosen = [drawn]
            self.unpaid[cust.id].remove(drawn)
        else:
            chosen = self.take(cust, count, oldest=3 if count == 1 else 6)
        total = sum(i.amount for i in chosen)
        numbers = [i.number for i in chosen]
        allocations = [(i.id, i.amount) for i in chosen]
        if category in ("exact_ref", "noisy_ref"):
            number = numbers[0] if category == "exact_ref" else noisy_number(rng, numbers[0])
            remittance, amount = rng.choice(REF_TEXTS).format(n=number), total
        elif category == "combined_ref":
            joined = rng.choice((",", "，", "、", " ", "；")).join(numbers)
            remittance, amount = (
                rng.choice(("付{n}货款", "{n}", "货款({n})")).format(n=joined),
                total,
            )
        elif category == "partial_ref":
            share = rng.choice((0.3, 0.5, 0.5, 0.6, 0.8))
            amount = max(100_00, int(total * share) // 100_00 * 100_00)
            if amount >= total:
                amount = total // 2
            remittance = rng.choice(PARTIAL_TEXTS).format(n=numbers[0])
            allocations = [(chosen[0].id, amount)]
        elif category.startswith("fee"):
            fee = rng.choice(ODD_FEES) if rng.random() < 0.25 else rng.choice(FEES)
            amount = total - fee
            plan = ledger_rules.allocate_oldest_first(
                amount,
                [ledger_rules.OpenItem(i.id, i.number, i.issued, i.due, i.amount) for i in chosen],
            )
            allocations = [(a.invoice_id, a.amount) for a in plan.applications]
            remittance = (
                rng.choice(("付{n}货款", "{n}")).format(n=",".join(numbers))
                if category == "fee_ref"
                else rng.choice(NOREF_TEXTS)
            )
        else:  # single_noref, combined_noref, same_amount_trap
            remittance, amount = rng.choice(NOREF_TEXTS), total
        payer, account = self.payer(cust, form)
        return Line(
            booked_on=rng.choice(self.days), amount=amount, payer_name=payer,
            payer_account=account, summary=rng.choice(SUMMARIES), remittance=remittance,
            purpose=rng.choice(("货款", "", "")),
            truth=Truth(category, form, cust.id, frozenset(allocations)),
        )  # fmt: skip

    def payer(self, cust: Cust, form: str) -> tuple[str, str]:
        rng = self.rng
        own = cust.account if rng.random() < 0.9 else ""
        if form == "legal_name":
            return cust.name, own
        if form == "cut_short":
            cut = rng.choice((1, 2)) if cust.name.endswith("有限公司") else 1
            return cust.name[:-cut], own
        if form == "branch":
            district = rng.choice(DISTRICTS)
            written = (
                f"{cust.name}{district}分公司"
                if rng.random() < 0.5
                else f"{cust.name}（{district}分公司）"
            )
            return written, account_number(rng)
        if form == "abbreviation":
            if cust.short_name:
                return cust.short_name, own
            return rng.choice(
                (
                    f"{cust.trade}{cust.industry}有限公司",
                    f"{cust.trade}{cust.industry}",
                    f"{cust.region}{cust.trade}",
                )
            ), own
        if form == "typo":
            return self.typo(cust.name), own
        if form in ("boss_learned", "boss_unknown"):
            return cust.boss, cust.boss_account
        return self.related(cust), account_number(rng)

    def typo(self, name: str) -> str:
        places = [i for i, c in enumerate(name[:-4]) if c in TYPOS]
        if not places:
            return name[:-4] + name[-3:]  # a character dropped from the legal form
        at = self.rng.choice(places)
        return name[:at] + TYPOS[name[at]] + name[at + 1 :]

    def related(self, cust: Cust) -> str:
        rng = self.rng
        for _ in range(100):
            if rng.random() < 0.5:
                name = f"{cust.region}{cust.trade}{rng.choice(RELATED_FORMS)}集团有限公司"
            else:
                name = f"{rng.choice(REGIONS)}{trade_name(rng)}{rng.choice(RELATED_FORMS)}有限公司"
            if name not in self.taken_names:
                return name
        return person(rng)

    def unknown(self) -> Line:
        rng = self.rng
        kind = rng.random()
        if kind < 0.5:
            payer, account = person(rng), card_number(rng)
        else:
            while True:
                region, trade = rng.choice(REGIONS), trade_name(rng)
                industry = rng.choice(rng.choice(list(names.INDUSTRY_BY_TYPE.values())))
                payer = f"{region}{trade}{industry}{legal_form(rng)}"
                if kind > 0.85:  # one character away from a customer's name
                    payer = self.typo(rng.choice(self.world.customers).name)
                if payer not in self.taken_names:
                    break
            account = account_number(rng)
        if rng.random() < 0.3:  # the amount of some customer's open invoice: a trap
            amount = rng.choice(self.invoices).amount
        else:
            amount = rng.choice(
                (rng.randrange(100, 50_000) * 100_00, rng.randrange(1_00, 2_000_000_00))
            )
        remittance = rng.choice(UNKNOWN_TEXTS)
        if rng.random() < 0.1:  # a number that is not ours, or long paid
            remittance = f"{remittance} INV-2025-{rng.randrange(10**7):07d}".strip()
        return Line(
            booked_on=rng.choice(self.days), amount=amount, payer_name=payer,
            payer_account=account, summary=rng.choice(SUMMARIES), remittance=remittance,
            purpose="", truth=Truth("unknown_payer", "", None, frozenset()),
        )  # fmt: skip

    def outgoing(self) -> Line:
        rng = self.rng
        payee, what = rng.choice(
            (("", "跨行汇款手续费"), ("上海浦江物流有限公司", "运费"), ("国家金库上海市分库", "税款"),
             (f"{rng.choice(REGIONS)}{trade_name(rng)}钢材贸易有限公司", "材料款"),
             ("上海汇宽示例机电有限公司工资户", "代发工资"))
        )  # fmt: skip
        amount = -rng.randrange(100, 20_000_000) if what != "跨行汇款手续费" else -rng.choice(FEES)
        return Line(
            booked_on=rng.choice(self.days), amount=amount, payer_name=payee,
            payer_account=account_number(rng) if payee else "", summary="转账支出",
            remittance=what, purpose="", truth=None,
        )  # fmt: skip


def money(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def bank_csv(lines: list[Line]) -> bytes:
    """The lines as an online-banking export: GBK, title rows, 借方/贷方, a 合计 row."""
    rng = random.Random(7)
    out = io.StringIO()
    first, last = min(x.booked_on for x in lines), max(x.booked_on for x in lines)
    out.write("中国工商银行 对公账户历史明细,,,,,,,,,\r\n")
    out.write(f"账号：{OUR_ACCOUNT},,户名：{OUR_NAME},,,,,,,\r\n")
    out.write(f"起止日期：{first} 至 {last},,,,,,,,,\r\n")
    out.write("币种：人民币,,,,,,,,,\r\n")
    out.write("交易日期,交易流水号,摘要,借方发生额,贷方发生额,余额,对方户名,对方账号,附言,用途\r\n")
    balance = 12_345_678_90
    for n, line in enumerate(lines):
        balance += line.amount
        serial = f"HQ{line.booked_on:%Y%m%d}{n:06d}" if rng.random() < 0.85 else ""
        debit = money(-line.amount) if line.amount < 0 else ""
        credit = money(line.amount) if line.amount > 0 else ""
        account = " ".join(
            line.payer_account[i : i + 4] for i in range(0, len(line.payer_account), 4)
        )
        cells = [
            line.booked_on.isoformat(), serial, line.summary, debit, credit, money(balance),
            line.payer_name, account, line.remittance, line.purpose,
        ]  # fmt: skip
        out.write(",".join(f'"{c}"' if ("," in c or "，" in c) else c for c in cells) + "\r\n")
    debits = sum(-x.amount for x in lines if x.amount < 0)
    credits = sum(x.amount for x in lines if x.amount > 0)
    out.write(f"合计,,,{money(debits)},{money(credits)},,,,,\r\n")
    out.write("注：本明细仅供参考，以银行账簿记录为准。,,,,,,,,,\r\n")
    return out.getvalue().encode("gbk")


def truth_by_row(data: bytes, lines: list[Line]) -> dict[int, Truth]:
    """The file read back (not timed): each parsed line's row, with its truth."""
    parsed = read_bank_file(data, "statement.csv").lines
    assert len(parsed) == len(lines), (len(parsed), len(lines))
    truths = {}
    for read, line in zip(parsed, lines, strict=True):
        assert read.amount == line.amount and read.booked_on == line.booked_on
        if line.truth is not None:
            truths[read.row] = line.truth
    return truths


# --- Running ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Phases:
    """Where matching's time goes, measured by wrapping the functions (they still do the work)."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    cpu: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))


PHASES = Phases()


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            PHASES.seconds[name] += time.perf_counter() - started
            PHASES.cpu[name] += time.process_time() - cpu
            PHASES.calls[name] += 1

    return wrapper


def instrument() -> None:
    matching.load_book = _timed("load_book (read, index)", matching.load_book)
    matching_rules.candidates = _timed("candidates", matching_rules.candidates)
    matching_rules.decide = _timed("decide", matching_rules.decide)
    matching._apply_chosen = _timed("apply the automatic lines", matching._apply_chosen)
    ledger.record_payments = _timed("  of which record_payments", ledger.record_payments)
    matching._wait = _timed("store suggestions", matching._wait)


@dataclass(slots=True)
class Outcome:
    status: str  # applied, suggested, unknown
    customer_id: int | None
    allocations: frozenset[tuple[int, int]]
    top_customer: int | None = None
    top_allocations: frozenset[tuple[int, int]] = frozenset()
    reasons: tuple[str, ...] = ()  # the applied candidate's reason codes


@dataclass(slots=True)
class Run:
    engine: str
    import_seconds: float
    match_seconds: float
    import_cpu: float  # seconds of this process's CPU (SQLite works in it; PostgreSQL does not)
    match_cpu: float
    lines_in_file: int
    outcomes: dict[int, Outcome]  # by row
    phases: dict[str, tuple[int, float, float]]  # calls, seconds, CPU seconds
    run: matching.MatchRun
    totals: list[float] = field(default_factory=list)  # import + matching of every run


def run_engine(engine_name: str, url: str, data: bytes, profile: bool) -> Run:
    engine = make_engine(url)
    factory = session_factory(engine)
    PHASES.seconds.clear()
    PHASES.cpu.clear()
    PHASES.calls.clear()
    say(f"{engine_name}: importing the statement ...")
    started, cpu = time.perf_counter(), time.process_time()
    with unit_of_work(factory) as session:
        imported = import_bank_statement(
            session, actor=ACTOR, company_id=COMPANY, data=data, filename="icbc-2026-11.csv"
        )
    import_seconds, import_cpu = time.perf_counter() - started, time.process_time() - cpu
    say(f"  {import_seconds:.1f} s: {imported.added:,} lines added")
    say(f"{engine_name}: matching ...")
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    with unit_of_work(factory) as session:
        run = matching.match_waiting(session, actor=ACTOR, company_id=COMPANY)
    if profiler:
        profiler.disable()
    match_seconds, match_cpu = time.perf_counter() - started, time.process_time() - cpu
    say(
        f"  {match_seconds:.1f} s: {run.lines:,} lines, {run.auto:,} applied, "
        f"{run.suggested:,} suggested, {run.unknown:,} unknown"
    )
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
    outcomes = read_outcomes(factory, imported.statement_id)
    engine.dispose()
    phases = {
        name: (PHASES.calls[name], PHASES.seconds[name], PHASES.cpu[name])
        for name in PHASES.seconds
    }
    return Run(
        engine_name, import_seconds, match_seconds, import_cpu, match_cpu, imported.lines,
        outcomes, phases, run,
    )  # fmt: skip


def read_outcomes(factory: Any, statement_id: int | None) -> dict[int, Outcome]:
    with factory() as session:
        lines = session.execute(
            select(BankLine.id, BankLine.row, BankLine.status, BankLine.customer_id,
                   BankLine.payment_id, BankLine.reasons)
            .where(BankLine.statement_id == statement_id, BankLine.amount > 0)
        ).all()  # fmt: skip
        applied: dict[int, set[tuple[int, int]]] = defaultdict(set)
        for payment_id, invoice_id, amount in session.execute(
            select(Allocation.payment_id, Allocation.invoice_id, Allocation.amount).where(
                Allocation.company_id == COMPANY, Allocation.payment_id.is_not(None)
            )
        ):
            applied[payment_id].add((invoice_id, amount))
        tops = {
            line_id: (customer_id, frozenset(tuple(a) for a in json.loads(allocations)))
            for line_id, customer_id, allocations in session.execute(
                select(
                    MatchSuggestion.bank_line_id,
                    MatchSuggestion.customer_id,
                    MatchSuggestion.allocations,
                ).where(MatchSuggestion.company_id == COMPANY, MatchSuggestion.rank == 1)
            )
        }
    outcomes = {}
    for line_id, row, status, customer_id, payment_id, reasons in lines:
        top = tops.get(line_id, (None, frozenset()))
        codes = tuple(code for code, _, _ in json.loads(reasons or "[]"))
        outcomes[row] = Outcome(
            status, customer_id, frozenset(applied.get(payment_id, ())), top[0], top[1], codes
        )
    return outcomes


# --- PostgreSQL ---------------------------------------------------------------------------------

PG_TABLES = ("company", "audit_head", "customer", "invoice", "payer_alias", "ledger_day")


def copy_to_postgres(sqlite_path: Path, database: str) -> str:
    """A fresh database with the schema, filled from the SQLite file by COPY."""
    admin = normalise_url(PG_ADMIN).replace("postgresql+psycopg://", "postgresql://")
    url = admin.rsplit("/", 1)[0] + f"/{database}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    upgrade_to_head(url)
    with psycopg.connect(url) as conn:
        for table in PG_TABLES:
            columns, rows = sqlite_rows(sqlite_path, table)
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if "id" in columns:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


# --- Scoring ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Score:
    lines: int = 0
    auto: int = 0
    auto_right: int = 0
    waiting: int = 0
    suggested: int = 0
    top_right: int = 0  # waiting lines whose top suggestion is the truth
    top_customer: int = 0  # waiting lines whose top suggestion names the right customer

    def add(self, truth: Truth, outcome: Outcome) -> None:
        self.lines += 1
        if outcome.status == "applied":
            self.auto += 1
            self.auto_right += (
                truth.customer_id is not None
                and outcome.customer_id == truth.customer_id
                and outcome.allocations == truth.allocations
            )
            return
        self.waiting += 1
        self.suggested += outcome.status == "suggested"
        if truth.customer_id is not None and outcome.top_customer == truth.customer_id:
            self.top_customer += 1
            self.top_right += outcome.top_allocations == truth.allocations


def score(truths: dict[int, Truth], outcomes: dict[int, Outcome]) -> dict[str, dict[str, Score]]:
    by: dict[str, dict[str, Score]] = {"all": defaultdict(Score), "category": defaultdict(Score),
                                       "form": defaultdict(Score)}  # fmt: skip
    assert set(truths) == set(outcomes), "every money-in line has an outcome"
    for row, truth in truths.items():
        outcome = outcomes[row]
        by["all"]["known" if truth.customer_id else "unknown"].add(truth, outcome)
        by["all"]["all"].add(truth, outcome)
        by["category"][truth.category].add(truth, outcome)
        if truth.form:
            by["form"][truth.form].add(truth, outcome)
    return by


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def summary(scores: dict[str, dict[str, Score]]) -> tuple[float, float, int, int]:
    everything, known = scores["all"]["all"], scores["all"]["known"]
    precision = everything.auto_right / everything.auto if everything.auto else 1.0
    share = known.auto / known.lines if known.lines else 0.0
    return precision, share, everything.auto - everything.auto_right, everything.auto


def say_scores(engine_name: str, scores: dict[str, dict[str, Score]]) -> None:
    precision, share, wrong, auto = summary(scores)
    say(
        f"{engine_name}: precision {precision:.4f} ({wrong} wrong of {auto}), auto share {share:.4f}"
    )
    for group in ("category", "form"):
        for name, s in sorted(scores[group].items()):
            say(
                f"  {name:18} {s.lines:6} auto {pct(s.auto, s.lines):>6} right "
                f"{s.auto_right}/{s.auto}  waiting {s.waiting} top right {pct(s.top_right, s.waiting)}"
            )


# --- The report ---------------------------------------------------------------------------------


def table(title: str, rows: dict[str, Score], kinds: dict[str, tuple[int, str]]) -> list[str]:
    lines = [
        f"| {title} | what the line says | mix | lines | applied automatically | of them right | waiting | top suggestion right | right customer on top |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (share, meaning) in kinds.items():
        s = rows.get(name, Score())
        top = (
            "— | —"  # nobody to find: waiting is the right outcome
            if name == "unknown_payer"
            else f"{pct(s.top_right, s.waiting)} | {pct(s.top_customer, s.waiting)}"
        )
        lines.append(
            f"| {name} | {meaning} | {share}% | {s.lines:,} | {s.auto:,} ({pct(s.auto, s.lines)}) | "
            f"{s.auto_right:,} ({pct(s.auto_right, s.auto)}) | {s.waiting:,} | {top} |"
        )
    return lines


def wrong_autos(truths: dict[int, Truth], outcomes: dict[int, Outcome]) -> list[str]:
    found = []
    for row, truth in sorted(truths.items()):
        outcome = outcomes[row]
        if outcome.status != "applied":
            continue
        if truth.customer_id == outcome.customer_id and truth.allocations == outcome.allocations:
            continue
        who = "an unknown payer" if truth.customer_id is None else f"customer {truth.customer_id}"
        found.append(
            f"row {row} ({truth.category}, {truth.form or 'no form'}): money of {who} applied to "
            f"customer {outcome.customer_id}, {len(outcome.allocations)} invoice(s), on "
            f"{' + '.join(outcome.reasons)}"
        )
    return found


def report(
    args: argparse.Namespace, world: World, truths: dict[int, Truth], runs: list[Run],
    scores: list[dict[str, dict[str, Score]]], elapsed: float, load: float,
) -> str:  # fmt: skip
    command = (
        f".venv/bin/python bench/matching.py --invoices {args.invoices} --lines {args.lines}"
        + (f" --runs {args.runs}" if args.runs != 3 else "")
        + (" --skip-postgres" if args.skip_postgres else "")
    )
    known = sum(1 for t in truths.values() if t.customer_id)
    branches = sum(1 for c in world.customers if c.branch_of)
    learned_accounts = sum(1 for c in world.customers if c.learned_account)
    learned_bosses = sum(1 for c in world.customers if c.learned_boss)
    scale = "100k" if args.invoices == 100_000 else f"{args.invoices:,}"
    out = [
        f"## Cash application (收款核销) at {scale} open invoices",
        "",
        f"Command: `{command}`  ",
        f"Run {dt.date.today().isoformat()} on {machine()}; the whole benchmark took "
        f"{elapsed / 60:.0f} min (load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at "
        f"the end). The company: {len(world.invoices):,} open invoices of {len(world.customers):,} "
        f"customers ({branches:,} of them branches of another customer; payer accounts learned "
        f"for {learned_accounts:,}, the boss's name and card for {learned_bosses:,}). The file: "
        f"an ICBC-style GBK CSV export of {runs[0].lines_in_file:,} lines, {len(truths):,} of them "
        f"money in ({known:,} from a known payer), each labelled with its truth (customer, "
        "invoices and amounts, or unknown payer); see `bench/matching.py` for how each category "
        "and payer form is written. A line pays the customer's oldest unpaid invoice(s) (60%) or "
        "others among its three (one invoice) or six (several) oldest; the same-amount traps "
        "pay any invoice. Import = `import_bank_statement` (reading the file, keys, "
        "inserts, audit) in one unit of work; matching = `match_waiting` on every new line in "
        "one unit of work: reading the book, deciding, recording each automatic payment with its "
        "allocations and audit records, storing the suggestions. Timings: the fastest of "
        f"{args.runs} runs per engine, each on a fresh copy of the company; CPU = this Python "
        "process's (all of SQLite's work, none of PostgreSQL's server).",
        "",
        "| engine | import s | matching s | total s | its Python CPU s | every run, total s | lines applied | precision | auto share (known payers) | right / known payers | waiting, known payer: top suggestion right |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run, s in zip(runs, scores, strict=True):
        precision, share, wrong, auto = summary(s)
        k = s["all"]["known"]
        out.append(
            f"| {run.engine} | {run.import_seconds:.1f} | {run.match_seconds:.1f} | "
            f"{run.import_seconds + run.match_seconds:.1f} | {run.import_cpu + run.match_cpu:.1f} | "
            f"{', '.join(f'{t:.1f}' for t in run.totals)} | {auto:,} | {100 * precision:.2f}% ({wrong} wrong) | {100 * share:.1f}% | "
            f"{pct(k.auto_right, k.lines)} | {pct(k.top_right, k.waiting)} of {k.waiting:,} |"
        )
    first = runs[0]
    precision, share, _, _ = summary(scores[0])
    total = first.import_seconds + first.match_seconds
    goals = [
        ("precision of automatic lines ≥ 99.5%", precision >= 0.995, f"{100 * precision:.2f}%"),
        ("automatic share of known-payer lines ≥ 85%", share >= 0.85, f"{100 * share:.1f}%"),
        ("whole file under 30 s on SQLite", total < 30, f"{total:.1f} s"),
    ]
    out += ["", "| goal | met | measured (SQLite) |", "| --- | --- | ---: |"]
    out += [f"| {g} | {'yes' if ok else 'NO'} | {m} |" for g, ok, m in goals]
    stranger = scores[0]["all"]["unknown"]
    out += [
        "",
        f"Unknown payers ({stranger.lines:,} lines): {stranger.auto:,} applied automatically (all "
        f"wrong by definition), {stranger.suggested:,} suggested to a clerk, "
        f"{stranger.waiting - stranger.suggested:,} left unknown.",
    ]
    wrong_lines = wrong_autos(truths, first.outcomes)
    if wrong_lines:
        out += ["", "Every wrong automatic application (SQLite):", ""]
        out += [f"- {text}" for text in wrong_lines]
    out += [
        "",
        "Where matching's time goes (SQLite; wrapped functions, seconds and CPU seconds):",
        "",
    ]
    out += ["| phase | calls | seconds | CPU seconds |", "| --- | ---: | ---: | ---: |"]
    for name, (calls, seconds, cpu) in sorted(first.phases.items(), key=lambda p: -p[1][1]):
        out.append(f"| {name} | {calls:,} | {seconds:.1f} | {cpu:.1f} |")
    out += ["", "By category (SQLite; the mix is of all money-in lines):", ""]
    out += table("category", scores[0]["category"], CATEGORIES)
    out += ["", "By payer form (SQLite; known payers only, the mix is of those):", ""]
    out += table("payer form", scores[0]["form"], PAYER_FORMS)
    return "\n".join(out)


def sqlite_run(data_path: Path, data: bytes, args: argparse.Namespace) -> Run:
    """Import and match on a fresh copy of the company."""
    work = RESULTS / "matching-work.db"
    for leftover in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
        leftover.unlink(missing_ok=True)
    work.write_bytes(data_path.read_bytes())
    try:
        return run_engine("SQLite", f"sqlite:///{work}", data, args.profile)
    finally:
        for leftover in (work, Path(f"{work}-wal"), Path(f"{work}-shm")):
            leftover.unlink(missing_ok=True)


def postgres_run(data_path: Path, data: bytes, args: argparse.Namespace) -> Run:
    """Import and match in a fresh database filled from the SQLite company, dropped after."""
    database = "huikuan_bench_matching"
    say("copying to PostgreSQL ...")
    url = copy_to_postgres(data_path, database)
    try:
        return run_engine("PostgreSQL", url, data, args.profile)
    finally:
        drop_postgres(database)


def best(runs: Iterable[Run]) -> Run:
    """The fastest run (import + matching), with every run's total; the decisions of every run
    must be the same (matching is deterministic)."""
    done = list(runs)
    fastest = min(done, key=lambda run: run.import_seconds + run.match_seconds)
    if any(run.outcomes != fastest.outcomes for run in done):
        sys.exit("two runs of the same file decided differently")
    fastest.totals = [run.import_seconds + run.match_seconds for run in done]
    return fastest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=None, help="default: 30% of invoices")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per engine; best kept")
    parser.add_argument("--profile", action="store_true", help="cProfile the matching")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    args.customers = args.customers or args.invoices * 3 // 10
    started, load = time.perf_counter(), os.getloadavg()[0]
    world = make_world(args.invoices, args.customers)
    data_path = cache_path(args)
    build_data(world, data_path)
    lines = LineMaker(world).lines(args.lines)
    data = bank_csv(lines)
    truths = truth_by_row(data, lines)
    say(
        f"bank file: {len(lines):,} lines, {len(data) / 1e6:.1f} MB, {Counter(t.category for t in truths.values())}"
    )
    instrument()

    runs = [best(sqlite_run(data_path, data, args) for _ in range(args.runs))]
    if not args.skip_postgres:
        runs.append(best(postgres_run(data_path, data, args) for _ in range(args.runs)))
    scores = [score(truths, run.outcomes) for run in runs]
    for run, s in zip(runs, scores, strict=True):
        say_scores(run.engine, s)
    body = report(args, world, truths, runs, scores, time.perf_counter() - started, load)
    print(body)
    if not args.no_write:
        write_section(f"matching-{args.invoices}-{args.lines}", body)


if __name__ == "__main__":
    main()
