"""Enterprise and demand services: bulk upserts, lookups, lists and filters.

Workspace edits (profile, demand create/update) are tested in test_workspace_service.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shuanglian.accounts import permissions as perm
from shuanglian.accounts.models import User
from shuanglian.enterprises import service, workspace
from shuanglian.enterprises.models import Enterprise
from shuanglian.errors import DomainError, NotFound
from shuanglian.importing import ImportReport


def _enterprises(session: Session, rows: list[dict[str, Any]]) -> ImportReport:
    records = [service.RowRecord(row=i + 2, values=v) for i, v in enumerate(rows)]
    return service.upsert_enterprises(session, records=records, batch_size=2)


@pytest.fixture
def three(db_session: Session) -> Session:
    _enterprises(
        db_session,
        [
            {
                "name": "上海亚济信息科技有限公司",
                "credit_code": "91310114734566142F",
                "business_scope": "计算机科技、通讯科技领域内的技术开发",
                "province": "上海",
                "industry_code": "6511",
            },
            {
                "name": "上海兴峥金属制品有限公司",
                "credit_code": "91310120734580606X",
                "business_scope": "五金冲件、冷作钣金加工",
                "province": "上海",
                "industry_code": "3311",
            },
            {
                "name": "成都精密機械有限公司",
                "credit_code": None,
                "business_scope": "數控機床零部件加工",
                "province": "四川",
                "industry_code": "3421",
            },
        ],
    )
    return db_session


def test_upsert_counts_and_search_text(three: Session) -> None:
    report = _enterprises(
        three,
        [
            {
                "name": "上海兴峥金属制品有限公司",
                "credit_code": "91310120734580606X",
                "business_scope": "五金冲件、冷作钣金加工、激光切割",
                "province": "上海",
                "industry_code": "3311",
            }
        ],
    )
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 0)
    page = service.list_enterprises(three, q="激光切割")
    assert [e.name for e in page.items] == ["上海兴峥金属制品有限公司"]


def test_list_filters_and_paging(three: Session) -> None:
    assert service.list_enterprises(three).total == 3
    assert service.list_enterprises(three, province="四川").items[0].credit_code is None
    # Traditional characters in the record are found by a Simplified query and vice versa.
    assert service.list_enterprises(three, q="数控机床").total == 1
    assert service.list_enterprises(three, q="數控 零部件").total == 1
    assert service.list_enterprises(three, q="数控 激光").total == 0
    assert service.list_enterprises(three, industry_code="33").total == 1
    assert service.list_enterprises(three, industry_code="6511").total == 1
    first = service.list_enterprises(three, offset=0, limit=2)
    second = service.list_enterprises(three, offset=2, limit=2)
    assert first.total == second.total == 3
    assert len(first.items) == 2 and len(second.items) == 1
    assert {e.id for e in first.items}.isdisjoint({e.id for e in second.items})
    # Wildcards in a query are literal text, not LIKE patterns.
    assert service.list_enterprises(three, q="%").total == 0


def test_get_and_find(three: Session) -> None:
    found = service.find_enterprise(three, ref="９１３１０１２０７３４５８０６０６ｘ")
    assert found is not None and found.name == "上海兴峥金属制品有限公司"
    assert service.get_enterprise(three, enterprise_id=found.id) is found
    by_name = service.find_enterprise(three, ref="成都精密機械有限公司")
    assert by_name is not None and by_name.province == "四川"
    assert service.find_enterprise(three, ref="没有这家公司") is None
    with pytest.raises(NotFound):
        service.get_enterprise(three, enterprise_id=10**9)


def test_create_and_list_demands(three: Session) -> None:
    maker = service.find_enterprise(three, ref="91310120734580606X")
    assert isinstance(maker, Enterprise)
    admin = User(username="admin-lists", password_hash="-", role=perm.ADMIN, is_active=True)
    demand = workspace.create_demand(
        three,
        actor=admin,
        enterprise_id=maker.id,
        data=workspace.DemandInput(
            title="钣金件焊接变形控制",
            description="薄板焊接后变形量大，需要工艺或夹具方案",
            budget=Decimal(30),
            deadline=date(2027, 12, 31),
            region="上海奉贤",
        ),
    )
    assert demand.id and demand.status == "open"
    assert "焊接变形" in demand.search_text
    assert service.get_demand(three, demand_id=demand.id) is demand
    assert service.list_demands(three, q="夹具").total == 1
    assert service.list_demands(three, enterprise_id=maker.id).items == [demand]
    assert service.list_demands(three, region="奉贤", status="open").total == 1
    assert service.list_demands(three, status="closed").total == 0
    with pytest.raises(DomainError):
        service.list_demands(three, status="nonsense")
    with pytest.raises(NotFound):
        service.get_demand(three, demand_id=10**9)
