"""Enterprise and institution workspaces: push list with reasons, feedback, demands, profile,
pool and inventory progress."""

from __future__ import annotations

from fastapi.testclient import TestClient

from shuanglian.enterprises.models import Demand, Enterprise
from shuanglian.inventory.models import Feedback, InventoryBatch, InventoryItem, Push, PushRound
from shuanglian.patents.models import Patent
from tests.web.factories import (
    csrf_of,
    login,
    make_enterprise,
    make_institution,
    make_patent,
    make_user,
    pool,
)


def _pushed(db_session, enterprise: Enterprise) -> Push:
    patent = make_patent(db_session, make_institution(db_session), title="一种正极材料再生方法")
    rnd = PushRound(per_patent=5, per_enterprise_cap=50)
    db_session.add(rnd)
    db_session.flush()
    push = Push(
        round_id=rnd.id,
        patent_id=patent.id,
        enterprise_id=enterprise.id,
        rank=1,
        score=0.87,
        explanation={"shared_terms": ["正极材料", "再生"], "industry": "C38"},
    )
    db_session.add(push)
    db_session.flush()
    return push


def test_enterprise_sees_its_push_list_and_gives_feedback(client: TestClient, db_session) -> None:
    ent = make_enterprise(db_session)
    push = _pushed(db_session, ent)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    page = client.get("/workspace/enterprise")
    assert "一种正极材料再生方法" in page.text and "shared_terms: 正极材料、再生" in page.text
    token = csrf_of(client, "/workspace/enterprise")
    bad = client.post(
        f"/workspace/enterprise/feedback/{push.id}",
        data={"csrf_token": token, "prospect": "9", "intent": "洽谈"},
    )
    assert bad.status_code == 422 and f'id="err-feedback-{push.id}"' in bad.text
    ok = client.post(
        f"/workspace/enterprise/feedback/{push.id}",
        data={
            "csrf_token": token,
            "prospect": "4",
            "intent": "洽谈",
            "improvement_needs": "希望提高循环寿命",
        },
    )
    assert ok.status_code == 200 and "已提交评价" in ok.text
    fb = db_session.query(Feedback).filter_by(push_id=push.id).one()
    assert (fb.prospect, fb.intent, fb.source) == (4, "洽谈", "web")


def test_feedback_has_no_default_score_and_returns_to_the_item(
    client: TestClient, db_session
) -> None:
    """产业化前景 starts unchosen (a stray tap recorded the lowest score); a sent form lands
    back on its item; the feedback URL opened by reload or back is the page, not a 405."""
    ent = make_enterprise(db_session)
    push = _pushed(db_session, ent)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    page = client.get("/workspace/enterprise")
    assert '<option value="" selected>请选择</option>' in page.text
    assert f'action="/workspace/enterprise/feedback/{push.id}#push-{push.id}"' in page.text
    token = csrf_of(client, "/workspace/enterprise")
    unchosen = client.post(
        f"/workspace/enterprise/feedback/{push.id}",
        data={"csrf_token": token, "prospect": "", "intent": "洽谈"},
    )
    assert unchosen.status_code == 422 and "请选择产业化前景" in unchosen.text
    assert db_session.query(Feedback).filter_by(push_id=push.id).count() == 0
    sent = client.post(
        f"/workspace/enterprise/feedback/{push.id}",
        data={"csrf_token": token, "prospect": "3", "intent": "洽谈"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/workspace/enterprise?saved={push.id}#push-{push.id}"
    again = client.get(f"/workspace/enterprise/feedback/{push.id}", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == f"/workspace/enterprise#push-{push.id}"


def test_saving_the_profile_confirms_and_shows_fresh_recommendations(
    client: TestClient, db_session
) -> None:
    ent = make_enterprise(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    token = csrf_of(client, "/workspace/enterprise")
    saved = client.post(
        "/workspace/enterprise/profile",
        data={"csrf_token": token, "business_scope": "动力电池回收与正极材料再生"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/workspace/enterprise?saved=profile#recommended"
    page = client.get(saved.headers["location"])
    assert 'id="profile-saved"' in page.text and "推荐已按新资料更新" in page.text
    assert 'id="recommended"' in page.text


def test_feedback_on_another_enterprises_push_is_refused(client: TestClient, db_session) -> None:
    mine, theirs = make_enterprise(db_session), make_enterprise(db_session)
    push = _pushed(db_session, theirs)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=mine.id))
    token = csrf_of(client, "/workspace/enterprise")
    response = client.post(
        f"/workspace/enterprise/feedback/{push.id}",
        data={"csrf_token": token, "prospect": "5", "intent": "转让"},
    )
    # Someone else's push reads as one that does not exist (no oracle): 404.
    assert response.status_code == 404
    assert db_session.query(Feedback).filter_by(push_id=push.id).count() == 0


def test_enterprise_creates_and_edits_demands(client: TestClient, db_session) -> None:
    ent = make_enterprise(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    token = csrf_of(client, "/workspace/enterprise")
    empty = client.post(
        "/workspace/enterprise/demands",
        data={"csrf_token": token, "title": "", "visibility": "public"},
    )
    assert empty.status_code == 422 and 'id="err-demand-title"' in empty.text
    bad_budget = client.post(
        "/workspace/enterprise/demands",
        data={"csrf_token": token, "title": "降本需求", "budget": "很多", "visibility": "public"},
    )
    assert bad_budget.status_code == 422 and 'id="err-demand-budget"' in bad_budget.text
    created = client.post(
        "/workspace/enterprise/demands",
        data={
            "csrf_token": token,
            "title": "电解液回收工艺",
            "budget": "200",
            "deadline": "2027-06-30",
            "visibility": "public",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    demand = db_session.query(Demand).filter_by(enterprise_id=ent.id).one()
    assert demand.title == "电解液回收工艺" and str(demand.deadline) == "2027-06-30"
    edited = client.post(
        f"/workspace/enterprise/demands/{demand.id}",
        data={"csrf_token": token, "title": "电解液回收与提纯", "status": "closed"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    db_session.refresh(demand)
    assert (demand.title, demand.status) == ("电解液回收与提纯", "closed")
    assert "提纯" in demand.search_text


def test_enterprise_updates_its_profile(client: TestClient, db_session) -> None:
    ent = make_enterprise(db_session)
    login(client, make_user(db_session, "enterprise_user", enterprise_id=ent.id))
    token = csrf_of(client, "/workspace/enterprise")
    bad = client.post(
        "/workspace/enterprise/profile",
        data={"csrf_token": token, "industry_code": "ZZ9", "business_scope": "x"},
    )
    assert bad.status_code == 422 and 'id="err-industry_code"' in bad.text
    ok = client.post(
        "/workspace/enterprise/profile",
        data={"csrf_token": token, "industry_code": "c38", "business_scope": "储能电池系统集成"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    db_session.refresh(ent)
    # Stored bare, as the importers store it (GB/T 4754: C38 → 38), so 大类 filters find it.
    assert ent.industry_code == "38" and "储能电池" in ent.search_text


def test_institution_workspace_shows_pool_and_progress(client: TestClient, db_session) -> None:
    inst = make_institution(db_session)
    patent = make_patent(db_session, inst, title="一种可降解塑料")
    pool(db_session, patent)
    batch = InventoryBatch(institution_id=inst.id, name="2025 年度盘点")
    db_session.add(batch)
    db_session.flush()
    db_session.add(
        InventoryItem(
            batch_id=batch.id, patent_id=patent.id, institution_id=inst.id, status="approved"
        )
    )
    db_session.flush()
    login(client, make_user(db_session, "institution_staff", institution_id=inst.id))
    page = client.get("/workspace/institution")
    assert page.status_code == 200
    assert "2025 年度盘点" in page.text and "一种可降解塑料" in page.text
    assert f"/market/new?patent_id={patent.id}" in page.text


def test_self_assessment_and_review_screens(client: TestClient, db_session) -> None:
    from shuanglian.inventory.models import PoolEntry

    inst = make_institution(db_session)
    patent = make_patent(db_session, inst, title="一种耐高温涂层")
    batch = InventoryBatch(institution_id=inst.id, name="第一批")
    db_session.add(batch)
    db_session.flush()
    item = InventoryItem(
        batch_id=batch.id, patent_id=patent.id, institution_id=inst.id, status="draft"
    )
    db_session.add(item)
    db_session.flush()
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    login(client, staff)
    queue = client.get("/workspace/institution/items", params={"status": "draft"})
    assert "一种耐高温涂层" in queue.text
    token = csrf_of(client, f"/workspace/institution/items/{item.id}")
    form = {
        "csrf_token": token,
        "publicly_funded": "1",
        "implementation_status": "未实施",
        "transfer_mode": "许可",
        "trl": "12",
        "value_grade": "高",
        "value_reason": "核心专利",
        "scenarios": "航空发动机叶片",
        "contact_name": "赵六",
        "action": "submit",
    }
    bad = client.post(f"/workspace/institution/items/{item.id}/assessment", data=form)
    assert bad.status_code == 422 and 'id="err-trl"' in bad.text and "航空发动机叶片" in bad.text
    ok = client.post(
        f"/workspace/institution/items/{item.id}/assessment",
        data={**form, "trl": "5"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    db_session.refresh(item)
    # No college assigned: the item goes straight to the institution's review.
    assert item.status == "institution_review" and item.assessment.trl == 5
    client.post("/logout", data={"csrf_token": token})
    login(client, make_user(db_session, "admin"))
    token = csrf_of(client, f"/workspace/institution/items/{item.id}")
    no_comment = client.post(
        f"/workspace/institution/items/{item.id}/review",
        data={"csrf_token": token, "decision": "return"},
    )
    assert no_comment.status_code == 422 and 'id="err-decision"' in no_comment.text
    done = client.post(
        f"/workspace/institution/items/{item.id}/review",
        data={"csrf_token": token, "decision": "approve"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    db_session.refresh(item)
    assert item.status == "approved"
    assert db_session.query(PoolEntry).filter_by(patent_id=patent.id, active=True).count() == 1


def test_other_institutions_items_are_hidden(client: TestClient, db_session) -> None:
    inst, other = make_institution(db_session), make_institution(db_session)
    patent = make_patent(db_session, inst)
    batch = InventoryBatch(institution_id=inst.id, name="私有批次")
    db_session.add(batch)
    db_session.flush()
    item = InventoryItem(batch_id=batch.id, patent_id=patent.id, institution_id=inst.id)
    db_session.add(item)
    db_session.flush()
    login(client, make_user(db_session, "institution_staff", institution_id=other.id))
    assert client.get(f"/workspace/institution/items/{item.id}").status_code == 404
    assert "私有批次" not in client.get("/workspace/institution/items").text


def test_explanations_read_as_sentences_first() -> None:
    from shuanglian.enterprises.pages import explanation_lines

    lines = explanation_lines(
        {"method": "industry_link", "division": "38", "reason": "专利 IPC 关联行业大类 38"}
    )
    assert lines[0] == "专利 IPC 关联行业大类 38"
    assert "method: industry_link" in lines and len(lines) == 3
    assert explanation_lines(None) == [] and explanation_lines({}) == []


def test_a_demand_asks_who_sees_it_and_each_view_honours_the_choice(
    client: TestClient, db_session
) -> None:
    """No visibility is preset; anonymous hides the company on every public view and in the
    API; matched shows the demand only to institutions whose patents were pushed to the
    company. Status, budget and breadcrumbs read as words."""
    ent = make_enterprise(db_session)
    owner = make_user(db_session, "enterprise_user", enterprise_id=ent.id)
    login(client, owner)
    token = csrf_of(client, "/workspace/enterprise")
    form = client.get("/workspace/enterprise").text
    assert "公开了企业的技术短板" in form and 'name="visibility" value="public" checked' not in form
    unchosen = client.post(
        "/workspace/enterprise/demands", data={"csrf_token": token, "title": "降低电解液成本"}
    )
    assert unchosen.status_code == 422 and 'id="err-demand-visibility"' in unchosen.text
    for title, visibility in (("匿名的需求标题", "anonymous"), ("只给匹配机构的需求", "matched")):
        made = client.post(
            "/workspace/enterprise/demands",
            data={"csrf_token": token, "title": title, "visibility": visibility, "budget": "80"},
            follow_redirects=False,
        )
        assert made.status_code == 303
    anonymous = db_session.query(Demand).filter_by(title="匿名的需求标题").one()
    matched = db_session.query(Demand).filter_by(title="只给匹配机构的需求").one()
    mine = client.get("/workspace/enterprise").text
    assert "征集中" in mine and "80 万元" in mine and "80.0000" not in mine
    edit = client.get(f"/workspace/enterprise/demands/{anonymous.id}").text
    assert "我的需求</a> › 匿名的需求标题" in edit
    client.post("/logout", data={"csrf_token": token})
    client.cookies.clear()

    # The public: the anonymous demand without its company, the matched one not at all.
    listing = client.get("/demands").text
    assert "匿名的需求标题" in listing and "匿名企业" in listing and ent.name not in listing
    assert "只给匹配机构的需求" not in listing
    page = client.get(f"/demands/{anonymous.id}").text
    assert "匿名企业" in page and ent.name not in page and "征集中" in page and ">open<" not in page
    assert client.get(f"/demands/{matched.id}").status_code == 404
    assert "匿名的需求标题" not in client.get(f"/enterprises/{ent.id}").text
    api = client.get(f"/api/v1/demands/{anonymous.id}").json()
    assert api["enterprise_id"] is None and api["visibility"] == "anonymous"
    assert client.get(f"/api/v1/demands/{matched.id}").status_code == 404
    titles = [d["title"] for d in client.get("/api/v1/demands").json()["items"]]
    assert "只给匹配机构的需求" not in titles
    assert client.get(f"/api/v1/demands?enterprise_id={ent.id}").json()["items"] == []

    # Staff of an institution pushed to the company see the matched demand; others do not.
    push = _pushed(db_session, ent)
    pushed_inst = db_session.get(Patent, push.patent_id).institution_id
    other = make_user(
        db_session, "institution_staff", institution_id=make_institution(db_session).id
    )
    login(client, other)
    assert client.get(f"/demands/{matched.id}").status_code == 404
    client.cookies.clear()
    login(client, make_user(db_session, "institution_staff", institution_id=pushed_inst))
    assert client.get(f"/demands/{matched.id}").status_code == 200
    assert "只给匹配机构的需求" in client.get("/demands").text
