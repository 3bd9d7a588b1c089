"""A search's two-word term is held by a text only where its halves stand together, in either
language: 正极材料 and "cathode active material" hold `cathode material`; "a cathode and an anode,
and a material" does not."""

from __future__ import annotations

import pytest

from shuanglian.text.query_words import holds_word, query_words

OLED = (
    "An organic EL device has a light emitting layer between a cathode and an anode, and a "
    "material for an organic EL device in one of its layers."
)


@pytest.mark.parametrize(
    ("search", "text"),
    [
        ("cathode material", "一种富锂锰基正极材料及其制备方法"),
        ("cathode material", "A cathode active material for lithium batteries."),
        ("cathode material", "富锂锰基正极活性材料的包覆方法"),
        ("lithium battery", "A lithium-ion battery pack with a cooling plate."),
        ("lithium battery", "一种锂离子电池隔膜"),
        ("lithium battery", "車載鋰電池的熱管理"),  # Traditional, as everywhere
        ("solar cells", "Perovskite solar cells with a passivated surface."),
    ],
)
def test_a_pair_held_together_or_a_little_apart(search: str, text: str) -> None:
    (word,) = query_words(search)
    assert holds_word(word, text)


@pytest.mark.parametrize(
    ("search", "text"),
    [
        ("cathode material", OLED),
        ("cathode material", "正极和负极材料的回收"),
        ("lithium battery", "Lithium; a battery."),
    ],
)
def test_the_halves_apart_are_not_the_term(search: str, text: str) -> None:
    (word,) = query_words(search)
    assert not holds_word(word, text)


def test_a_single_word_is_looked_for_as_itself_or_its_translation() -> None:
    assert holds_word("cathod", OLED)
    assert holds_word("锂电池", "一种锂电池正极材料")
    assert not holds_word("锂电池", "一种钠离子电池")
