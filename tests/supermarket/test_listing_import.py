"""`import listings` on the real 科技成果 sample: words → fields, patent links, errors, upsert."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.patents.importers import import_patents
from shuanglian.supermarket.importers import (
    import_listings,
    industry_codes,
    modes_from_cooperation,
    patent_numbers_in,
    price_in_wan,
    trl_from_maturity,
)
from shuanglian.supermarket.models import Listing
from shuanglian.supermarket.service import search_listings, unfence

SAMPLE_ROWS = 2946
DISTINCT_TITLES = 2455


@pytest.fixture
def listings_sample(shared_dir: Path) -> Path:
    return shared_dir / "data/samples/cn_tech_achievements_2020_2946.jsonl"


def test_words_become_fields() -> None:
    assert [trl_from_maturity(w) for w in ("正在研发", "已有样品", "通过小试", "通过中试")] == [
        3,
        4,
        5,
        7,
    ]
    assert trl_from_maturity("可以量產") == 8  # Traditional
    assert modes_from_cooperation("完全转让许可转让技术入股合作生产") == [
        "transfer",
        "licence",
        "equity",
        "joint_dev",
    ]
    assert modes_from_cooperation("其他") == []
    assert price_in_wan("面议") is None and price_in_wan("") is None
    assert price_in_wan("100.0万元-200.0万元") == Decimal("100")
    assert price_in_wan("5000元") == Decimal("0.5")
    assert industry_codes("制造业——医药制造业") == ["C27"]
    assert industry_codes("制造业——计算机、通信和其他电子设备制造") == ["C39"]  # no 业
    assert industry_codes("38, I63") == ["C38", "I63"]
    assert patent_numbers_in("根据专利技术（ZL201720001285.X）和 CN116510786B") == [
        "CN201720001285",
        "CN116510786B",
    ]


def test_real_sample_counts_in_a_dry_run(db_session: Session, listings_sample: Path) -> None:
    report = import_listings(db_session, path=listings_sample, institution="样本平台", dry_run=True)
    assert report.inserted == DISTINCT_TITLES
    assert report.inserted + report.unchanged + report.rejected == SAMPLE_ROWS
    # Every rejection is a second, different posting under a title already imported.
    assert {e.field for e in report.errors} == {"name"}
    assert all("同名成果已在第" in e.message for e in report.errors)
    assert db_session.scalar(select(func.count(Listing.id))) == 0


def test_import_links_patents_upserts_and_is_searchable(
    db_session: Session, listings_sample: Path, shared_dir: Path, tmp_path: Path
) -> None:
    # A register of 300 real rows plus one naming a patent the institution holds.
    lines = listings_sample.read_text(encoding="utf-8").splitlines()[:300]
    linked = {
        "name": "双核金催化剂技术转让",
        "postTime": "2020-03-01",
        "classification": "制造业——化学原料和化学制品制造业",
        "maturity": "通过小试",
        "cooperationMethod": "完全转让许可转让",
        "price": "50万元",
        "context": "本成果基于本校授权发明专利 CN116510786B，双核金催化剂用于氮氢插入反应。",
    }
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join([*lines, json.dumps(linked, ensure_ascii=False)]), "utf-8")
    import_patents(
        db_session,
        path=shared_dir / "data/samples/cn_patents_sysu_cnki_export_1467.csv",
        institution="中山大学",
    )
    report = import_listings(db_session, path=path, institution="中山大学", publish=True)
    assert report.inserted + report.unchanged + report.rejected == 301
    listing = db_session.scalar(select(Listing).where(Listing.title == "双核金催化剂技术转让"))
    assert listing is not None and listing.patent is not None
    assert listing.patent.publication_number == "CN116510786B"
    assert [m.patent_id for m in listing.members] == [listing.patent_id]
    assert listing.trl == 5 and listing.price == Decimal("50")
    assert unfence(listing.modes) == ["transfer", "licence"]
    assert unfence(listing.industries) == ["C26"]
    assert listing.status == "published" and listing.source_row == 301
    unlinked = db_session.scalar(select(Listing).where(Listing.title == "久坐卫士"))
    assert unlinked is not None and unlinked.patent_id is None and unlinked.price is None
    assert unfence(unlinked.industries) == ["C39"] and unlinked.trl == 4
    # The catalogue finds imported listings by words and by the industry, with or without
    # the 门类 letter.
    assert unlinked.id in [x.id for x in search_listings(db_session, q="坐姿").items]
    for code in ("39", "C39"):
        assert unlinked.id in [x.id for x in search_listings(db_session, industry=code).items]
    again = import_listings(db_session, path=path, institution="中山大学", publish=True)
    assert (again.inserted, again.updated) == (0, 0)
    assert again.unchanged + again.rejected == 301 and again.rejected == report.rejected


def test_spreadsheet_with_traditional_headers_and_row_errors(
    db_session: Session, tmp_path: Path
) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["成果名稱", "成果簡介", "所屬行業", "成熟度", "合作方式", "價格"])
    ws.append(
        [
            "鋰電池正極材料回收技術",
            "廢舊鋰電池正極材料的回收與再生。",
            "C42",
            "通過中試",
            "技術許可",
            "面議",
        ]
    )
    ws.append(["", "没有名称的一行", "C38", "已有样品", "完全转让", "面议"])
    ws.append(["一种传感器", "简介", "没有这个行业", "已有样品", "完全转让", "面议"])
    ws.append(["一种阀门", "简介", "C34", "差不多了", "完全转让", "面议"])
    ws.append(["一种泵", "简介", "C34", "已有样品", "完全转让", "很贵"])
    path = tmp_path / "成果清单.xlsx"
    wb.save(path)
    report = import_listings(db_session, path=path, institution="测试大学")
    assert report.inserted == 1
    assert [(e.row, e.field) for e in report.errors] == [
        (3, "成果名稱"),
        (4, "所屬行業"),
        (5, "成熟度"),
        (6, "價格"),
    ]
    listing = db_session.scalar(select(Listing).where(Listing.title == "鋰電池正極材料回收技術"))
    assert listing is not None and listing.status == "draft" and listing.trl == 7
    assert unfence(listing.modes) == ["licence"] and unfence(listing.industries) == ["C42"]
