"""PDF documents benchmark: how long one letter or statement takes to render, in one process.

    .venv/bin/python bench/documents.py

The daily collections run renders one PDF per letter action, hundreds to thousands a day, in one
process; so what matters is the time per document once the process has rendered one. For each
document kind: the first render of that kind in the process, then the median of 20 more, and the
size of the PDF. The very first document of the process is timed on its own (the fonts are read
then). "Letters to 20 customers" renders the 催款函 for 20 different customers and addressees,
some with characters outside GB2312 (堃, 赟, 喆, 𠀋), so the glyphs are not all the same ones;
the long letter has 120 invoices over five pages. Results go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, say, write_section
from huikuan.channels.context import MessageContext
from huikuan.channels.letters import render_letter_pdf
from huikuan.channels.statement import render_statement_pdf
from huikuan.channels.templates import default_template, sample_context

LETTERS = ("dunning_letter", "final_notice", "lawyer_letter", "stop_supply_notice")
# (customer, addressee): realistic names, a few with characters outside GB2312.
CUSTOMERS = (
    ("宁波甬江五金制品有限公司", "陈志强"),
    ("苏州吴中纺织印染厂", "周堃"),
    ("成都锦城餐饮管理有限公司", "刘赟"),
    ("青岛海湾冷链物流有限公司", "孙喆"),
    ("广州穗丰电子科技有限公司", "黄晓燕"),
    ("武汉楚天建筑装饰工程有限公司", "吴昇"),
    ("西安秦川机械设备有限公司", "赵玥"),
    ("厦门鹭岛进出口贸易有限公司", "郑珺"),
    ("沈阳盛京医药连锁有限公司", "冯祎"),
    ("昆明滇池花卉园艺有限公司", "杨镕"),
    ("合肥庐州新能源材料有限公司", "许浛"),
    ("南昌洪都汽车配件厂", "何𠀋"),
    ("郑州中原粮油食品有限公司", "马建军"),
    ("长沙湘江包装印刷有限公司", "罗丽华"),
    ("济南泉城钢结构工程有限公司", "高鹏飞"),
    ("福州闽江茶业有限公司", "林秀英"),
    ("南宁绿城农资连锁有限公司", "韦国栋"),
    ("贵阳筑城酒业销售有限公司", "石磊"),
    ("兰州陇原化工有限公司", "魏东升"),
    ("乌鲁木齐天山棉纺有限公司", "艾力"),
)


@dataclasses.dataclass
class Row:
    document: str
    first_ms: float
    median_ms: float
    size_kb: float


def timed(work: Callable[[], bytes]) -> tuple[float, bytes]:
    started = time.perf_counter()
    data = work()
    return (time.perf_counter() - started) * 1000, data


def measure(name: str, work: Callable[[], bytes], runs: int) -> Row:
    first, data = timed(work)
    times = [timed(work)[0] for _ in range(runs)]
    row = Row(name, first, statistics.median(times), len(data) / 1024)
    say(f"{name}: first {row.first_ms:.0f} ms, median {row.median_ms:.0f} ms, {row.size_kb:.0f} KB")
    return row


def long_context(count: int) -> MessageContext:
    """The sample customer with ``count`` open invoices: a letter of five pages."""
    base = sample_context("zh")
    items = tuple(
        dataclasses.replace(
            base.items[i % len(base.items)],
            invoice_number=f"FP-2026-{i:05d}",
            order_number=f"SO-2026-{i:04d}",
            amount=1_000_000 + i * 12_345 + 7,
            open_amount=900_000 + i * 11_111 + 3,
        )
        for i in range(1, count + 1)
    )
    return dataclasses.replace(
        base,
        items=items,
        total_open=sum(item.open_amount for item in items),
        total_overdue=sum(item.open_amount for item in items if item.days_overdue > 0),
        total_late_fee=sum(item.late_fee for item in items),
    )


def customer_contexts() -> list[MessageContext]:
    base = sample_context("zh")
    return [
        dataclasses.replace(base, customer_name=name, addressee=person, customer_code=f"C{i:03d}")
        for i, (name, person) in enumerate(CUSTOMERS, start=2)
    ]


def measure_customers() -> Row:
    """The same letter to 20 customers: every render meets some characters for the first time."""
    template = default_template("dunning_letter", "zh")
    results = [timed(lambda c=c: render_letter_pdf(template, c)) for c in customer_contexts()]
    times = [ms for ms, _ in results]
    size = max(len(data) for _, data in results) / 1024
    row = Row("催款函 to 20 customers (zh)", times[0], statistics.median(times), size)
    say(f"{row.document}: first {row.first_ms:.0f} ms, median {row.median_ms:.0f} ms")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    zh, en = sample_context("zh"), sample_context("en")
    dunning = default_template("dunning_letter", "zh")
    cold, _ = timed(lambda: render_letter_pdf(dunning, zh))
    say(f"first document of the process: {cold:.0f} ms")
    rows = [
        measure(
            f"{code} (zh)",
            lambda t=default_template(code, "zh"): render_letter_pdf(t, zh),
            args.runs,
        )
        for code in LETTERS
    ]
    english = default_template("dunning_letter", "en")
    rows.append(measure("dunning_letter (en)", lambda: render_letter_pdf(english, en), args.runs))
    rows.append(measure("statement (zh)", lambda: render_statement_pdf(zh), args.runs))
    long = long_context(120)
    rows.append(
        measure("dunning_letter, 120 invoices (zh)", lambda: render_letter_pdf(dunning, long), 5)
    )
    rows.append(measure_customers())
    body = report(rows, cold, args.runs)
    print(body)
    if not args.no_write:
        write_section("documents", body)


def report(rows: list[Row], cold: float, runs: int) -> str:
    lines = [
        "## PDF documents, one process",
        "",
        "Command: `.venv/bin/python bench/documents.py`  ",
        f"Run {dt.date.today().isoformat()} on {machine()}; the sample customer (3 invoices, "
        f"one page; the long letter has 120 invoices, five pages). First document of the "
        f"process: {cold:.0f} ms. First = the first render of that kind after it; median of "
        f"{runs} more (5 for the long letter).",
        "",
        "| document | first (ms) | median (ms) | size (KB) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.document} | {row.first_ms:.0f} | {row.median_ms:.0f} | {row.size_kb:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
