"""Matching endpoints: a clear 409 before the index exists, explained matches after."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from shuanglian.config import Settings
from shuanglian.matching.service import build_index
from shuanglian.web.app import create_app
from shuanglian.web.deps import get_session
from tests.web.factories import make_demand, make_enterprise, make_institution, make_patent


def _client(db_settings: Settings, db_session, home: Path) -> TestClient:
    # Own home folder: the on-disk index must not leak between tests.
    app = create_app(db_settings.model_copy(update={"home": home}))
    app.dependency_overrides[get_session] = lambda: db_session
    return TestClient(app, raise_server_exceptions=False)


def test_matches_before_and_after_the_index_is_built(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    inst = make_institution(db_session)
    patent = make_patent(
        db_session,
        inst,
        title="一种锂离子电池正极材料回收方法",
        abstract="从废旧锂离子电池中回收钴酸锂正极材料。",
    )
    make_patent(db_session, inst, title="一种无人机旋翼结构", abstract="旋翼与机臂的连接结构。")
    ent = make_enterprise(
        db_session, "格林美测试有限公司", business_scope="废旧电池回收；锂离子电池正极材料生产销售"
    )
    demand = make_demand(db_session, ent, "锂离子电池正极材料回收技术")
    with _client(db_settings, db_session, tmp_path) as client:
        before = client.get(f"/api/v1/patents/{patent.id}/matches")
        assert before.status_code == 409
        assert before.json()["error"]["code"] == "index_not_ready"
        build_index(db_session, settings=db_settings.model_copy(update={"home": tmp_path}))
        to_enterprises = client.get(f"/api/v1/patents/{patent.id}/matches", params={"top": 5})
        assert to_enterprises.status_code == 200
        assert to_enterprises.json()[0]["id"] == ent.id
        for_demand = client.get(f"/api/v1/demands/{demand.id}/matches").json()
        assert for_demand[0]["id"] == patent.id and for_demand[0]["explanation"]
        for_enterprise = client.get(f"/api/v1/enterprises/{ent.id}/matches").json()
        assert for_enterprise[0]["id"] == patent.id
        assert (
            client.get(f"/api/v1/patents/{patent.id}/matches", params={"top": 0}).status_code == 422
        )
