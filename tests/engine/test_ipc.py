"""IPC parsing and tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuanglian.engine.ipc import ipc_subclass, ipc_tokens, parse_ipc


@pytest.mark.parametrize(
    ("code", "parsed"),
    [
        ("H04N5/232", ("H04N", "5", "232")),
        ("H04N 5/232", ("H04N", "5", "232")),
        ("h04n  0005/232", ("H04N", "5", "232")),
        ("C04B28/14", ("C04B", "28", "14")),
        ("H01M", ("H01M", None, None)),
        ("G06K9", ("G06K", "9", None)),
        ("H01M 4/525(2010.01)", ("H01M", "4", "525")),
        ("Y02E60/10", ("Y02E", "60", "10")),
    ],
)
def test_parse_common_spellings(code: str, parsed: tuple[str, str | None, str | None]) -> None:
    assert parse_ipc(code) == parsed


@pytest.mark.parametrize("code", ["", "XYZ", "Z99Z1/00", "1234", "专利"])
def test_unknown_codes_are_ignored(code: str) -> None:
    assert parse_ipc(code) is None
    assert ipc_tokens([code]) == []


def test_tokens_by_level() -> None:
    codes = ["H04N5/232", "H04N5/225", "B64C39/02"]
    assert ipc_tokens(codes, levels=("subclass",)) == ["H04N", "H04N", "B64C"]
    assert ipc_tokens(codes, levels=("group",)) == ["H04N5", "H04N5", "B64C39"]
    assert ipc_tokens(codes[:1], levels=("class", "subclass", "group", "subgroup")) == [
        "H04",
        "H04N",
        "H04N5",
        "H04N5/232",
    ]
    assert ipc_subclass("B64C 39/02") == "B64C"


@given(st.lists(st.text(max_size=20), max_size=5))
def test_any_input_never_raises(codes: list[str]) -> None:
    assert isinstance(ipc_tokens(codes), list)
