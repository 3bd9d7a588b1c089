"""A push the national bulk job stored compact (signals and its level, no reasons) reads on the
pages like a round's: its level, and its reasons in plain words, not 「得分构成：文本 100%」."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from shuanglian.config import Settings
from shuanglian.inventory.models import Push, PushRound
from shuanglian.matching.bulk_store import _compact
from shuanglian.matching.service import build_index
from shuanglian.web.app import create_app
from shuanglian.web.deps import get_session
from tests.web.factories import login, make_enterprise, make_institution, make_patent, make_user


def test_compact_bulk_pushes_show_level_and_plain_reasons(
    db_settings: Settings, db_session, tmp_path: Path
) -> None:
    inst = make_institution(db_session)
    patent = make_patent(
        db_session, inst, title="一种锂离子电池正极材料回收方法",
        abstract="从废旧锂离子电池中回收钴酸锂正极材料，再生正极材料。",
    )  # fmt: skip
    ent = make_enterprise(db_session, business_scope="锂离子电池正极材料的研发、生产和销售")
    rnd = PushRound(per_patent=5, per_enterprise_cap=50)
    db_session.add(rnd)
    db_session.flush()
    stored = _compact(7, 0.9, [0.9, 0.0, 0.0], match=0.42)  # what the bulk job writes
    db_session.add(
        Push(round_id=rnd.id, patent_id=patent.id, enterprise_id=ent.id, rank=1, score=0.9,
             explanation=stored)
    )  # fmt: skip
    db_session.flush()
    settings = db_settings.model_copy(update={"home": tmp_path})
    build_index(db_session, settings=settings)
    app = create_app(settings)
    app.dependency_overrides[get_session] = lambda: db_session
    pages = {}
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
        pages["enterprise"] = client.get("/workspace/enterprise")
        listed = client.get("/api/v1/inventory/pushes").json()
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, make_user(db_session, "institution_staff", institution_id=inst.id))
        pages["institution"] = client.get(f"/patents/{patent.id}")
    for who, page in pages.items():
        assert page.status_code == 200, who
        assert "得分构成" not in page.text, who
        assert "双方都涉及" in page.text and "锂离子电池" in page.text, who
    pushes = pages["enterprise"].text.split('id="pushes"', 1)[1].split("</section>", 1)[0]
    assert "匹配度" in pushes and "中" in pushes and "42%" in pushes
    # An API client reads the same: the stored level, and the reasons explained now.
    (item,) = listed
    explanation = item["explanation"]
    assert explanation["level"] == "medium" and explanation["match"] == 0.42
    assert any("锂离子电池" in reason for reason in explanation["reasons"])
    assert not any("得分构成" in reason for reason in explanation["reasons"])
