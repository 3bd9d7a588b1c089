"""What the databases can store: text that would fail a write is recognised first."""

from __future__ import annotations


def test_is_storable_refuses_what_a_database_write_would_fail_on() -> None:
    from shuanglian.text.normalize import is_storable

    assert is_storable("废旧锂电池 recycling ✓")
    assert not is_storable("a\x00b")  # PostgreSQL text cannot hold NUL
    assert not is_storable("half a pair \ud800")  # not encodable as UTF-8
