"""Dynamic inventory: new grants join a batch, lapsed patents leave the pool with a reason."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from shuanglian.audit import audit_trail
from shuanglian.errors import PermissionDenied
from shuanglian.inventory.importers import sync_inventory
from shuanglian.inventory.models import InventoryBatch, PoolEntry
from shuanglian.inventory.service import item_for_patent
from shuanglian.patents.models import Institution, Patent
from shuanglian.patents.numbers import cn_check_digit

from .helpers import pool


def _rows(sample: Path) -> tuple[list[str], list[dict[str, str]]]:
    with sample.open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_new_grants_and_lapses(db_session, world, sample_csv, tmp_path):
    [pid] = pool(db_session, world, [0])
    header, rows = _rows(sample_csv)
    rows[0]["法律状态"] = "无权-未缴年费终止"
    rows[1]["专利转移次数"] = "2"
    changed = _write(tmp_path / "2025-状态变更.csv", header, rows)
    result = sync_inventory(
        db_session, actor=world.staff, path=changed, institution_id=world.institution.id
    )
    assert (result["updated"], result["unchanged"], result["inserted"]) == (2, 8, 0)
    assert result["status_changes"] == 1
    assert [r["patent_id"] for r in result["left_pool"]] == [pid]
    entry = db_session.scalar(select(PoolEntry).where(PoolEntry.patent_id == pid))
    assert not entry.active and "无权-未缴年费终止" in entry.leave_reason
    item = item_for_patent(db_session, patent_id=pid)
    assert item.status == "lapsed"
    trail = audit_trail(db_session, subject_type="inventory_items", subject_id=item.id)
    assert trail[-1].action == "review.lapse" and trail[-1].actor_name == "system"
    assert db_session.get(Patent, world.patents[1].id).transfer_count == 2
    # The right is restored (恢复权利): the next sync puts the patent back into the pool.
    rows[0]["法律状态"] = "有权-恢复权利"
    restored = _write(tmp_path / "2025-恢复.csv", header, rows)
    result = sync_inventory(
        db_session, actor=world.staff, path=restored, institution_id=world.institution.id
    )
    assert [r["patent_id"] for r in result["restored"]] == [pid]
    assert item.status == "approved" and entry.active and entry.leave_reason is None


def test_new_patents_form_a_batch(db_session, sample_csv, tmp_path, world):
    header, rows = _rows(sample_csv)
    inst = Institution(name="新大学")
    db_session.add(inst)
    db_session.flush()
    for row in rows[:2]:  # the same records under new (valid) application numbers
        serial = "2023" + row["申请号"][6:14]
        row["申请号"] = f"CN{serial}.{cn_check_digit(serial)}"
    path = _write(tmp_path / "新授权.csv", header, rows[:2])
    result = sync_inventory(db_session, actor=world.admin, path=path, institution_id=inst.id)
    assert result["inserted"] == 2 and result["new_patents"] == 2
    batch = db_session.get(InventoryBatch, result["new_batch_id"])
    assert batch.institution_id == inst.id and batch.source == "sync:新授权.csv"
    assert len(batch.items) == 2 and {i.status for i in batch.items} == {"draft"}


def test_sync_rejects_rows_it_cannot_place(db_session, world, sample_csv, tmp_path):
    header, rows = _rows(sample_csv)
    rows[0]["申请号"] = "不是申请号"
    rows[1]["申请号"] = f"CN202399999999.{cn_check_digit('202399999999')}"
    path = _write(tmp_path / "bad.csv", header, rows[:2])
    result = sync_inventory(db_session, actor=world.admin, path=path)
    assert result["rejected"] == 2
    assert [e["row"] for e in result["errors"]] == [2, 3]
    assert "--institution" in result["errors"][1]["message"]
    with pytest.raises(PermissionDenied):
        sync_inventory(
            db_session, actor=world.other_staff, path=path, institution_id=world.institution.id
        )
