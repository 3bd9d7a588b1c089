"""Challenges and pilots through HTTP: forms, refusals at the field, the API, privacy, bell."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from shuanglian.challenges import service
from shuanglian.notifications import Notification
from tests.challenges.factories import TODAY, apply, make_challenge
from tests.web.factories import csrf_of, login, make_enterprise, make_institution, make_user


def _form(**kw: str) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "高速冲压模具寿命提升",
        "problem": "冲压模具在高速工况下磨损快，平均寿命仅 8 万次。",
        "summary": "提升模具寿命",
        "budget": "120",
        "industry": "33",
        "application_deadline": (TODAY + timedelta(days=20)).isoformat(),
        "delivery_deadline": (TODAY + timedelta(days=120)).isoformat(),
        "ind_name": ["模具寿命", "表面粗糙度"],
        "ind_unit": ["万次", "μm"],
        "ind_cmp": [">=", "<="],
        "ind_target": ["20", "0.8"],
        "ind_max": ["", ""],
        "ind_method": ["产线计数", "粗糙度仪"],
        "visibility": "public",
    }
    data.update(kw)
    return data


def test_post_apply_decide_through_pages(client: TestClient, db_session: Session) -> None:
    ent = make_enterprise(db_session)
    owner = make_user(db_session, "enterprise_user", enterprise_id=ent.id)
    inst = make_institution(db_session)
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    login(client, owner)
    token = csrf_of(client, "/challenges/new")
    bad = client.post("/challenges/new", data={**_form(budget="0"), "csrf_token": token})
    assert bad.status_code == 422 and "榜额须大于 0" in bad.text and 'id="err-budget"' in bad.text
    no_unit = client.post(
        "/challenges/new", data={**_form(ind_unit=["", "μm"]), "csrf_token": token}
    )
    assert no_unit.status_code == 422 and "缺少单位" in no_unit.text
    made = client.post(
        "/challenges/new",
        data={**_form(), "do": "publish", "csrf_token": token},
        follow_redirects=False,
    )
    assert made.status_code == 303
    cid = int(made.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/challenges/{cid}")
    assert "征集中" in page.text and "模具寿命" in page.text and "≥ 20 万次" in page.text
    assert "高速冲压模具寿命提升" in client.get("/challenges?q=冲压").text
    assert "Open for applications" in client.get(f"/challenges/{cid}?lang=en").text
    client.post("/logout", data={"csrf_token": csrf_of(client, "/challenges")})

    login(client, staff)
    token = csrf_of(client, f"/challenges/{cid}/apply")
    applied = client.post(
        f"/challenges/{cid}/apply",
        data={
            "csrf_token": token,
            "team_name": "精密成形团队",
            "member_name": ["赵六"],
            "member_role": ["负责人"],
            "approach": "PVD 涂层 + 结构优化",
            "price": "100",
            "duration_days": "90",
            "ms_title": ["涂层试制"],
            "ms_deliverable": ["样件"],
            "ms_due": [(TODAY + timedelta(days=60)).isoformat()],
            "ms_amount": ["40"],
        },
        follow_redirects=False,
    )
    assert applied.status_code == 303, applied.text[:2000]
    app_url = applied.headers["location"]
    assert "精密成形团队" in client.get(app_url).text
    client.post("/logout", data={"csrf_token": csrf_of(client, "/challenges")})

    login(client, owner)
    assert (
        'class="bell"' in client.get("/challenges").text
        and 'class="count">' in client.get("/challenges").text
    )
    compare = client.get(f"/challenges/{cid}/applications")
    assert "精密成形团队" in compare.text and "PVD 涂层" in compare.text
    aid = int(app_url.rsplit("/", 1)[1])
    token = csrf_of(client, f"/challenges/{cid}/applications")
    refused = client.post(
        f"/challenges/applications/{aid}/action",
        data={"csrf_token": token, "action": "reject", "reason": ""},
    )
    # The page is in English since `?lang=en` above: the refusal speaks English too.
    assert refused.status_code == 400 and "reason is required" in refused.text.lower()
    client.post(
        f"/challenges/applications/{aid}/action", data={"csrf_token": token, "action": "accept"}
    )
    api = client.get(f"/api/v1/challenges/applications/{aid}").json()
    assert api["status"] == "accepted" and api["milestones"][0]["title"] == "涂层试制"
    wrong = client.post(
        f"/api/v1/challenges/{cid}/actions",
        json={"action": "begin_verification"},
        headers={"X-CSRF-Token": token},
    )
    assert wrong.status_code == 400
    assert (
        "征集中" in wrong.json()["error"]["message"]
        and "开始攻关" in wrong.json()["error"]["message"]
    )


def test_the_bell_speaks_the_page_language(client: TestClient, db_session: Session) -> None:
    """A team's application tells the enterprise in both languages: /notifications and its API
    show the Chinese by default and the English with `?lang=en`; a notification stored before
    English was kept reads in Chinese either way."""
    ent = make_enterprise(db_session)
    owner = make_user(db_session, "enterprise_user", enterprise_id=ent.id)
    staff = make_user(
        db_session, "institution_staff", institution_id=make_institution(db_session).id
    )
    ch = make_challenge(db_session, owner)
    service.act_on_challenge(db_session, actor=owner, challenge_id=ch.id, action="publish")
    apply(db_session, staff, ch)  # 湿法冶金课题组, 180 万元, 150 days
    db_session.add(Notification(user_id=owner.id, kind="legacy", title="旧通知：只有中文"))
    db_session.flush()
    zh_title = f"“{ch.title}”收到新的揭榜申请：湿法冶金课题组"
    en_title = f"New application to “{ch.title}”: 湿法冶金课题组"
    zh_body, en_body = "报价 180 万元，工期 150 天", "Price 180 × 10k CNY, duration 150 days"

    login(client, owner)
    page = client.get("/notifications").text
    assert zh_title in page and zh_body in page and "旧通知：只有中文" in page
    assert en_title not in page and en_body not in page
    english = client.get("/notifications?lang=en").text
    assert en_title in english and en_body in english and "旧通知：只有中文" in english
    assert zh_title not in english and zh_body not in english

    def api(lang: str) -> list[tuple[str, str | None]]:
        items = client.get(f"/api/v1/notifications?lang={lang}").json()["items"]
        return [(n["title"], n["body"]) for n in items]

    assert api("en") == [("旧通知：只有中文", None), (en_title, en_body)]
    assert api("zh") == [("旧通知：只有中文", None), (zh_title, zh_body)]
    assert zh_title in client.get("/notifications").text  # back in Chinese (the cookie)


def test_privacy_nda_and_anonymous(client: TestClient, db_session: Session) -> None:
    ent = make_enterprise(db_session, name="保密材料股份有限公司")
    owner = make_user(db_session, "enterprise_user", enterprise_id=ent.id)
    ch = make_challenge(
        db_session, owner, visibility="nda", anonymous=True, problem="机密工艺参数：烧结温度 1350℃"
    )
    service.act_on_challenge(db_session, actor=owner, challenge_id=ch.id, action="publish")
    public = client.get(f"/challenges/{ch.id}")
    assert "1350" not in public.text and "保密材料" not in public.text and "匿名企业" in public.text
    api = client.get(f"/api/v1/challenges/{ch.id}").json()
    assert (
        api["problem"] is None
        and api["indicators"] is None
        and api["enterprise"].startswith("匿名")
    )
    manager = make_user(db_session, "tech_manager")
    login(client, manager)
    token = csrf_of(client, f"/challenges/{ch.id}")
    client.post(f"/challenges/{ch.id}/nda", data={"csrf_token": token})
    seen = client.get(f"/challenges/{ch.id}")
    assert "1350" in seen.text and "保密材料" not in seen.text
    app = apply(db_session, manager, ch)
    service.decide_application(db_session, actor=owner, application_id=app.id, action="shortlist")
    assert "保密材料股份有限公司" in client.get(f"/challenges/{ch.id}").text


def test_pilot_pages_and_api(client: TestClient, db_session: Session) -> None:
    from shuanglian.pilots import service as pilots

    admin = make_user(db_session, "admin")
    pilots.create_platform(
        db_session,
        actor=admin,
        data=pilots.PlatformInput(
            name="浙江化工中试平台",
            operator="浙江大学",
            level="provincial",
            province="浙江",
            city="杭州",
            industries=["26"],
            ipc_classes=["C07C"],
            services=["pilot", "testing"],
            capacity=2,
        ),
    )
    page = client.get("/pilots?level=provincial&service=testing&province=浙江")
    assert "浙江化工中试平台" in page.text and "各省平台数量排名" in page.text
    assert "没有符合条件的平台" in client.get("/pilots?level=national").text
    data = client.get("/api/v1/pilots?field=C07C").json()
    assert data["total"] == 1 and data["items"][0]["services"] == ["pilot", "testing"]
    assert client.get("/api/v1/pilots/by-province").json()[0] == {
        "province": "浙江",
        "platforms": 1,
        "national": 0,
    }
