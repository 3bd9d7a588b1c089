"""CNKI and PatSnap exports and Traditional-Chinese headers, parsed and upserted for real."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.patents.importers import detect_format, import_patents, parse_patent_file
from shuanglian.patents.importers.common import RowRejection
from shuanglian.patents.models import Patent
from shuanglian.patents.numbers import patent_type_from
from shuanglian.patents.schemas import PatentIn

from .patsnap_fixture import PATSNAP_HEADER, write_patsnap

CNKI_ROWS = 1467


@pytest.fixture
def cnki_sample(shared_dir: Path) -> Path:
    return shared_dir / "data/samples/cn_patents_sysu_cnki_export_1467.csv"


def _split(items) -> tuple[list[PatentIn], list[RowRejection]]:  # type: ignore[no-untyped-def]
    items = list(items)
    return (
        [i for i in items if isinstance(i, PatentIn)],
        [i for i in items if isinstance(i, RowRejection)],
    )


# --------------------------------------------------------------------------- CNKI


def test_cnki_export_is_detected_and_every_row_parses(cnki_sample: Path) -> None:
    assert detect_format(cnki_sample) == "cnki"
    records, rejections = _split(parse_patent_file(cnki_sample))
    assert rejections == []
    assert len(records) == CNKI_ROWS
    first = records[0]
    # Author = inventors, Applicant = applicants, CLC holds the IPC codes, PubNo the key.
    assert first.title == "一种双核金催化剂及其制备方法和应用"
    assert first.inventors[:2] == ["邹滔滔", "罗和江"]
    assert first.applicants == ["中山大学"]
    assert first.main_ipc == "B01J31/24" and "C07C49/792" in first.ipc_codes
    assert first.application_key == "PN:CN116510786"
    assert first.publication_number == "CN116510786B"
    assert first.patent_type == "invention" and first.language == "zh"
    assert str(first.grant_date) == "2025-03-25" and first.publication_date is None
    kinds = {r.publication_number[-1] for r in records}
    assert kinds == {"A", "B", "U"}
    assert {r.patent_type for r in records if r.publication_number.endswith("U")} == {
        "utility_model"
    }


def test_cnki_application_and_grant_of_one_invention_become_one_patent(cnki_sample: Path) -> None:
    records, _ = _split(parse_patent_file(cnki_sample))
    pair = [r for r in records if r.application_key == "PN:CN118324775"]
    assert len(pair) == 2
    assert pair[0].model_dump(exclude={"source_row"}) == pair[1].model_dump(exclude={"source_row"})
    merged = pair[0]
    assert merged.publication_number == "CN118324775B"
    assert merged.publication_date is not None and merged.grant_date is not None
    assert merged.publication_date < merged.grant_date


def test_cnki_import_counts_and_reimport_changes_nothing(
    db_session: Session, cnki_sample: Path
) -> None:
    keys = {r.application_key for r in _split(parse_patent_file(cnki_sample))[0]}
    report = import_patents(db_session, path=cnki_sample, institution="中山大学")
    assert report.rejected == 0
    assert report.inserted == len(keys)
    assert report.inserted + report.updated + report.unchanged == CNKI_ROWS
    assert db_session.scalar(select(func.count(Patent.id))) == len(keys)
    again = import_patents(db_session, path=cnki_sample, institution="中山大学")
    assert (again.inserted, again.updated, again.rejected) == (0, 0, 0)
    assert again.unchanged == CNKI_ROWS


def test_cnki_row_errors_name_row_and_column(tmp_path: Path, cnki_sample: Path) -> None:
    with cnki_sample.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    rows[3][rows[0].index("PubNo-公开号")] = "公开号待补"
    rows[4][rows[0].index("Title-题名")] = ""
    path = tmp_path / "cnki.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows[:6])
    records, rejections = _split(parse_patent_file(path))
    assert len(records) == 3
    assert [(r.row, r.field) for r in rejections] == [(4, "PubNo-公开号"), (5, "Title-题名")]


# --------------------------------------------------------------------------- PatSnap


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_patsnap_export_keeps_both_languages(tmp_path: Path, suffix: str) -> None:
    path = write_patsnap(tmp_path / f"patsnap{suffix}")
    assert detect_format(path) == "patsnap"
    records, rejections = _split(parse_patent_file(path))
    assert [(r.field, r.row) for r in rejections] == [("申请日", 7 if suffix == ".xlsx" else 6)]
    by_number = {r.publication_number: r for r in records}
    cn = by_number["CN218751475U"]
    assert cn.language == "zh" and cn.title == "一种无人机机载多功能盒"
    assert cn.alt_language == "en"
    assert cn.alt_title == "Multifunctional airborne box for an unmanned aerial vehicle"
    assert cn.alt_abstract and "cloud server" in cn.alt_abstract
    assert cn.patent_type == "utility_model" and cn.ipc_codes == ["B64U20/80", "B64U101/30"]
    assert cn.application_key == "PN:CN218751475"
    assert str(cn.filing_date) == "2022-12-02"
    granted = by_number["CN116510786B"]
    assert granted.patent_type == "invention"  # 授权发明
    assert granted.inventors[0] == "邹滔滔"
    us = by_number["US10057849"]
    # A foreign office's patent is stored in English with the Chinese translation beside it.
    assert us.language == "en" and us.title.startswith("System and method")
    assert us.alt_language == "zh" and us.alt_title == "减少从小区获取系统信息所耗功率的系统和方法"


def test_patsnap_second_language_is_stored_and_searchable(
    db_session: Session, tmp_path: Path
) -> None:
    from shuanglian.patents.service import list_patents

    path = write_patsnap(tmp_path / "patsnap.xlsx")
    report = import_patents(db_session, path=path)
    assert (report.inserted, report.rejected) == (4, 1)
    stored = db_session.scalar(select(Patent).where(Patent.publication_number == "US10057849"))
    assert stored is not None and stored.alt_title == "减少从小区获取系统信息所耗功率的系统和方法"
    # The Chinese translation makes the English patent findable in Chinese, and the reverse.
    assert [p.publication_number for p in list_patents(db_session, q="系统信息")] == ["US10057849"]
    assert [p.publication_number for p in list_patents(db_session, q="gold catalyst")] == [
        "CN116510786B"
    ]
    again = import_patents(db_session, path=path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)


# --------------------------------------------------------------------------- Traditional


TRADITIONAL = {
    "公开(公告)号": "公開(公告)號",
    "标题(译)(简体中文)": "標題(譯)(簡體中文)",
    "标题(译)(English)": "標題(譯)(English)",
    "摘要(译)(简体中文)": "摘要(譯)(簡體中文)",
    "摘要(译)(English)": "摘要(譯)(English)",
    "[标]当前申请(专利权)人": "[標]當前申請(專利權)人",
    "发明人": "發明人",
    "申请日": "申請日",
    "公开(公告)日": "公開(公告)日",
    "专利类型": "專利類型",
    "法律状态/事件": "法律狀態/事件",
    "IPC分类号": "IPC分類號",
    "IPC主分类号": "IPC主分類號",
    "受理局": "受理局",
}


def test_traditional_patsnap_headers_are_recognised(tmp_path: Path) -> None:
    header = [TRADITIONAL.get(name, name) for name in PATSNAP_HEADER]
    path = write_patsnap(tmp_path / "patsnap_tw.csv", header=header)
    assert detect_format(path) == "patsnap"
    records, rejections = _split(parse_patent_file(path))
    assert len(records) == 4
    # Row errors name the column as the file writes it.
    assert [r.field for r in rejections] == ["申請日"]


def test_traditional_cnipa_headers_and_type_values(tmp_path: Path) -> None:
    path = tmp_path / "tw.csv"
    path.write_text(
        "申請號,專利名稱,申請日,專利類型,申請人,主分類號\n"
        "CN202223220665.2,一種無人機機載多功能盒,2022-12-02,發明授權,中科大數據研究院,B64U20/80\n"
        "CN202122975192.6,一種可拍照便攜式攝像頭,2021-11-30,實用新型,中科大數據研究院,H04N5/225\n",
        encoding="utf-8",
    )
    assert detect_format(path) == "cnipa"
    records, rejections = _split(parse_patent_file(path))
    assert rejections == []
    assert [r.patent_type for r in records] == ["invention", "utility_model"]
    assert records[0].title == "一種無人機機載多功能盒"  # the original text is kept


@pytest.mark.parametrize(
    ("text", "kind"),
    [("發明授權", "invention"), ("外觀設計", "design"), ("實用新型", "utility_model")],
)
def test_traditional_patent_type_words(text: str, kind: str) -> None:
    assert patent_type_from(text) == kind
