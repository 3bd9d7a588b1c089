"""`import demands` on the real platform sample (JSON Lines, no enterprise column)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuanglian.enterprises.importers import import_demands
from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.errors import ImportFailed

SAMPLE_ROWS = 1915


@pytest.fixture
def demands_sample(shared_dir: Path) -> Path:
    return shared_dir / "data/samples/cn_enterprise_demands_2020_1915.jsonl"


def test_real_demands_import_with_a_fallback_enterprise(
    db_session: Session, demands_sample: Path
) -> None:
    report = import_demands(db_session, path=demands_sample, enterprise="需求汇编企业")
    assert report.inserted + report.unchanged + report.rejected == SAMPLE_ROWS
    assert report.inserted > 1700
    stored = db_session.scalar(select(func.count(Demand.id)))
    assert stored == report.inserted
    first = db_session.scalar(select(Demand).where(Demand.title == "LED手电筒红外开关改进"))
    assert first is not None
    assert first.industry_code == "C"  # 制造业
    assert first.modes == ",transfer,licence,commission,"
    assert (first.valid_from, first.deadline) == (date(2020, 1, 13), date(2021, 1, 13))
    assert first.enterprise.name == "需求汇编企业"
    it = db_session.scalar(
        select(Demand).where(Demand.industry_code == "I").limit(1)
    )  # 信息传输、软件和信息技术服务业
    assert it is not None
    again = import_demands(db_session, path=demands_sample, enterprise="需求汇编企业")
    assert (again.inserted, again.updated) == (0, 0)
    assert db_session.scalar(select(func.count(Enterprise.id))) == 1


def test_demands_without_enterprise_need_the_option(
    db_session: Session, demands_sample: Path
) -> None:
    with pytest.raises(ImportFailed, match="--enterprise"):
        import_demands(db_session, path=demands_sample)


def test_dry_run_creates_nothing(db_session: Session, demands_sample: Path) -> None:
    report = import_demands(db_session, path=demands_sample, enterprise="新企业", dry_run=True)
    assert report.inserted > 1700
    assert db_session.scalar(select(func.count(Enterprise.id))) == 0
    assert db_session.scalar(select(func.count(Demand.id))) == 0
