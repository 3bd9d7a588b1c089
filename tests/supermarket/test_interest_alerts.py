"""收藏, 关注 and the new-match alerts (`shuanglian market alerts`): each user is e-mailed the
listings published since they followed a search or an industry, each listing once, however
often the command runs. E-mail is captured in the outbox (no SMTP configured). Both databases,
and the command itself end to end on SQLite."""

from __future__ import annotations

import json
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from shuanglian.cli.main import app as cli_app
from shuanglian.config import Settings
from shuanglian.db import Base, make_engine, make_session_factory, session_scope, utcnow
from shuanglian.errors import DomainError, PermissionDenied
from shuanglian.supermarket import interest
from shuanglian.supermarket.alerts import send_alerts
from shuanglian.supermarket.models import AlertSent, MarketFollow
from shuanglian.supermarket.service import set_listing_status
from tests.web.factories import csrf_of, login, make_institution, make_listing, make_user


def outbox(home: Path) -> list[EmailMessage]:
    found = []
    for path in sorted((home / "outbox").glob("*.eml")):
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


def _commit(session: Session) -> None:
    # after-commit hooks (the e-mails) run on the test session's commit, as in the CLI.
    session.commit()


def test_alerts_send_each_new_match_once(db_session: Session, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, mail_from="market@example.org")
    inst = make_institution(db_session)
    old = make_listing(db_session, inst, title="锂电池回收旧技术")
    old.published_at = utcnow() - timedelta(days=1)  # published before anyone followed
    reader = make_user(db_session, "tech_manager", email="reader@example.com")
    other = make_user(db_session, "tech_manager", email="tm@example.com")
    mute = make_user(db_session, "tech_manager")  # no e-mail: counted, nothing sent
    interest.follow(db_session, user=reader, query="锂电池", industry="")
    interest.follow(db_session, user=other, query="", industry="C42")
    interest.follow(db_session, user=mute, query="锂电池", industry=None)
    for row in db_session.scalars(select(MarketFollow)):
        # Followed an hour ago, so "published after the follow" does not hang on clock ticks.
        row.created_at = utcnow() - timedelta(hours=1)
    second = make_listing(db_session, inst, title="锂电池回收新技术")
    new_one = make_listing(db_session, inst, title="废旧锂电池梯次利用", industries=["C42"])
    unrelated = make_listing(db_session, inst, title="盐碱地改良剂")
    draft = make_listing(db_session, inst, title="锂电池草稿", publish=False)
    report = send_alerts(db_session, settings=settings, base_url="http://t.example")
    _commit(db_session)
    assert report.users_without_email == 1
    mails = {m["To"]: m for m in outbox(tmp_path)}
    assert set(mails) == {"reader@example.com", "tm@example.com"}
    reader_text = mails["reader@example.com"].get_content()
    assert "废旧锂电池梯次利用" in reader_text and second.title in reader_text
    assert f"http://t.example/market/{new_one.id}" in reader_text
    assert "锂电池回收旧技术" not in reader_text  # published before the follow
    assert "盐碱地" not in reader_text and "草稿" not in reader_text
    tm_text = mails["tm@example.com"].get_content()
    assert "废旧锂电池梯次利用" in tm_text and second.title not in tm_text
    assert unrelated.id and draft.id

    # Running again sends nothing: everything announced is recorded.
    again = send_alerts(db_session, settings=settings, base_url="http://t.example")
    _commit(db_session)
    assert (again.users_mailed, again.listings_sent) == (0, 0)
    assert len(outbox(tmp_path)) == 2

    # A listing published later is sent, alone; publishing the draft now makes it new too.
    later = make_listing(db_session, inst, title="锂电池低温电解液")
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    set_listing_status(db_session, actor=staff, listing_id=draft.id, status="published")
    third = send_alerts(db_session, settings=settings, base_url="http://t.example")
    _commit(db_session)
    assert (third.users_mailed, third.listings_sent) == (1, 2)
    seen = {m["Message-ID"] for m in mails.values()}
    [newest_mail] = [m for m in outbox(tmp_path) if m["Message-ID"] not in seen]
    assert newest_mail["To"] == "reader@example.com"
    newest = newest_mail.get_content()
    assert "锂电池低温电解液" in newest and "锂电池草稿" in newest
    assert "梯次利用" not in newest
    sent = db_session.scalar(
        select(func.count()).select_from(AlertSent).where(AlertSent.user_id == reader.id)
    )
    assert sent == 4 and later.id


def test_save_and_follow_rules(db_session: Session) -> None:
    inst = make_institution(db_session)
    listing = make_listing(db_session, inst)
    draft = make_listing(db_session, inst, title="未上架成果", publish=False)
    user = make_user(db_session, "tech_manager")
    first = interest.save_listing(db_session, user=user, listing_id=listing.id)
    assert interest.save_listing(db_session, user=user, listing_id=listing.id).id == first.id
    assert [x.id for x in interest.saved_listings(db_session, user=user)] == [listing.id]
    with pytest.raises(DomainError):
        interest.save_listing(db_session, user=user, listing_id=draft.id)  # not public
    with pytest.raises(PermissionDenied):
        interest.save_listing(db_session, user=None, listing_id=listing.id)
    interest.unsave_listing(db_session, user=user, listing_id=listing.id)
    assert interest.saved_listings(db_session, user=user) == []

    with pytest.raises(DomainError, match="请先输入搜索词或选择行业"):
        interest.follow(db_session, user=user, query="  ", industry="")
    with pytest.raises(DomainError, match="不在 GB/T 4754-2017 中"):
        interest.follow(db_session, user=user, query="", industry="9999")
    row = interest.follow(db_session, user=user, query=" 锂电池  回收 ", industry="38")
    assert (row.query, row.industry) == ("锂电池 回收", "C38")
    same = interest.follow(db_session, user=user, query="锂电池 回收", industry="C38")
    assert same.id == row.id
    someone = make_user(db_session, "tech_manager")
    with pytest.raises(DomainError):
        interest.unfollow(db_session, user=someone, follow_id=row.id)
    interest.unfollow(db_session, user=user, follow_id=row.id)
    assert interest.follows_of(db_session, user=user) == []


def test_save_and_follow_from_the_pages(client: TestClient, db_session: Session) -> None:
    inst = make_institution(db_session)
    listing = make_listing(
        db_session,
        inst,
        plain_summary="把废电池里的锂、钴、镍拿回来再用。",
        benefits="回收率 95%，比火法节能 40%。",
        contact_name="张工",
        contact_role="技术经理人",
        contact_phone="024-2369 0000",
    )
    page = client.get(f"/market/{listing.id}").text
    for text in (
        "把废电池里的锂",
        "回收率 95%",
        "张工（技术经理人）",
        "024-2369 0000",
        "登录后收藏",
    ):
        assert text in page
    assert "法律状态" in page and ("保护期至" in page or "到期日未知" in page)
    assert "复制链接" in page and f"/market/{listing.id}/qr.svg" in page
    user = make_user(db_session, "tech_manager")
    login(client, user)
    token = csrf_of(client, f"/market/{listing.id}")
    saved = client.post(f"/market/{listing.id}/save", data={"csrf_token": token})
    assert saved.status_code == 200 and "已收藏" in saved.text
    assert listing.title in client.get("/market/saved").text
    followed = client.post("/market/follows", data={"csrf_token": token, "q": "锂电池"})
    assert "已关注此搜索" in followed.text
    assert "“锂电池”" in client.get("/market/saved").text
    refused = client.post("/market/follows", data={"csrf_token": token, "q": ""})
    assert refused.status_code == 422 and "请先输入搜索词" in refused.text
    assert client.post("/market/follows", data={"q": "x"}).status_code == 403  # CSRF
    en = client.get(f"/market/{listing.id}?lang=en").text
    assert "Saved · remove" in en and "Share link" in en


def test_the_alerts_command_is_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, database_url=None, mail_from="market@example.org")
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    with session_scope(make_session_factory(engine)) as session:
        inst = make_institution(session)
        user = make_user(session, "tech_manager", email="cron@example.com")
        row = interest.follow(session, user=user, query="", industry="C42")
        row.created_at = utcnow() - timedelta(minutes=1)
        make_listing(session, inst, title="电池梯次利用", industries=["C42"])
    engine.dispose()
    env = {"SHUANGLIAN_HOME": str(home), "SHUANGLIAN_DATABASE_URL": ""}
    runner = CliRunner()
    runs = []
    for _ in range(2):
        result = runner.invoke(cli_app, ["market", "alerts", "--json"], env=env)
        assert result.exit_code == 0, result.output
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert runs[0] == {"users_mailed": 1, "listings_sent": 1, "users_without_email": 0}
    assert runs[1]["listings_sent"] == 0
    [mail] = outbox(home)
    assert mail["To"] == "cron@example.com" and "电池梯次利用" in mail.get_content()


def test_the_institution_edits_what_people_act_on(client: TestClient, db_session: Session) -> None:
    inst = make_institution(db_session)
    listing = make_listing(db_session, inst)
    staff = make_user(db_session, "institution_staff", institution_id=inst.id)
    login(client, staff)
    url = f"/market/{listing.id}/edit"
    editor = client.get(url).text
    for label in ("通俗介绍", "效益", "联系人身份", "公开联系电话"):
        assert label in editor
    form = {
        "csrf_token": csrf_of(client, url),
        "title": listing.title,
        "summary": listing.summary,
        "modes": ["licence"],
        "plain_summary": "一句话：让旧电池变成新原料。",
        "benefits": "每吨节省 3 万元。",
        "contact_name": "李老师",
        "contact_role": "技术经理人",
        "contact_phone": "电话打不通",
    }
    refused = client.post(url, data=form)
    assert refused.status_code == 422 and "联系电话格式不正确" in refused.text
    assert 'value="李老师"' in refused.text  # what was typed is kept
    saved = client.post(url, data=form | {"contact_phone": "+86 24 2369 0000"})
    assert saved.status_code == 200
    db_session.refresh(listing)
    assert (listing.plain_summary, listing.benefits, listing.contact_role) == (
        "一句话：让旧电池变成新原料。",
        "每吨节省 3 万元。",
        "技术经理人",
    )
    assert listing.contact_phone == "+86 24 2369 0000"
    api = client.get(f"/api/v1/listings/{listing.id}").json()
    assert (
        api["plain_summary"] == "一句话：让旧电池变成新原料。" and api["contact_name"] == "李老师"
    )
