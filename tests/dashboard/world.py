"""A small dataset whose every dashboard figure is worked out by hand (dates in 2026).

Institution A (江苏南京) holds a1, a2 (inventions) and a3 (utility model); B (浙江杭州) holds b1.
Enterprises: E1 (江苏 南京, industry 3841 → C 制造业), E2 (浙江 杭州, 2614 → C).

- inventory: a1, a2 on 09-10 (batch A1, college 材料学院), a3 on 10-05 (batch A2), b1 on 10-01;
- pool: a1 09-20 grade A, a2 10-10 grade B, b1 10-15 grade A (a3 never pooled);
- pushes: a1→E1 10-01, a1→E2 10-02, a2→E1 11-03, b1→E2 11-05;
- feedback: a1/E1 10-11 洽谈, a1/E2 10-05 无, b1/E2 11-10 许可;
- deal D1 (A, E1, a1, from the a1→E1 push) opened 10-21, in production since 12-01;
- contracts: D1's equity contract on a1, 11-11, 100 万元; B's open licence on b1 with E2,
  12-02, 5 万元; 20 万元 paid to a1's inventors on 12-10;
- a challenge by E1 published 10-01, solved by A's team, passed verification 11-20;
- a pilot booking at a 江苏 platform on 11-02.

Every timestamp is 02:00 UTC (10:00 in Beijing), so day counts are whole days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from shuanglian.challenges.models import Application, Challenge, Verification
from shuanglian.deals.models import Contract, Deal, DealActivity, DealItem, InventorPayout
from shuanglian.inventory.models import (
    College,
    Feedback,
    InventoryBatch,
    InventoryItem,
    PoolEntry,
    Push,
    PushRound,
)
from shuanglian.pilots.models import PilotBooking, PilotPlatform
from shuanglian.supermarket.models import Inquiry, Listing, ListingDailyStat
from tests.web.factories import make_enterprise, make_institution, make_patent, make_user


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 2, 0, tzinfo=UTC)


@dataclass
class World:
    a: int
    b: int
    e1: int
    e2: int
    listing: int
    manager_user: int = 0


def build(s: Session) -> World:
    a, b = make_institution(s, "甲大学"), make_institution(s, "乙研究院")
    a.region, b.region = "江苏南京", "浙江省杭州市"
    a1 = make_patent(s, a, main_ipc="H01M 10/54")
    a2 = make_patent(s, a, main_ipc="G06F 16/00")
    a3 = make_patent(s, a, main_ipc="A01B 1/00")
    a3.patent_type = "utility_model"
    b1 = make_patent(s, b, main_ipc="H01M 4/00")
    e1 = make_enterprise(s, "南京甲企业", province="江苏", city="南京", industry_code="3841")
    e2 = make_enterprise(s, "杭州乙企业", province="浙江", city="杭州", industry_code="2614")
    s.flush()
    college = College(institution_id=a.id, name="材料学院")
    s.add(college)
    s.flush()
    batches = [
        InventoryBatch(institution_id=a.id, name="A1", college_id=college.id),
        InventoryBatch(institution_id=a.id, name="A2"),
        InventoryBatch(institution_id=b.id, name="B1"),
    ]
    s.add_all(batches)
    s.flush()
    for patent, batch, college_id, when in (
        (a1, batches[0], college.id, at(9, 10)),
        (a2, batches[0], college.id, at(9, 10)),
        (a3, batches[1], None, at(10, 5)),
        (b1, batches[2], None, at(10, 1)),
    ):
        s.add(InventoryItem(batch_id=batch.id, patent_id=patent.id, college_id=college_id,
                            institution_id=batch.institution_id, created_at=when))  # fmt: skip
    for patent, inst, when, grade in ((a1, a, at(9, 20), "A"), (a2, a, at(10, 10), "B"),
                                      (b1, b, at(10, 15), "A")):  # fmt: skip
        s.add(PoolEntry(patent_id=patent.id, institution_id=inst.id, active=True,
                        entered_at=when, grade=grade))  # fmt: skip
    rnd = PushRound(per_patent=5, per_enterprise_cap=50)
    s.add(rnd)
    s.flush()
    pushes = {}
    for patent, ent, when in ((a1, e1, at(10, 1)), (a1, e2, at(10, 2)), (a2, e1, at(11, 3)),
                              (b1, e2, at(11, 5))):  # fmt: skip
        pushes[(patent.id, ent.id)] = Push(round_id=rnd.id, patent_id=patent.id,
                                           enterprise_id=ent.id, rank=1, score=1.0,
                                           created_at=when)  # fmt: skip
    s.add_all(pushes.values())
    s.flush()
    for patent, ent, when, intent in ((a1, e1, at(10, 11), "洽谈"), (a1, e2, at(10, 5), "无"),
                                      (b1, e2, at(11, 10), "许可")):  # fmt: skip
        s.add(Feedback(push_id=pushes[(patent.id, ent.id)].id, patent_id=patent.id,
                       enterprise_id=ent.id, prospect=4, intent=intent,
                       created_at=when))  # fmt: skip
    deal = Deal(title="a1 作价入股", institution_id=a.id, enterprise_id=e1.id, stage="production",
                stage_changed_on=date(2026, 12, 1), opened_on=date(2026, 10, 21), source="push",
                push_id=pushes[(a1.id, e1.id)].id)  # fmt: skip
    s.add(deal)
    s.flush()
    s.add(DealItem(deal_id=deal.id, patent_id=a1.id))
    s.add(DealActivity(deal_id=deal.id, kind="stage", on=date(2026, 12, 1), from_stage="pilot",
                       to_stage="production"))  # fmt: skip
    c1 = Contract(number="HT-1", deal_id=deal.id, kind="equity", title="a1 入股",
                  institution_id=a.id, enterprise_id=e1.id, patent_id=a1.id,
                  signed_on=date(2026, 11, 11), amount=Decimal(100),
                  payment_mode="lump_sum")  # fmt: skip
    c2 = Contract(number="HT-2", kind="open_licence", title="b1 开放许可", institution_id=b.id,
                  enterprise_id=e2.id, patent_id=b1.id, signed_on=date(2026, 12, 2),
                  amount=Decimal(5), payment_mode="lump_sum")  # fmt: skip
    s.add_all([c1, c2])
    s.flush()
    s.add(InventorPayout(contract_id=c1.id, paid_on=date(2026, 12, 10), amount=Decimal(20)))
    ch = Challenge(enterprise_id=e1.id, title="电池回收榜单", budget=Decimal(50),
                   application_deadline=date(2026, 10, 20), delivery_deadline=date(2026, 11, 30),
                   status="verified", published_at=at(10, 1))  # fmt: skip
    s.add(ch)
    s.flush()
    app = Application(challenge_id=ch.id, institution_id=a.id, team_name="甲团队", approach="湿法",
                      price=Decimal(40), duration_days=30, status="accepted")  # fmt: skip
    s.add(app)
    s.flush()
    s.add(Verification(challenge_id=ch.id, application_id=app.id, run=1, verdict="passed",
                       recorded_at=at(11, 20)))  # fmt: skip
    platform = PilotPlatform(name="南京中试平台", operator="南京", level="municipal",
                             province="江苏")  # fmt: skip
    s.add(platform)
    s.flush()
    s.add(PilotBooking(platform_id=platform.id, title="放大", service="pilot",
                       start_on=date(2026, 12, 1), end_on=date(2026, 12, 5),
                       created_at=at(11, 2)))  # fmt: skip
    listing = Listing(patent_id=a1.id, institution_id=a.id, title="甲成果", status="published",
                      view_count=9, scan_count=4, published_at=at(10, 1))  # fmt: skip
    s.add(listing)
    s.flush()
    s.add_all([
        ListingDailyStat(listing_id=listing.id, day=date(2026, 11, 5), views=3, scans=2),
        ListingDailyStat(listing_id=listing.id, day=date(2026, 12, 5), views=6, scans=2),
        Inquiry(listing_id=listing.id, name="张三", message="请联系", created_at=at(11, 6)),
    ])  # fmt: skip
    s.flush()
    return World(a.id, b.id, e1.id, e2.id, listing.id)


def make_staff(s: Session, institution_id: int):  # type: ignore[no-untyped-def]
    return make_user(s, "institution_staff", institution_id=institution_id)
