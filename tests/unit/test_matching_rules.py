"""Cash application rules: references in the remittance text, payer names, amounts, and how
the evidence decides whether a bank line is applied automatically."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huikuan.reconciliation.matching_rules import (
    Candidate,
    CustomerName,
    Decision,
    IncomingLine,
    MatchSettings,
    NameIndex,
    OpenItem,
    ReferenceIndex,
    candidates,
    decide,
    name_score,
    normalise_name,
    similarity,
    subset_sum,
)

D = dt.date
SHUNDA = CustomerName(7, "杭州顺达建材有限公司", ("张建国",), ("6222 0212 3456 7890",))
HUAMEI = CustomerName(8, "宁波华美贸易有限公司")


def item(
    invoice_id: int,
    amount: int,
    *,
    customer_id: int = 7,
    number: str | None = None,
    order: str = "",
    due: dt.date = D(2024, 3, 1),
) -> OpenItem:
    return OpenItem(
        invoice_id,
        number or f"INV-2024-{invoice_id:05d}",
        order,
        customer_id,
        amount,
        due,
        due - dt.timedelta(days=30),
    )


def line(amount: int, payer: str = "", remittance: str = "", account: str = "") -> IncomingLine:
    return IncomingLine(amount, payer, account, remittance, D(2024, 5, 6))


def match(
    incoming: IncomingLine,
    items: Sequence[OpenItem],
    customers: Sequence[CustomerName] = (SHUNDA, HUAMEI),
    rules: MatchSettings | None = None,
) -> tuple[Candidate, ...]:
    by_customer: dict[int, list[OpenItem]] = {}
    for open_item in items:
        by_customer.setdefault(open_item.customer_id, []).append(open_item)
    return candidates(
        incoming, ReferenceIndex(items), NameIndex(customers), by_customer, rules or MatchSettings()
    )


def decided(
    incoming: IncomingLine,
    items: Sequence[OpenItem],
    customers: Sequence[CustomerName] = (SHUNDA, HUAMEI),
) -> Decision:
    return decide(incoming, match(incoming, items, customers))


def codes(candidate: Candidate) -> list[str]:
    return [reason.code for reason in candidate.reasons]


def full_width(text: str) -> str:
    """What Chinese input methods type: ＩＮＶ－２０２４ and the ideographic space."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


def found_ids(index: ReferenceIndex, text: str) -> list[int]:
    return [ref.item.invoice_id for ref in index.find_references(text)]


# --- references -----------------------------------------------------------------------

BOOKS = [
    item(1, 10000, number="INV-2024-00123"),
    item(2, 20000, number="INV-1"),
    item(3, 30000, number="INV-12"),
    item(4, 40000, number="FP20240315001"),
    item(5, 50000, number="销2024-0012", order="SO-2024-0456", due=D(2024, 2, 1)),
    item(6, 60000, number="INV-2024-00777", order="SO-2024-0456"),
]


@pytest.mark.parametrize(
    "text",
    [
        "付INV-2024-00123货款",
        "ＩＮＶ－２０２４－００１２３",
        "inv 2024 00123",
        "inv2024-00123",
        "INV_2024/00123",
        "发票号：Inv 2024-00123，谢谢",
        "2024-00123",  # the prefix left out, and the number is unique
    ],
)
def test_an_invoice_number_is_found_however_it_is_written(text: str) -> None:
    assert found_ids(ReferenceIndex(BOOKS), text) == [1]


def test_several_numbers_in_one_text_are_found_in_the_order_written() -> None:
    index = ReferenceIndex(BOOKS)
    assert found_ids(index, "付INV-12,INV-1货款") == [3, 2]
    assert found_ids(index, "FP20240315001 销2024-0012") == [4, 5]


def test_a_number_inside_a_longer_digit_run_is_not_found() -> None:
    index = ReferenceIndex([item(2, 20000, number="INV-1"), item(1, 10000, number="00123456")])
    assert found_ids(index, "INV-12") == []
    assert found_ids(index, "INV-123 付款") == []
    assert found_ids(index, "001234567") == []
    assert found_ids(index, "INV-1 付款") == [2]


def test_a_number_without_its_prefix_counts_only_when_one_open_number_fits() -> None:
    twins = [item(1, 100, number="INV-2024-00123"), item(2, 200, number="FP-2024-00123")]
    assert found_ids(ReferenceIndex(twins), "2024-00123") == []
    assert found_ids(ReferenceIndex(twins), "FP 2024 00123") == [2]


def test_a_number_without_its_prefix_finds_the_invoice_its_own_order_is_numbered_like() -> None:
    # The demo's numbering: INV-2026-0012345 for order SO-2026-0012345, the same digits.
    own = item(1, 100, number="INV-2026-0012345", order="SO-2026-0012345")
    assert found_ids(ReferenceIndex([own]), "付2026-0012345货款") == [1]
    assert found_ids(ReferenceIndex([own]), "支付20260012345号发票") == [1]
    refs = ReferenceIndex([own]).find_references("2026 0012345")
    assert [(r.kind, r.number) for r in refs] == [("invoice", "INV-2026-0012345")]
    # When the order has another invoice too, the digits may mean either: not found.
    sibling = item(2, 200, number="INV-2026-0012346", order="SO-2026-0012345")
    assert found_ids(ReferenceIndex([own, sibling]), "2026-0012345") == []


def test_another_letter_prefix_is_another_series_not_our_invoice() -> None:
    assert found_ids(ReferenceIndex(BOOKS), "PO-2024-00123") == []


def test_short_digit_runs_are_amounts_and_dates_not_references() -> None:
    books = [item(1, 100, number="12345"), item(2, 200, number="INV-7-01")]
    assert found_ids(ReferenceIndex(books), "付款12345元 7-01") == []
    assert found_ids(ReferenceIndex([item(3, 300, number="24000123")]), "票24000123") == [3]


def test_dropped_leading_zeros_do_not_find_the_invoice() -> None:
    # INV-2024-123 may be a real number of its own; name and amount still find the invoice.
    assert found_ids(ReferenceIndex(BOOKS), "INV-2024-123") == []


def test_an_order_number_finds_every_open_invoice_of_the_order() -> None:
    refs = ReferenceIndex(BOOKS).find_references("订单 so2024-0456")
    assert [(r.item.invoice_id, r.kind, r.number) for r in refs] == [
        (5, "order", "SO-2024-0456"),
        (6, "order", "SO-2024-0456"),
    ]


def test_the_reference_index_over_100k_items_finds_each_number_it_is_asked_for() -> None:
    items = [
        item(i, 1000 + i, customer_id=i // 3, number=f"INV-2024-{i:06d}", order=f"SO{i // 2:07d}")
        for i in range(100_000)
    ]
    index = ReferenceIndex(items)
    # Speed at this scale is measured in bench/matching.py, not asserted here.
    for i in range(0, 100_000, 997):
        found = index.find_references(f"付INV-2024-{i:06d}及SO{i // 2:07d}货款")
        # The invoice by its number; both invoices of the order by the order number.
        assert {r.item.invoice_id for r in found if r.kind == "invoice"} == {i}
        assert {r.item.invoice_id for r in found} == {2 * (i // 2), 2 * (i // 2) + 1}


# --- names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "杭州顺达建材有限公司",
        "杭州顺达建材有限责任公司",
        "杭州 顺达 建材 股份有限公司",
        "杭州顺达建材集团有限公司",
        "杭州顺达建材有限公司（萧山分公司）",
        "杭州顺达建材有限公司萧山分公司",
        "杭州顺达建材有限公",  # the bank cut the name short
        "杭州顺达建材",
    ],
)
def test_legal_form_branch_and_spacing_do_not_change_a_name(written: str) -> None:
    assert normalise_name(written) == "杭州顺达建材"


def test_width_case_and_brackets_do_not_change_a_name() -> None:
    assert normalise_name("ＡＢＣ科技（上海）有限公司") == normalise_name("abc科技(上海)有限公司")
    assert normalise_name("ＡＢＣ科技（上海）有限公司") == "abc科技上海"


def test_the_same_name_scores_one_and_says_so_in_both_languages() -> None:
    score, reasons = name_score("杭州顺达建材有限公司", "", SHUNDA)
    assert score == 1.0
    assert [r.code for r in reasons] == ["name_exact"]
    assert "杭州顺达建材有限公司" in reasons[0].zh and "matches" in reasons[0].en


def test_a_learned_alias_and_a_known_account_are_strong_evidence() -> None:
    assert name_score("张建国", "", SHUNDA)[0] == 0.98
    score, reasons = name_score("", "6222021234567890", SHUNDA)
    assert score == 0.98 and [r.code for r in reasons] == ["account_known"]
    assert name_score("张建国", "6222-0212-3456-7890", SHUNDA)[0] == 1.0


def test_a_similar_name_is_weaker_evidence_than_the_same_name() -> None:
    score, reasons = name_score("顺达建材有限公司", "", SHUNDA)
    assert 0.6 < score < 0.8 and [r.code for r in reasons] == ["name_fuzzy"]
    assert name_score("宁波永盛化工有限公司", "", SHUNDA) == (0.0, ())


def test_a_short_payer_name_matches_only_exactly() -> None:
    # partial scorers would call 建材 a perfect match for every building-materials company
    assert name_score("建材", "", SHUNDA) == (0.0, ())
    assert name_score("张建", "", SHUNDA) == (0.0, ())


def test_the_name_index_finds_exact_alias_account_and_then_similar_names() -> None:
    index = NameIndex([SHUNDA, HUAMEI, CustomerName(9, "杭州顺发建材有限公司")])
    assert index.find("杭州顺达建材（萧山分公司）", "") == (7,)
    assert index.find("张建国", "") == (7,)
    assert index.find("某某", "6222021234567890") == (7,)
    assert index.find("杭州顺达建材商行", "") == (7,)
    assert index.find("杭州顺建材", "") == (7, 9)
    assert index.find("上海远航物流有限公司", "") == ()


NAME_CHARS = "杭州顺达发建材华美贸易宁波永盛科技"


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.text(NAME_CHARS, min_size=4, max_size=9), min_size=1, max_size=40),
    payer=st.text(NAME_CHARS, min_size=4, max_size=9),
)
def test_the_name_index_finds_what_comparing_with_every_name_finds(
    names: list[str], payer: str
) -> None:
    customers = [CustomerName(i, name) for i, name in enumerate(names)]
    index = NameIndex(customers)
    if any(normalise_name(name) == normalise_name(payer) for name in names):
        return  # an exact hit answers before any similar name is searched
    expected = {
        c.customer_id
        for c in customers
        if len(normalise_name(c.name)) >= 4
        and similarity(normalise_name(payer), normalise_name(c.name)) >= 0.8
    }
    assert set(index.find(payer, "", limit=1000)) == expected


# --- amounts --------------------------------------------------------------------------


def test_subset_sum_prefers_fewer_invoices_then_the_oldest() -> None:
    a, b = item(1, 30000, due=D(2024, 1, 1)), item(2, 50000, due=D(2024, 2, 1))
    c, d = item(3, 80000, due=D(2024, 3, 1)), item(4, 80000, due=D(2024, 4, 1))
    found = subset_sum(80000, [d, c, b, a], max_items=12, max_size=5)
    assert found == ((c,), (d,), (a, b))


def test_subset_sum_searches_only_the_oldest_items_and_combines_at_most_max_size() -> None:
    items = [item(i, 1000, due=D(2024, 1, i)) for i in range(1, 8)]
    assert subset_sum(7000, items, max_items=12, max_size=5) == ()
    assert subset_sum(3000, items, max_items=3, max_size=5) == (tuple(items[:3]),)
    assert subset_sum(1000, items, max_items=12, max_size=5, limit=2) == ((items[0],), (items[1],))


AMOUNTS = st.sampled_from([100, 250, 300, 500, 800, 1000, 1234])


@settings(max_examples=150, deadline=None)
@given(amounts=st.lists(AMOUNTS, min_size=0, max_size=8), target=st.integers(1, 4000))
def test_subset_sum_finds_exactly_the_combinations_that_add_up(
    amounts: list[int], target: int
) -> None:
    items = [item(i, a, due=D(2024, 1, 1) + dt.timedelta(days=i)) for i, a in enumerate(amounts)]
    found = subset_sum(target, items, max_items=12, max_size=3, limit=10_000)
    brute = {
        combo
        for size in range(1, 4)
        for combo in itertools.combinations(items, size)
        if sum(i.open_amount for i in combo) == target
    }
    assert set(found) == brute
    assert all(sum(i.open_amount for i in combo) == target for combo in found)
    assert (
        subset_sum(target, list(reversed(items)), max_items=12, max_size=3, limit=10_000) == found
    )


# --- candidates and decisions ------------------------------------------------------------


def test_a_reference_with_its_exact_amount_is_applied_automatically() -> None:
    decision = decided(
        line(10000, "李四", "付INV-2024-00001货款"), [item(1, 10000), item(2, 10000)]
    )
    assert decision.kind == "auto"
    assert decision.chosen is not None
    assert decision.chosen.allocations == ((1, 10000),)
    assert codes(decision.chosen) == ["reference", "amount_exact"]
    assert decision.chosen.reasons[0].zh == "附言中的发票号 INV-2024-00001"
    assert decision.chosen.reasons[0].en == "invoice number INV-2024-00001 in the remittance text"


def test_a_partial_payment_on_referenced_invoices_fills_the_oldest_first() -> None:
    items = [item(2, 50000, due=D(2024, 4, 1)), item(1, 30000, due=D(2024, 3, 1))]
    text = "INV-2024-00002 INV-2024-00001"
    stranger = decided(line(60000, "李四", text), items)
    assert stranger.kind == "suggest"  # a reference alone does not explain a partial payment
    assert stranger.chosen is not None
    assert stranger.chosen.allocations == ((1, 30000), (2, 30000))
    assert "partial" in codes(stranger.chosen)
    assert decided(line(60000, "杭州顺达建材有限公司", text), items).kind == "auto"


def test_an_overpayment_pays_the_referenced_invoices_and_keeps_the_rest_unapplied() -> None:
    decision = decided(line(45000, "张建国", "INV-2024-00001"), [item(1, 30000)])
    assert decision.kind == "auto"
    assert decision.chosen is not None
    assert decision.chosen.allocations == ((1, 30000),) and decision.chosen.unapplied == 15000
    assert codes(decision.chosen) == ["reference", "name_alias", "overpaid"]


def test_name_and_the_exact_amount_of_one_invoice_are_applied_automatically() -> None:
    decision = decided(line(50000, "杭州顺达建材有限公司"), [item(1, 30000), item(2, 50000)])
    assert decision.kind == "auto"
    assert decision.chosen is not None and decision.chosen.allocations == ((2, 50000),)


def test_name_and_the_sum_of_several_invoices_are_applied_automatically() -> None:
    items = [item(1, 30000), item(2, 50000), item(3, 70000)]
    decision = decided(line(100000, "杭州顺达建材有限公司"), items)
    assert decision.kind == "auto"
    assert decision.chosen is not None
    assert decision.chosen.allocations == ((1, 30000), (3, 70000))
    assert codes(decision.chosen) == ["name_exact", "amount_sum"]


def test_one_invoice_is_found_among_all_open_items_and_sums_among_the_oldest_only() -> None:
    # A retail chain with twenty open invoices pays this month's, not one of the oldest twelve.
    items = [item(i, 10000 + i, due=D(2024, 1, i)) for i in range(1, 21)]
    decision = decided(line(10020, "杭州顺达建材有限公司"), items)
    assert decision.kind == "auto"
    assert decision.chosen is not None and decision.chosen.allocations == ((20, 10020),)
    # Invoices summing to the amount are looked for among the oldest twelve only.
    summed = decided(line(10019 + 10020, "杭州顺达建材有限公司"), items).chosen
    assert summed is not None and summed.allocations == ()  # the money waits on the customer
    # An old invoice of the same amount makes the line ambiguous: a person chooses.
    twin = [*items, item(21, 10020, due=D(2023, 12, 1))]
    assert decided(line(10020, "杭州顺达建材有限公司"), twin).kind == "suggest"


def test_a_bank_fee_deducted_leaves_the_fee_open_on_the_invoice_and_asks_a_person() -> None:
    decision = decided(line(48500, "杭州顺达建材有限公司"), [item(1, 50000)])
    assert decision.kind == "suggest"
    assert decision.chosen is not None
    assert decision.chosen.allocations == ((1, 48500),) and decision.chosen.unapplied == 0
    assert "¥15.00" in decision.chosen.reasons[-1].zh


def test_a_known_payer_with_an_unknown_amount_keeps_the_money_unapplied_on_the_customer() -> None:
    decision = decided(line(12345, "杭州顺达建材有限公司"), [item(1, 50000)])
    assert decision.kind == "suggest"
    assert decision.chosen is not None
    assert decision.chosen.customer_id == 7
    assert decision.chosen.allocations == () and decision.chosen.unapplied == 12345


def test_an_amount_alone_is_never_applied_automatically() -> None:
    incoming = line(50000, "王五")
    found = match(incoming, [item(1, 50000)])
    assert [codes(c) for c in found] == [["amount_exact"]]
    assert decide(incoming, found).kind == "unknown"
    lenient = MatchSettings(auto_threshold=0.2, suggest_threshold=0.1)
    assert decide(incoming, found, lenient).kind == "suggest"


def test_a_similar_but_different_company_is_never_applied_automatically() -> None:
    decision = decided(line(50000, "杭州顺发建材有限公司"), [item(1, 50000)])
    assert decision.kind == "suggest"
    assert decision.chosen is not None and codes(decision.chosen) == ["name_fuzzy", "amount_exact"]


def test_two_customers_of_the_same_name_with_the_same_amount_open_ask_a_person() -> None:
    twin = CustomerName(9, "杭州顺达建材有限公司")
    items = [item(1, 50000), item(2, 50000, customer_id=9)]
    decision = decided(line(50000, "杭州顺达建材有限公司"), items, customers=[SHUNDA, twin])
    assert decision.kind == "suggest"
    assert {c.customer_id for c in decision.top} == {7, 9}
    assert all("ambiguous" in codes(c) for c in decision.top)
    assert all(c.confidence < 0.9 for c in decision.top)


def test_two_invoices_of_the_same_amount_ask_a_person_and_propose_the_older() -> None:
    items = [item(2, 50000, due=D(2024, 4, 1)), item(1, 50000, due=D(2024, 3, 1))]
    decision = decided(line(50000, "杭州顺达建材有限公司"), items)
    assert decision.kind == "suggest"
    assert decision.chosen is not None and decision.chosen.allocations == ((1, 50000),)


def test_a_line_nobody_can_explain_is_unknown() -> None:
    decision = decided(line(99, "王五", "货款"), [item(1, 50000)])
    assert decision == Decision("unknown", None, ())


def test_money_going_out_is_not_matched() -> None:
    assert match(line(-50000, "杭州顺达建材有限公司", "INV-2024-00001"), [item(1, 50000)]) == ()


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError):
        MatchSettings(auto_threshold=0.5, suggest_threshold=0.6)
    with pytest.raises(ValueError):
        MatchSettings(fee_amounts=(0,))


# --- properties ------------------------------------------------------------------------

NAMES = ["杭州顺达建材有限公司", "杭州顺发建材有限公司", "宁波华美贸易有限公司", "张建国"]


@st.composite
def worlds(draw: st.DrawFn) -> tuple[IncomingLine, list[OpenItem], list[CustomerName]]:
    """A few customers (names may repeat), their open items with coinciding amounts, and a
    bank line whose amount, payer and text borrow from them."""
    customers = [
        CustomerName(
            cid, draw(st.sampled_from(NAMES[:3])), draw(st.sampled_from([(), ("张建国",)]))
        )
        for cid in range(1, draw(st.integers(1, 3)) + 1)
    ]
    items = [
        item(
            invoice_id,
            draw(st.sampled_from([10000, 20000, 25000, 30000, 48500, 50000])),
            customer_id=draw(st.sampled_from([c.customer_id for c in customers])),
            order=draw(st.sampled_from(["", "SO-1", "SO-2"])),
            due=D(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 90))),
        )
        for invoice_id in range(1, draw(st.integers(0, 8)) + 1)
    ]
    referenced = draw(st.lists(st.sampled_from(items), max_size=3)) if items else []
    text = "付" + ",".join(i.number for i in referenced) + draw(st.sampled_from(["", " SO-1"]))
    amount = draw(
        st.one_of(
            st.integers(1, 200000),
            st.just(sum(i.open_amount for i in referenced) or 1),
            st.sampled_from([i.open_amount for i in items] or [1]),
        )
    )
    return line(amount, draw(st.sampled_from([*NAMES, "王五", ""])), text), items, customers


@settings(max_examples=300, deadline=None)
@given(world=worlds())
def test_every_candidate_accounts_for_each_fen_of_the_line_and_no_more(
    world: tuple[IncomingLine, list[OpenItem], list[CustomerName]],
) -> None:
    incoming, items, customers = world
    open_amount = {i.invoice_id: i for i in items}
    for candidate in match(incoming, items, customers):
        paid = [amount for _invoice, amount in candidate.allocations]
        assert sum(paid) + candidate.unapplied == incoming.amount
        assert candidate.unapplied >= 0 and all(amount > 0 for amount in paid)
        invoices = [invoice for invoice, _amount in candidate.allocations]
        assert len(set(invoices)) == len(invoices)
        for invoice, amount in candidate.allocations:
            assert amount <= open_amount[invoice].open_amount
            assert open_amount[invoice].customer_id == candidate.customer_id
        assert 0.0 <= candidate.confidence <= 1.0


@settings(max_examples=150, deadline=None)
@given(world=worlds(), seed=st.integers(0, 1000))
def test_the_result_does_not_depend_on_the_order_of_items_or_customers(
    world: tuple[IncomingLine, list[OpenItem], list[CustomerName]], seed: int
) -> None:
    incoming, items, customers = world
    shuffled_items, shuffled_customers = items[:], customers[:]
    random.Random(seed).shuffle(shuffled_items)
    random.Random(seed).shuffle(shuffled_customers)
    assert match(incoming, shuffled_items, shuffled_customers) == match(incoming, items, customers)


@settings(max_examples=150, deadline=None)
@given(world=worlds())
def test_full_width_remittance_text_matches_like_half_width(
    world: tuple[IncomingLine, list[OpenItem], list[CustomerName]],
) -> None:
    incoming, items, customers = world
    index = ReferenceIndex(items)
    wide = line(incoming.amount, incoming.payer_name, full_width(incoming.remittance))
    assert index.find_references(wide.remittance) == index.find_references(incoming.remittance)
    assert match(wide, items, customers) == match(incoming, items, customers)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(NAMES[:3]),
    amount=st.integers(1, 10**8),
    others=st.lists(st.integers(1, 10**6), max_size=4),
)
def test_two_customers_with_one_name_and_one_amount_open_are_never_auto(
    name: str, amount: int, others: list[int]
) -> None:
    customers = [CustomerName(1, name), CustomerName(2, name)]
    items = [item(1, amount, customer_id=1), item(2, amount, customer_id=2)]
    items += [item(10 + i, other, customer_id=1 + i % 2) for i, other in enumerate(others)]
    assert decided(line(amount, name), items, customers=customers).kind != "auto"
