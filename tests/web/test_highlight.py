"""Shared words marked in a patent's title and abstract (web.highlight)."""

from __future__ import annotations

from shuanglian.web.highlight import highlight_query, mark_words, snippet, words_from_query


def test_words_are_marked_longest_first_and_the_text_escaped() -> None:
    marked = mark_words("一种<锂电池>正极材料及其正极", ["正极", "正极材料", "锂电池"])
    assert (
        str(marked) == "一种&lt;<mark>锂电池</mark>&gt;<mark>正极材料</mark>及其<mark>正极</mark>"
    )


def test_adjacent_words_read_as_one_mark_and_latin_words_ignore_case() -> None:
    assert str(mark_words("柔性电子元器件", ["电子", "元器件"])) == "柔性<mark>电子元器件</mark>"
    assert str(mark_words("A Lithium battery", ["lithium"])) == "A <mark>Lithium</mark> battery"


def test_a_snippet_opens_a_little_before_the_first_shared_word() -> None:
    text = "本发明涉及一种材料。" * 10 + "所述锂离子电池正极材料的制备方法。" + "其余内容。" * 20
    piece = str(snippet(text, ["正极材料"], width=40))
    assert piece.startswith("…") and piece.endswith("…")
    assert "<mark>正极材料</mark>" in piece
    assert str(snippet("没有共同词的摘要", ["锂电池"])) == "没有共同词的摘要"


def test_the_words_travel_in_a_link_and_come_back_the_same() -> None:
    query = highlight_query(["锂电池", "正极材料", "", "锂电池"])
    assert query.startswith("?hl=")
    from urllib.parse import parse_qs

    assert words_from_query(parse_qs(query[1:])["hl"][0]) == ["正极材料", "锂电池"]
    assert highlight_query([]) == ""
