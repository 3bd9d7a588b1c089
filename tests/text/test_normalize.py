"""What the databases can store: text that would fail a write is recognised first."""

from __future__ import annotations


def test_is_storable_refuses_what_a_database_write_would_fail_on() -> None:
    from shuanglian.text.normalize import is_storable

    assert is_storable("废旧锂电池 recycling ✓")
    assert not is_storable("a\x00b")  # PostgreSQL text cannot hold NUL
    assert not is_storable("half a pair \ud800")  # not encodable as UTF-8


def test_traditional_taiwan_usage_reaches_mainland_words() -> None:
    from shuanglian.text.normalize import to_simplified

    assert to_simplified("軟體資訊網路雷射") == "软件信息网络激光"
    # Simplified text is left exactly as written (tw2sp would turn 程式化 into 程序化).
    assert to_simplified("程式化的资讯") == "程式化的资讯"


def test_hong_kong_usage_reaches_mainland_words() -> None:
    from shuanglian.text.normalize import to_simplified
    from shuanglian.text.tokenize import tokenize

    # OpenCC's hk2s alone gives 镭射, 解像度, 荧幕: words no mainland text uses.
    assert to_simplified("鐳射焊接") == "激光焊接"
    assert to_simplified("解像度高的熒幕") == "分辨率高的屏幕"
    assert to_simplified("手提電話短訊") == "手机短信"
    assert tokenize("鐳射雷達") == tokenize("激光雷达")
    # Simplified 镭射 (holographic film in mainland usage) is not rewritten.
    assert to_simplified("镭射膜") == "镭射膜"


def test_traditional_query_tokens_match_simplified_ones() -> None:
    from shuanglian.text.tokenize import tokenize

    assert tokenize("雷射雷達與網路軟體") == tokenize("激光雷达与网络软件")
