"""Factories for inventory tests: real CNIPA sample patents, real enterprises, users per role."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from shuanglian.accounts.models import User
from shuanglian.enterprises.models import Enterprise
from shuanglian.inventory.importers import sync_inventory
from shuanglian.inventory.models import College
from shuanglian.inventory.service import assign_reviewer, create_college
from shuanglian.patents.models import Institution, Patent

# A hand-made IPC class → GB/T 4754 大类 link for tests (the real one is the reference data):
# B64 aircraft → 37 航空航天; H04 communication → 39 电子设备; G06/H04L computing → 65 软件;
# G01 measuring → 40 仪器仪表; H02 power → 38 电气机械.
TEST_LINK = {
    "B64": [("37", 1.0)],
    "H04": [("39", 0.7), ("65", 0.3)],
    "G06": [("65", 1.0)],
    "G01": [("40", 1.0)],
    "H02": [("38", 1.0)],
}


def hand_link(code: str) -> list[tuple[str, float]]:
    """IPC code → [(大类, weight)] from TEST_LINK by its 3-character class."""
    return TEST_LINK.get(code.replace(" ", "")[:3], [])


# Business-scope words → 大类, to give real enterprise records an industry for the tests.
_SCOPE_DIVISIONS = (
    ("软件", "I6510"),
    ("计算机", "C3911"),
    ("电子", "C3990"),
    ("仪器", "C4011"),
    ("航空", "C3741"),
    ("电气", "C3819"),
)


@dataclass
class World:
    institution: Institution
    other_institution: Institution
    college: College
    admin: User
    staff: User
    other_staff: User
    college_reviewer: User
    institution_reviewer: User
    patents: list[Patent]


def _user(session: Session, username: str, role: str, **kw: object) -> User:
    user = User(username=username, role=role, password_hash="not-a-login", **kw)
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def sample_csv(shared_dir: Path) -> Path:
    return shared_dir / "data" / "samples" / "cn_patents_research_institute_sample10.csv"


@pytest.fixture
def enterprise_rows(shared_dir: Path) -> list[dict[str, str]]:
    """Real enterprise records whose business scope names one of the test industries."""
    path = shared_dir / "data" / "samples" / "cn_enterprises_2002_business_scope.csv"
    per_code: dict[str, list[dict[str, str]]] = {code: [] for _, code in _SCOPE_DIVISIONS}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for word, code in _SCOPE_DIVISIONS:
                if word in row["经营范围"]:
                    if len(per_code[code]) < 10:
                        per_code[code].append({**row, "industry_code": code})
                    break
            if all(len(rows) == 10 for rows in per_code.values()):
                break
    return [row for rows in per_code.values() for row in rows]


@pytest.fixture
def enterprises(db_session: Session, enterprise_rows: list[dict[str, str]]) -> list[Enterprise]:
    out = []
    for row in enterprise_rows:
        ent = Enterprise(
            name=row["企业名称"],
            credit_code=row["统一社会信用代码"] or None,
            industry_code=row["industry_code"],
            business_scope=row["经营范围"],
            province=row["所在省份"],
        )
        db_session.add(ent)
        out.append(ent)
    db_session.flush()
    return out


@pytest.fixture
def world(db_session: Session, sample_csv: Path) -> World:
    """An institution holding the 10 real CNIPA sample patents, with a college and its people."""
    inst = Institution(name="中科大数据研究院")
    other = Institution(name="另一所大学")
    db_session.add_all([inst, other])
    db_session.flush()
    admin = _user(db_session, "admin", "admin")
    staff = _user(db_session, "staff", "institution_staff", institution_id=inst.id)
    other_staff = _user(db_session, "other", "institution_staff", institution_id=other.id)
    college_rev = _user(db_session, "college_rev", "institution_staff", institution_id=inst.id)
    inst_rev = _user(db_session, "inst_rev", "institution_staff", institution_id=inst.id)
    college = create_college(db_session, actor=staff, institution_id=inst.id, name="智能感知学院")
    assign_reviewer(
        db_session,
        actor=staff,
        user_id=college_rev.id,
        institution_id=inst.id,
        level="college",
        college_id=college.id,
    )
    assign_reviewer(
        db_session, actor=staff, user_id=inst_rev.id, institution_id=inst.id, level="institution"
    )
    result = sync_inventory(db_session, actor=admin, path=sample_csv, institution_id=inst.id)
    assert result["inserted"] == 10, result
    patents = list(db_session.query(Patent).order_by(Patent.id))
    return World(inst, other, college, admin, staff, other_staff, college_rev, inst_rev, patents)
