"""Cross-domain event: a patent that lapses or is withdrawn from the pool goes off sale with it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from shuanglian.audit import AuditEntry, audit_trail
from shuanglian.errors import DomainError
from shuanglian.inventory.importers import sync_inventory
from shuanglian.inventory.review import apply_transition
from shuanglian.inventory.service import item_for_patent
from shuanglian.supermarket import service as market
from tests.web.fixtures import app, client  # noqa: F401  (shared fixtures)

from .helpers import pool

TERMS = "许可费每年 5 万元，期限三年，任何单位书面通知并付费即可实施"


def _listing(db_session, world, index: int):  # type: ignore[no-untyped-def]
    data = market.ListingInput(
        title=f"无人机巡检图像识别技术{index}",
        summary="基于深度学习的输电线路缺陷识别，已在两家电网公司试用。",
        modes=["open_licence", "licence"],
        price=None,
        trl=6,
        open_licence_terms=TERMS,
    )
    return market.create_listing(
        db_session,
        actor=world.staff,
        patent_ids=[world.patents[index].id],
        data=data,
        publish=True,
    )


def _lapse_by_sync(db_session, world, sample_csv: Path, tmp_path: Path, index: int) -> None:  # type: ignore[no-untyped-def]
    with sample_csv.open(encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows[index]["法律状态"] = "无权-未缴年费终止"
    path = tmp_path / "2025-状态变更.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    sync_inventory(db_session, actor=world.staff, path=path, institution_id=world.institution.id)


def test_lapsed_patent_leaves_the_market(client, db_session, world, sample_csv, tmp_path) -> None:  # noqa: F811
    pool(db_session, world, [0, 1])
    lapsing, staying = _listing(db_session, world, 0), _listing(db_session, world, 1)
    page = client.get(f"/market/{lapsing.id}")
    assert page.status_code == 200 and TERMS in page.text
    assert lapsing.title in client.get("/market").text

    _lapse_by_sync(db_session, world, sample_csv, tmp_path, 0)

    assert lapsing.status == "withdrawn" and staying.status == "published"
    catalogue = client.get("/market").text
    assert lapsing.title not in catalogue and staying.title in catalogue
    assert client.get(f"/market/{lapsing.id}").status_code == 404  # no open-licence terms left
    assert lapsing.title not in client.get("/screen").text
    assert [x["id"] for x in client.get("/api/v1/listings").json()["items"]] == [staying.id]
    [entry] = [
        e
        for e in audit_trail(db_session, subject_type="market_listings", subject_id=lapsing.id)
        if e.action == "listing.auto_withdraw"
    ]
    assert entry.actor_name == "system" and "未缴年费终止" in entry.detail["comment"]
    assert entry.institution_id == world.institution.id
    # Publishing it again is refused while the patent is out of the pool.
    with pytest.raises(DomainError, match="已不在可转化资源库"):
        market.set_listing_status(
            db_session, actor=world.staff, listing_id=lapsing.id, status="published"
        )


def test_withdrawal_from_the_pool_withdraws_package_listings(db_session, world) -> None:
    pool(db_session, world, [0, 1])
    data = market.ListingInput(
        title="巡检成果包", summary="两件专利组成的无人机巡检成果包。", modes=["transfer"]
    )
    package = market.create_listing(
        db_session,
        actor=world.staff,
        patent_ids=[world.patents[1].id, world.patents[0].id],
        data=data,
        publish=True,
    )
    item = item_for_patent(db_session, patent_id=world.patents[0].id)
    apply_transition(
        db_session, actor=world.staff, item_id=item.id, action="withdraw", comment="拟自行实施"
    )
    assert package.status == "withdrawn"  # a package member left: the package is off sale too
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_id == package.id,
                                        AuditEntry.subject_type == "market_listings")
        .order_by(AuditEntry.id)
    ).all()  # fmt: skip
    assert list(actions) == ["listing.create", "listing.auto_withdraw"]
