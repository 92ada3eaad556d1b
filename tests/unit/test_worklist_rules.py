"""The worklist's ranking: expected value = amount at stake × collectability × urgency, the
reasons shown, and the payment habits (typical pay day, best contact and hour)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from huikuan.collections.worklist_rules import (
    LARGE_NEW_OVERDUE,
    LIMITATION_WARN_DAYS,
    Situation,
    age_factor,
    best_name,
    collectability,
    mode,
    needs_attention,
    rank_key,
    ratio,
    score,
)

D = dt.date
AS_OF = D(2026, 12, 2)


def codes(situation: Situation) -> list[str]:
    return [reason.code for reason in score(situation).reasons]


def test_each_trigger_gives_its_reason() -> None:
    base = Situation(as_of=AS_OF, chased_overdue=100_000, oldest_due=D(2026, 11, 20))
    assert codes(base) == []
    assert not needs_attention(base)
    assert codes(dataclasses.replace(base, task_channel="phone_task")) == ["call_due"]
    assert codes(dataclasses.replace(base, task_channel="visit_task")) == ["visit_due"]
    assert codes(dataclasses.replace(base, promise_due_on=AS_OF)) == ["promise_today"]
    assert codes(dataclasses.replace(base, promise_due_on=D(2026, 12, 3))) == ["promise_tomorrow"]
    assert codes(dataclasses.replace(base, last_broken_on=D(2026, 12, 1))) == ["broken_promise"]
    assert codes(dataclasses.replace(base, last_dispute_on=D(2026, 11, 26))) == ["new_dispute"]
    large = dataclasses.replace(base, new_overdue=LARGE_NEW_OVERDUE)
    assert codes(large) == ["large_new_overdue"]
    assert "¥50,000.00" in score(large).reasons[0].text
    for situation in (dataclasses.replace(base, task_channel="phone_task"), large):
        assert needs_attention(situation)


def test_old_news_is_not_a_reason() -> None:
    base = Situation(as_of=AS_OF, chased_overdue=100_000, oldest_due=D(2026, 11, 1))
    assert codes(dataclasses.replace(base, last_broken_on=D(2026, 11, 25))) == []  # 7 days ago
    assert codes(dataclasses.replace(base, last_dispute_on=D(2026, 11, 1))) == []
    assert codes(dataclasses.replace(base, new_overdue=LARGE_NEW_OVERDUE - 1)) == []
    assert codes(dataclasses.replace(base, promise_due_on=D(2026, 12, 4))) == []


def test_limitation_raises_urgency_but_alone_does_not_list() -> None:
    old = Situation(
        as_of=AS_OF,
        chased_overdue=100_000,
        oldest_due=AS_OF - dt.timedelta(days=LIMITATION_WARN_DAYS),
    )
    assert codes(old) == ["limitation"]
    assert not needs_attention(old)
    assert score(old).urgency == Fraction(1) + Fraction(6, 10) + 1


def test_the_value_is_the_product() -> None:
    situation = Situation(
        as_of=AS_OF,
        chased_overdue=1_000_000,
        oldest_due=D(2026, 10, 1),  # 62 days: age 0.80, urgency +0.2
        grade="BBB",  # 0.80
        task_channel="phone_task",  # +0.5
    )
    result = score(situation)
    assert result.collectability == Fraction(64, 100)
    assert result.urgency == Fraction(17, 10)
    assert result.value == 1_088_000


def test_collectability_falls_with_age_broken_promises_disputes_and_grade() -> None:
    assert [age_factor(d) for d in (0, 30, 31, 90, 91, 365, 366)] == [
        1,
        1,
        Fraction(9, 10),
        Fraction(8, 10),
        Fraction(6, 10),
        Fraction(4, 10),
        Fraction(1, 4),
    ]
    base = Situation(as_of=AS_OF, chased_overdue=100_000, oldest_due=D(2026, 11, 20), grade="A")
    assert collectability(dataclasses.replace(base, broken_promises=1)) < collectability(base)
    assert collectability(dataclasses.replace(base, broken_promises=9)) == collectability(
        dataclasses.replace(base, broken_promises=3)
    )
    disputed = dataclasses.replace(base, open_amount=200_000, disputed=100_000)
    assert collectability(disputed) == collectability(base) * Fraction(3, 4)
    assert collectability(dataclasses.replace(base, grade="C")) < collectability(base)
    assert collectability(dataclasses.replace(base, grade=None)) == Fraction(3, 4)


def test_a_promise_due_counts_its_amount_at_stake() -> None:
    situation = Situation(as_of=AS_OF, promise_due_on=AS_OF, promise_due_amount=300_000)
    assert score(situation).at_stake == 300_000
    assert score(situation).value > 0


situations = st.builds(
    Situation,
    as_of=st.just(AS_OF),
    chased_overdue=st.integers(0, 10**12),
    oldest_due=st.one_of(st.none(), st.dates(D(2020, 1, 1), AS_OF)),
    grade=st.sampled_from([None, "AAA", "AA", "A", "BBB", "BB", "B", "C", "X"]),
    open_amount=st.integers(0, 10**12),
    disputed=st.integers(0, 10**12),
    broken_promises=st.integers(0, 6),
    last_broken_on=st.one_of(st.none(), st.dates(D(2026, 1, 1), AS_OF)),
    last_dispute_on=st.one_of(st.none(), st.dates(D(2026, 1, 1), AS_OF)),
    task_channel=st.sampled_from(["", "phone_task", "visit_task"]),
    promise_due_on=st.one_of(st.none(), st.sampled_from([AS_OF, D(2026, 12, 3)])),
    promise_due_amount=st.integers(0, 10**10),
    new_overdue=st.integers(0, 10**10),
)


@settings(max_examples=300, deadline=None)
@given(situations, st.integers(1, 10**10))
def test_more_overdue_never_ranks_lower(situation: Situation, more: int) -> None:
    larger = dataclasses.replace(situation, chased_overdue=situation.chased_overdue + more)
    small, big = score(situation), score(larger)
    assert big.value >= small.value
    assert rank_key(big.value, big.at_stake, "B") < rank_key(small.value, small.at_stake, "A")


@settings(max_examples=200, deadline=None)
@given(situations)
def test_factors_stay_in_range(situation: Situation) -> None:
    result = score(situation)
    assert 0 <= result.collectability <= 1
    assert result.urgency >= 1
    assert 0 <= result.value <= result.at_stake * result.urgency + 1


def test_habits_helpers() -> None:
    assert mode({}) is None
    assert mode({5: 3, 25: 3, 10: 1}) == 5  # a tie goes to the earlier day
    assert mode({25: 4, 5: 3}) == 25
    at = dt.datetime(2026, 11, 1, 10)
    assert best_name([]) == ""
    assert best_name([("", 9, at), ("张总", 2, at), ("李会计", 3, at)]) == "李会计"
    assert best_name([("张总", 2, at), ("李会计", 2, at + dt.timedelta(days=1))]) == "李会计"
    assert ratio(10, 4) == Fraction(5, 2)
    assert ratio(None, 0) is None
