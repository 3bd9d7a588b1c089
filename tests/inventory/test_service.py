"""Batches, colleges, reviewer assignments and the self-assessment form's validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.inventory.models import (
    IMPLEMENTATION_STATUSES,
    TRANSFER_MODES,
    InventoryBatch,
)
from shuanglian.inventory.schemas import SelfAssessmentIn
from shuanglian.inventory.service import (
    assign_college,
    assign_reviewer,
    create_batch,
    create_college,
    item_for_patent,
)
from shuanglian.patents.models import Patent

from .helpers import FORM


def test_batch_from_an_import_file_takes_only_new_patents(db_session, world, sample_csv):
    extra = Patent(
        application_key="CN201910000001",
        application_number="CN201910000001.X",
        title="一种测试装置",
        institution_id=world.institution.id,
        source_file=sample_csv.name,
    )
    db_session.add(extra)
    db_session.flush()
    batch, added, skipped = create_batch(
        db_session,
        actor=world.staff,
        institution_id=world.institution.id,
        name="补充盘点",
        college_id=world.college.id,
        source_file=sample_csv.name,
    )
    assert (added, skipped) == (1, 10)
    assert batch.source == f"import:{sample_csv.name}"
    assert item_for_patent(db_session, patent_id=extra.id).college_id == world.college.id


def _extra_patent(db_session, institution, number: str, source_file: str | None) -> Patent:
    patent = Patent(
        application_key=f"CN{number}",
        application_number=f"CN{number}.X",
        title=f"一种补充装置 {number}",
        institution_id=institution.id,
        source_file=source_file,
    )
    db_session.add(patent)
    db_session.flush()
    return patent


@pytest.mark.parametrize(
    "given",
    [
        "{path}",  # the absolute path the file was imported from
        "samples/{name}",  # a relative path, as typed in another folder
        "~/exports/{name}",  # a home path
        "{name}",  # the bare name, as stored
    ],
)
def test_batch_source_file_may_be_given_as_the_path_imported_with(
    db_session, world, sample_csv, given
):
    extra = _extra_patent(db_session, world.institution, "201910000011", sample_csv.name)
    batch, added, skipped = create_batch(
        db_session,
        actor=world.staff,
        institution_id=world.institution.id,
        name="补充盘点",
        source_file=given.format(path=sample_csv, name=sample_csv.name),
    )
    assert (added, skipped) == (1, 10)
    assert batch.source == f"import:{sample_csv.name}"
    assert item_for_patent(db_session, patent_id=extra.id).batch_id == batch.id


def test_batch_without_file_or_ids_takes_every_patent_not_inventoried(db_session, world):
    mine = [_extra_patent(db_session, world.institution, f"20191000002{i}", None) for i in range(2)]
    _extra_patent(db_session, world.other_institution, "201910000030", None)
    batch, added, skipped = create_batch(
        db_session, actor=world.staff, institution_id=world.institution.id, name="全部未盘点"
    )
    assert (added, skipped) == (2, 0)
    assert {i.patent_id for i in batch.items} == {p.id for p in mine}


def _batch_count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(InventoryBatch))


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({}, "patent_ids", "没有尚未盘点的专利"),  # everything is inventoried already
        ({"source_file": "demo/nope.csv"}, "source_file", "没有从“nope.csv”导入的专利"),
        ({"source_file": "~/exports/{name}"}, "source_file", "都已盘点过"),
        ({"patent_ids": "first"}, "patent_ids", "都已盘点过"),
    ],
)
def test_a_batch_that_would_be_empty_is_refused_and_nothing_is_created(
    db_session, world, sample_csv, kwargs, field, words
):
    if "source_file" in kwargs:
        kwargs = {"source_file": kwargs["source_file"].format(name=sample_csv.name)}
    if kwargs.get("patent_ids") == "first":
        kwargs = {"patent_ids": [world.patents[0].id]}
    before = _batch_count(db_session)
    with pytest.raises(DomainError, match=words) as refused:
        create_batch(
            db_session,
            actor=world.staff,
            institution_id=world.institution.id,
            name="空批次",
            **kwargs,
        )
    assert refused.value.field == field
    assert "nothing created" in refused.value.message
    assert _batch_count(db_session) == before


def test_batch_refuses_other_institutions_patents(db_session, world):
    with pytest.raises(PermissionDenied):
        create_batch(
            db_session, actor=world.other_staff, institution_id=world.institution.id, name="x"
        )
    foreign = Patent(
        application_key="CN201910000002",
        application_number="CN201910000002.8",
        title="他校专利",
        institution_id=world.other_institution.id,
    )
    db_session.add(foreign)
    db_session.flush()
    with pytest.raises(DomainError, match="不属于本单位"):
        create_batch(
            db_session,
            actor=world.staff,
            institution_id=world.institution.id,
            name="x",
            patent_ids=[foreign.id],
        )


def test_college_and_reviewer_rules(db_session, world):
    other_college = create_college(
        db_session,
        actor=world.other_staff,
        institution_id=world.other_institution.id,
        name="机械学院",
    )
    with pytest.raises(DomainError, match="院系不属于该单位"):
        assign_reviewer(
            db_session,
            actor=world.staff,
            user_id=world.staff.id,
            institution_id=world.institution.id,
            level="college",
            college_id=other_college.id,
        )
    with pytest.raises(DomainError, match="必须指定院系"):
        assign_reviewer(
            db_session,
            actor=world.staff,
            user_id=world.staff.id,
            institution_id=world.institution.id,
            level="college",
        )
    with pytest.raises(DomainError, match="本单位用户"):
        assign_reviewer(
            db_session,
            actor=world.staff,
            user_id=world.other_staff.id,
            institution_id=world.institution.id,
            level="institution",
        )
    with pytest.raises(DomainError, match="名称不能为空"):
        create_college(
            db_session, actor=world.staff, institution_id=world.institution.id, name="  "
        )
    item = item_for_patent(db_session, patent_id=world.patents[0].id)
    with pytest.raises(DomainError, match="院系不属于该单位"):
        assign_college(
            db_session, actor=world.staff, item_ids=[item.id], college_id=other_college.id
        )


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("trl", 0, "1–9"),
        ("trl", 10, "1–9"),
        ("value_grade", "极高", "价值分级自评"),
        ("transfer_mode", "捐赠", "意向转化方式"),
        ("implementation_status", "在用", "实施状态"),
        ("industry_codes", ["X99"], "行业代码"),
        ("contact_email", "not-an-email", "邮箱"),
        ("value_reason", "", "必填"),
    ],
)
def test_form_rejects_bad_values(field, value, message):
    with pytest.raises(ValidationError, match=message):
        SelfAssessmentIn(**{**FORM.model_dump(), field: value})


@settings(max_examples=50, deadline=None)
@given(
    trl=st.integers(1, 9),
    status=st.sampled_from(IMPLEMENTATION_STATUSES),
    mode=st.sampled_from(TRANSFER_MODES),
    codes=st.lists(st.sampled_from(["C39", "3911", "i65", " C3741 "]), max_size=3),
)
def test_form_accepts_every_valid_combination(trl, status, mode, codes):
    form = SelfAssessmentIn(
        **{
            **FORM.model_dump(),
            "trl": trl,
            "implementation_status": status,
            "transfer_mode": mode,
            "industry_codes": codes,
        }
    )
    assert form.trl == trl and all(c == c.strip().upper() for c in form.industry_codes)
