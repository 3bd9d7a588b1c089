"""Importing the real 2002 registration sample and demand files, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.enterprises.importers import import_demands, import_enterprises
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.errors import ImportFailed

HEADER = (
    "企业名称,统一社会信用代码,注册日期,企业类型,法人代表,注册资金,经营范围,所在省份,地区,注册地址"
)


def _sample_lines(shared_dir: Path) -> list[str]:
    path = shared_dir / "data/samples/cn_enterprises_2002_business_scope.csv"
    with path.open(encoding="utf-8") as fh:
        return fh.read().splitlines()


@pytest.fixture(scope="module")
def sample_lines(shared_dir: Path) -> list[str]:
    return _sample_lines(shared_dir)


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_first_500_real_rows(db_session: Session, tmp_path: Path, sample_lines: list[str]) -> None:
    path = _write(tmp_path, "first500.csv", sample_lines[:501])
    report = import_enterprises(db_session, path=path, batch_size=128)
    assert (report.inserted, report.updated, report.rejected) == (500, 0, 0)
    assert _count(db_session, Enterprise) == 500
    first = db_session.scalars(
        select(Enterprise).where(Enterprise.credit_code == "913101127345759975")
    ).one()
    assert first.name == "上海兰阳商务咨询有限公司"
    assert first.founded_on == date(2002, 1, 10)
    assert first.registered_capital == Decimal(50)
    assert first.capital_currency == "CNY"
    assert (first.province, first.city) == ("上海", "闵行")
    assert first.source_file == "first500.csv" and first.source_row == 2
    assert "商务咨询" in first.search_text and "上海兰阳" in first.search_text
    # Every row of the slice kept its business scope text for matching.
    with_scope = db_session.scalar(
        select(func.count()).select_from(Enterprise).where(Enterprise.business_scope.is_not(None))
    )
    expected_scope = sum(1 for line in sample_lines[1:501] if line.split(",")[6])
    assert with_scope == expected_scope


def test_reimport_is_unchanged(
    db_session: Session, tmp_path: Path, sample_lines: list[str]
) -> None:
    path = _write(tmp_path, "first300.csv", sample_lines[:301])
    import_enterprises(db_session, path=path)
    again = import_enterprises(db_session, path=path, batch_size=50)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 300, 0)
    assert _count(db_session, Enterprise) == 300


def test_changed_row_is_updated(
    db_session: Session, tmp_path: Path, sample_lines: list[str]
) -> None:
    import_enterprises(db_session, path=_write(tmp_path, "a.csv", sample_lines[:11]))
    changed = sample_lines[1].replace("商务咨询，企业投资咨询", "工业机器人系统集成")
    report = import_enterprises(
        db_session, path=_write(tmp_path, "b.csv", [sample_lines[0], changed])
    )
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    row = db_session.scalars(
        select(Enterprise).where(Enterprise.credit_code == "913101127345759975")
    ).one()
    db_session.refresh(row)
    assert "工业机器人系统集成" in row.search_text
    assert row.source_file == "b.csv"


def test_garbled_shifted_rows_rejected(
    db_session: Session, tmp_path: Path, sample_lines: list[str]
) -> None:
    # Lines 4300-4360 of the sample: rows 4320-4354 are GBK text decoded as UTF-8 with their
    # columns shifted; every one must be rejected, every clean row kept.
    lines = [sample_lines[0], *sample_lines[4299:4360]]
    report = import_enterprises(db_session, path=_write(tmp_path, "garbled.csv", lines))
    assert report.rejected == 35
    assert report.inserted == 61 - 35
    assert {e.row for e in report.errors} == set(range(22, 57))
    assert {e.field for e in report.errors} == {"企业名称"}
    assert _count(db_session, Enterprise) == 26


def test_bad_rows_reported_good_rows_kept(db_session: Session, tmp_path: Path) -> None:
    lines = [
        HEADER,
        "甲机械有限公司,91310120734580606X,2002-01-10,有限责任公司,,50(万元人民币),机械加工,上海,奉贤,地址1",
        "乙公司,913101207345806061,2002-01-10,,,,,上海,,",  # wrong check character
        "丙公司,913101127345759975,2002-13-45,,,,,上海,,",  # impossible date
        ",91310114734566142F,2002-01-10,,,,,上海,,",  # no name
        "丁公司,91310114734566142F,2002-01-10,,,五十万,,上海,,",  # capital unreadable
        "戊厂,510132000055145,2002-02-01,����,,5(万元人民币),轴承加工,四川,成都,",  # old reg. no.
    ]
    report = import_enterprises(db_session, path=_write(tmp_path, "bad.csv", lines))
    assert report.inserted == 2
    assert [(e.row, e.field) for e in report.errors] == [
        (3, "统一社会信用代码"),
        (4, "注册日期"),
        (5, "企业名称"),
        (6, "注册资金"),
    ]
    assert "校验位" in report.errors[0].message
    old = db_session.scalars(select(Enterprise).where(Enterprise.name == "戊厂")).one()
    assert old.credit_code is None  # a valid 15-digit 注册号 is not a credit code
    assert old.enterprise_type is None  # mojibake dropped, not stored
    kept = db_session.scalars(select(Enterprise).where(Enterprise.name == "甲机械有限公司")).one()
    assert kept.enterprise_type == "有限责任公司"


def test_duplicates_within_file(db_session: Session, tmp_path: Path) -> None:
    row = "甲公司,91310120734580606X,2002-01-10,,,50(万元),机械加工,上海,奉贤,地址"
    conflicting = row.replace("上海,奉贤", "黑龙江,双鸭山")
    path = _write(tmp_path, "dup.csv", [HEADER, row, row, conflicting])
    report = import_enterprises(db_session, path=path)
    assert (report.inserted, report.unchanged, report.rejected) == (1, 1, 1)
    assert report.errors[0].row == 4 and report.errors[0].field == "统一社会信用代码"
    assert "第 2 行" in report.errors[0].message
    again = import_enterprises(db_session, path=path)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 1)
    stored = db_session.scalars(select(Enterprise)).one()
    assert stored.province == "上海"


def test_name_without_code_matches_by_name(db_session: Session, tmp_path: Path) -> None:
    header = "公司名称,成立日期,注册资本,省份,城市"
    import_enterprises(
        db_session, path=_write(tmp_path, "a.csv", [header, "甲公司,2002-01-01,100万元,上海,浦东"])
    )
    report = import_enterprises(
        db_session, path=_write(tmp_path, "b.csv", [header, "甲公司,2002-01-01,200万元,上海,浦东"])
    )
    assert (report.inserted, report.updated) == (0, 1)
    stored = db_session.scalars(select(Enterprise)).one()
    assert stored.registered_capital == Decimal(200)


def test_row_without_code_keeps_stored_code(db_session: Session, tmp_path: Path) -> None:
    row = "甲公司,91310120734580606X,2002-01-10,,,50(万元),机械加工,上海,奉贤,地址"
    import_enterprises(db_session, path=_write(tmp_path, "a.csv", [HEADER, row]))
    no_code = row.replace("91310120734580606X", "").replace("机械加工", "机械加工、焊接")
    report = import_enterprises(db_session, path=_write(tmp_path, "b.csv", [HEADER, no_code]))
    assert (report.inserted, report.updated) == (0, 1)
    stored = db_session.scalars(select(Enterprise)).one()
    db_session.refresh(stored)
    assert stored.credit_code == "91310120734580606X"
    assert stored.business_scope == "机械加工、焊接"


def test_dry_run_writes_nothing(
    db_session: Session, tmp_path: Path, sample_lines: list[str]
) -> None:
    path = _write(tmp_path, "dry.csv", sample_lines[:101])
    report = import_enterprises(db_session, path=path, dry_run=True, batch_size=30)
    assert report.dry_run is True
    assert report.inserted == 100
    assert _count(db_session, Enterprise) == 0


def test_failed_import_leaves_database_as_it_was(
    db_session: Session, tmp_path: Path, sample_lines: list[str]
) -> None:
    # A byte sequence that is not UTF-8 beyond the encoding sniffer's 256 KiB sample makes the
    # reader fail mid-file, after several batches were already written.
    good = ("\n".join(sample_lines[:1001]) + "\n").encode("utf-8")
    assert len(good) > 256 * 1024
    path = tmp_path / "broken.csv"
    path.write_bytes(good + b"\xff\xfe\xfa,913101127345759975,2002-01-01\n")
    with pytest.raises(ImportFailed, match="编码"):
        import_enterprises(db_session, path=path, batch_size=100)
    assert _count(db_session, Enterprise) == 0


def test_missing_name_column(db_session: Session, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="企业名称"):
        import_enterprises(db_session, path=_write(tmp_path, "x.csv", ["统一社会信用代码", "x"]))


def test_xlsx_with_aliases_and_industry(db_session: Session, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(
        ["公司名称", "信用代码", "成立日期", "注册资本", "省份", "城市", "行业代码", "经营范围"]
    )
    ws.append(
        [
            "甲科技有限公司",
            "91310114734566142F",
            date(2002, 1, 10),
            "1亿元",
            "上海",
            "嘉定",
            "C3311",
            "结构性金属制品制造",
        ]
    )
    ws.append(["乙公司", "91310117734568164H", "2002-01-10", "", "上海", "松江", "X99", ""])
    path = tmp_path / "e.xlsx"
    wb.save(path)
    report = import_enterprises(db_session, path=path)
    assert report.inserted == 1
    assert [(e.row, e.field) for e in report.errors] == [(3, "行业代码")]
    stored = db_session.scalars(select(Enterprise)).one()
    assert stored.industry_code == "3311"
    assert stored.registered_capital == Decimal(10000)
    assert stored.founded_on == date(2002, 1, 10)


# --------------------------------------------------------------------------- demands

DEMAND_HEADER = "企业名称,统一社会信用代码,需求名称,需求描述,行业代码,预算(万元),截止日期,地区"


def _two_enterprises(db_session: Session, tmp_path: Path, sample_lines: list[str]) -> None:
    import_enterprises(db_session, path=_write(tmp_path, "ent.csv", sample_lines[:6]))


def test_demands_import(db_session: Session, tmp_path: Path, sample_lines: list[str]) -> None:
    _two_enterprises(db_session, tmp_path, sample_lines)
    lines = [
        DEMAND_HEADER,
        ",91310120734580606X,冲压件表面缺陷在线检测,需要对五金冲件进行机器视觉缺陷检测,3311,80,2027-06-30,上海奉贤",
        "上海凯一机械设备有限公司,,设备远程运维平台,机械设备租赁业务需要远程状态监测,,50万元,2027/3/31,上海虹口",
        "不存在的公司,,某需求,描述,,10,,",
        "上海凯一机械设备有限公司,,,没有标题,,10,,",
        "上海凯一机械设备有限公司,,预算有误,描述,,很多,,",
        "上海凯一机械设备有限公司,,日期有误,描述,,10,明年,",
    ]
    path = _write(tmp_path, "demands.csv", lines)
    report = import_demands(db_session, path=path)
    assert report.inserted == 2
    assert [(e.row, e.field) for e in report.errors] == [
        (4, "企业名称"),
        (5, "需求名称"),
        (6, "预算(万元)"),
        (7, "截止日期"),
    ]
    assert "找不到企业" in report.errors[0].message
    demand = db_session.scalars(
        select(Demand).where(Demand.title == "冲压件表面缺陷在线检测")
    ).one()
    assert demand.enterprise.name == "上海兴峥金属制品有限公司"
    assert demand.budget == Decimal(80)
    assert demand.deadline == date(2027, 6, 30)
    assert demand.industry_code == "3311"
    assert "机器视觉" in demand.search_text

    again = import_demands(db_session, path=path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    edited = [lines[0], lines[1].replace(",80,", ",120,")]
    report = import_demands(db_session, path=_write(tmp_path, "d2.csv", edited))
    assert (report.inserted, report.updated) == (0, 1)
    db_session.refresh(demand)
    assert demand.budget == Decimal(120)
    assert _count(db_session, Demand) == 2


def test_demands_dry_run(db_session: Session, tmp_path: Path, sample_lines: list[str]) -> None:
    _two_enterprises(db_session, tmp_path, sample_lines)
    lines = [DEMAND_HEADER, ",91310120734580606X,需求甲,描述,,80,,"]
    report = import_demands(db_session, path=_write(tmp_path, "d.csv", lines), dry_run=True)
    assert report.inserted == 1 and report.dry_run
    assert _count(db_session, Demand) == 0


def test_demands_need_an_enterprise_column(db_session: Session, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match="企业名称"):
        import_demands(db_session, path=_write(tmp_path, "d.csv", ["需求名称,需求描述", "a,b"]))
