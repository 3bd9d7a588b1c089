"""Headline figures against counts worked out by hand on a small, fully known dataset."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from shuanglian.deals.models import Contract
from shuanglian.enterprises.models import Demand
from shuanglian.figures import (
    BY_KEY,
    FIGURES,
    database_counts,
    definitions,
    figures_by_institution,
    headline_figures,
)
from shuanglian.inventory.models import (
    Feedback,
    InventoryBatch,
    InventoryItem,
    PoolEntry,
    Push,
    PushRound,
    SelfAssessment,
)
from shuanglian.inventory.reports import inventory_report
from shuanglian.supermarket.models import Inquiry, Listing, ListingDailyStat
from tests.web.factories import make_enterprise, make_institution, make_patent, make_user
from tests.web.fixtures import app, client  # noqa: F401  (shared fixtures)

TODAY = date(2025, 6, 1)


def _world(s):  # type: ignore[no-untyped-def]
    """Institution A: 4 patents (3 inventions), B: 2 patents (1 invention), 1 without owner.

    A inventories p1–p3 (p1, p2 self-assessed, p1 as 高; p3 was licensed once), pools p1 and p2
    and p3 left the pool; B inventories and pools q1. Pushes: p1 → E1, E2; p2 → E1; q1 → E1.
    Feedback: p1/E1 洽谈, p1/E2 无, q1/E1 许可. Listings: A has one published (views 5, scans 2,
    signed 2 deals for 30.5 万元), one draft; B one withdrawn (views 7). 3 scans today on A's.
    """
    a, b = make_institution(s, "甲大学"), make_institution(s, "乙研究院")
    p1 = make_patent(s, a)
    p2 = make_patent(s, a)
    p3 = make_patent(s, a, licence_count=1)
    make_patent(s, a).patent_type = "utility_model"
    q1 = make_patent(s, b)
    make_patent(s, b).patent_type = "design"
    make_patent(s, None)  # no owner
    e1, e2 = make_enterprise(s), make_enterprise(s)
    s.add(Demand(enterprise_id=e1.id, title="需要电池回收技术", search_text="电池"))
    batch_a = InventoryBatch(institution_id=a.id, name="A 2025")
    batch_b = InventoryBatch(institution_id=b.id, name="B 2025")
    s.add_all([batch_a, batch_b])
    s.flush()
    items = {}
    for batch, p in ((batch_a, p1), (batch_a, p2), (batch_a, p3), (batch_b, q1)):
        items[p.id] = InventoryItem(
            batch_id=batch.id, patent_id=p.id, institution_id=batch.institution_id
        )
        s.add(items[p.id])
    s.flush()
    for p, grade in ((p1, "高"), (p2, "中")):
        s.add(SelfAssessment(
            item_id=items[p.id].id, publicly_funded=True, implementation_status="未实施",
            transfer_mode="许可", trl=5, value_grade=grade, value_reason="样机",
            scenarios="巡检", contact_name="王工",
        ))  # fmt: skip
    s.add_all([
        PoolEntry(patent_id=p1.id, institution_id=a.id, active=True),
        PoolEntry(patent_id=p2.id, institution_id=a.id, active=True),
        PoolEntry(patent_id=p3.id, institution_id=a.id, active=False),
        PoolEntry(patent_id=q1.id, institution_id=b.id, active=True),
    ])  # fmt: skip
    rnd = PushRound(per_patent=5, per_enterprise_cap=50)
    s.add(rnd)
    s.flush()
    pushes = {}
    for p, e in ((p1, e1), (p1, e2), (p2, e1), (q1, e1)):
        pushes[(p.id, e.id)] = Push(
            round_id=rnd.id, patent_id=p.id, enterprise_id=e.id, rank=1, score=1.0
        )
        s.add(pushes[(p.id, e.id)])
    s.flush()
    for (p, e), intent in (((p1, e1), "洽谈"), ((p1, e2), "无"), ((q1, e1), "许可")):
        s.add(Feedback(push_id=pushes[(p.id, e.id)].id, patent_id=p.id, enterprise_id=e.id,
                       prospect=4, intent=intent))  # fmt: skip
    published = Listing(
        patent_id=p1.id,
        institution_id=a.id,
        title="甲成果",
        status="published",
        view_count=5,
        scan_count=2,
    )
    draft = Listing(patent_id=p2.id, institution_id=a.id, title="甲草稿", status="draft")
    gone = Listing(
        patent_id=q1.id, institution_id=b.id, title="乙下架", status="withdrawn", view_count=7
    )
    for n, amount, patent in ((1, "20.5", p3), (2, "10", None)):
        s.add(Contract(number=f"HT-{n}", kind="transfer", title=f"合同{n}", institution_id=a.id,
                       enterprise_id=e1.id, signed_on=date(2026, 11, n), amount=Decimal(amount),
                       payment_mode="lump_sum", patent_id=patent and patent.id))  # fmt: skip
    s.add_all([published, draft, gone])
    s.flush()
    s.add_all([
        ListingDailyStat(listing_id=published.id, day=TODAY, views=1, scans=3),
        ListingDailyStat(listing_id=published.id, day=date(2025, 5, 31), views=0, scans=9),
        Inquiry(listing_id=published.id, name="张三", message="请联系洽谈", phone="010-1"),
    ])  # fmt: skip
    make_user(s, "institution_staff", institution_id=a.id)
    make_user(s, "admin")
    s.flush()
    return a, b


EXPECTED_PLATFORM = {
    "institutions": 2, "patents": 7, "patents_invention": 5, "inventoried": 4, "assessed": 2,
    "assessed_good": 1, "pooled": 3, "pooled_invention": 3, "pushed_patents": 3, "pushes": 4,
    "enterprises_reached": 2, "feedback": 3, "cooperation_intents": 2, "converted": 1,
    "enterprises": 2, "demands": 1, "users": 2, "listings": 1, "views": 12, "scans": 2,
    "scans_today": 3, "inquiries": 1, "contracts": 2, "amount": Decimal("30.50"),
    "transfer_records": 1, "graded_a": 0, "graded_b": 0, "graded_c": 0, "graded_d": 0,
    "challenges_posted": 0, "challenges_solved": 0, "challenges_verified": 0, "deals": 0,
    "deals_open": 0, "deals_production": 0, "contracts_transfer": 2, "contracts_licence": 0,
    "open_licences_taken": 0, "contracts_equity": 0, "amount_equity": Decimal("0.00"),
    "open_licences_declared": 0, "income_received": Decimal("0.00"),
    "income_to_inventors": Decimal("0.00"), "pilot_bookings": 0,
}  # fmt: skip


def test_platform_figures_match_the_hand_count(db_session) -> None:
    _world(db_session)
    assert headline_figures(db_session, today=TODAY) == EXPECTED_PLATFORM


def test_one_institution_and_per_institution(db_session) -> None:
    a, b = _world(db_session)
    mine = headline_figures(db_session, institution_id=a.id, today=TODAY)
    assert "enterprises" not in mine and "demands" not in mine  # no institution owns those
    assert (mine["patents"], mine["inventoried"], mine["pooled"], mine["converted"]) == (4, 3, 2, 1)
    assert (mine["enterprises_reached"], mine["feedback"], mine["cooperation_intents"]) == (2, 2, 1)
    assert (mine["listings"], mine["views"], mine["users"]) == (1, 5, 1)
    per = figures_by_institution(
        db_session, keys=["pooled", "enterprises_reached", "views"], today=TODAY
    )
    assert per == {
        "pooled": {a.id: 2, b.id: 1},
        # Distinct per institution: E1 is counted for both, so the rows add up to 3, not 2.
        "enterprises_reached": {a.id: 2, b.id: 1},
        "views": {a.id: 5, b.id: 7},
    }


def test_report_stats_home_and_screen_read_the_same_figures(client: TestClient, db_session) -> None:  # noqa: F811
    a, _ = _world(db_session)
    report = inventory_report(db_session)
    assert report["total"]["盘点数"] == 4 and report["total"]["入库数"] == 3
    assert report["total"]["推送企业数"] == 2 and report["total"]["有合作意向数"] == 2
    [row_a] = [r for r in report["institutions"] if r["institution_id"] == a.id]
    assert (row_a["盘点数"], row_a["其中发明专利"], row_a["已转化数"]) == (3, 2, 1)
    assert row_a["自评转化前景好占比"] == 0.5
    counts = database_counts(db_session)
    assert counts["patents"] == 7 and counts["patents_invention"] == 5
    assert counts["patents_design"] == 1 and counts["users"] == 2
    home = client.get("/").text
    assert '<span class="num">7</span>' in home and '<span class="num">1</span>' in home
    assert 'data-figure="listings">1<' in client.get("/screen/figures").text


def test_every_figure_has_both_definitions() -> None:
    assert len(BY_KEY) == len(FIGURES)
    for f in FIGURES:
        assert f.definition.endswith("。") and f.definition_en.endswith("."), f.key
        assert f.label and f.label_en
    assert definitions("en")["pooled"][0] == "In the pool"


def test_an_unknown_figure_is_refused(db_session) -> None:
    with pytest.raises(KeyError, match="no_such_figure"):
        headline_figures(db_session, keys=["no_such_figure"])
