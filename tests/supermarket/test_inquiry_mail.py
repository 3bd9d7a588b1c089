"""A visitor's inquiry is forwarded by e-mail to the institution's staff after it is stored:
into the outbox without SMTP, through a real local SMTP server with it, and a failing server
neither loses the inquiry nor shows the visitor an error. Both databases."""

from __future__ import annotations

import logging
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuanglian import mail
from shuanglian.config import Settings
from shuanglian.supermarket import notify
from shuanglian.supermarket.models import Inquiry, Listing
from tests.smtp_server import smtp_server
from tests.web.factories import csrf_of, make_institution, make_listing, make_user

VISITOR = {
    "name": "李四",
    "organisation": "江苏某电池材料有限公司",
    "email": "li@example.com",
    "phone": "+86 139-0000-0000",
    "message": "我们想许可这项回收技术，请联系我。",
}


@pytest.fixture
def home(app: FastAPI, db_settings: Settings, tmp_path: Path) -> Path:
    """Give the app a home of this test's own, so its outbox starts empty."""
    use_settings(app, db_settings, home=tmp_path)
    return tmp_path


def use_settings(app: FastAPI, base: Settings, **changes: object) -> Settings:
    settings = base.model_copy(
        update={"database_url": base.resolved_database_url, "mail_from": "market@example.org"}
        | changes
    )
    app.state.settings = settings
    return settings


def _staffed_listing(session) -> tuple[Listing, list[str]]:
    """A published listing whose institution has two staff with e-mail, and people who must
    not be told: staff without e-mail, inactive staff, an admin, another institution's staff."""
    inst = make_institution(session)
    listing = make_listing(session, inst, title="废旧锂电池高效回收技术")
    wanted = ["tto@example.edu.cn", "kjc@example.edu.cn"]
    for address in wanted:
        make_user(session, "institution_staff", institution_id=inst.id, email=address)
    make_user(session, "institution_staff", institution_id=inst.id)
    gone = make_user(session, "institution_staff", institution_id=inst.id, email="old@x.cn")
    gone.is_active = False
    make_user(session, "admin", email="admin@example.org")
    other = make_institution(session)
    make_user(session, "institution_staff", institution_id=other.id, email="other@x.cn")
    session.flush()
    return listing, wanted


def _contact(client: TestClient, listing: Listing, **changes: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client, f"/market/{listing.id}")
    return client.post(
        f"/market/{listing.id}/contact", data={"csrf_token": token, **VISITOR, **changes}
    )


def _parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _outbox(home: Path) -> list[Path]:
    folder = home / "outbox"
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_without_smtp_the_notice_is_written_to_the_outbox(
    client: TestClient, db_session, home: Path
) -> None:
    listing, wanted = _staffed_listing(db_session)
    response = _contact(client, listing)
    assert response.status_code == 200 and "留言已发送" in response.text
    [path] = _outbox(home)
    notice = _parse(path.read_bytes())
    assert [a.addr_spec for a in notice["To"].addresses] == wanted
    assert notice["From"] == "market@example.org"
    assert notice["Reply-To"].addresses[0].addr_spec == "li@example.com"
    assert listing.number in notice["Subject"] and listing.title in notice["Subject"]
    body = notice.get_content()
    for expected in (
        listing.number,
        listing.title,
        f"http://testserver/market/{listing.id}",
        VISITOR["message"],
        VISITOR["name"],
        VISITOR["organisation"],
        VISITOR["email"],
        VISITOR["phone"],
        "请尽快回复",  # zh-CN
        "Please reply soon",  # and English
    ):
        assert expected in body, expected
    assert db_session.query(Inquiry).filter_by(listing_id=listing.id).count() == 1


def test_the_public_url_setting_is_used_for_links(
    app: FastAPI, client: TestClient, db_session, db_settings: Settings, tmp_path: Path
) -> None:
    use_settings(app, db_settings, home=tmp_path, public_url="https://market.example.org/")
    listing, _ = _staffed_listing(db_session)
    _contact(client, listing, email="", phone="010-12345678")
    [path] = _outbox(tmp_path)
    notice = _parse(path.read_bytes())
    body = notice.get_content()
    assert f"https://market.example.org/market/{listing.id}\n" in body
    assert "testserver" not in body
    assert notice["Reply-To"] is None  # no e-mail left: staff call the phone in the text
    assert "010-12345678" in body


def test_a_rejected_inquiry_sends_nothing(client: TestClient, db_session, home: Path) -> None:
    listing, _ = _staffed_listing(db_session)
    response = _contact(client, listing, email="not-an-address")
    assert response.status_code == 422
    assert _outbox(home) == []


def test_with_smtp_the_notice_arrives(
    app: FastAPI, client: TestClient, db_session, db_settings: Settings, tmp_path: Path
) -> None:
    listing, wanted = _staffed_listing(db_session)
    with smtp_server() as sink:
        use_settings(
            app,
            db_settings,
            home=tmp_path,
            smtp_host=sink.host,
            smtp_port=sink.port,
            smtp_starttls=False,
        )
        response = _contact(client, listing)
    assert response.status_code == 200 and "留言已发送" in response.text
    [received] = sink.messages
    assert received.rcpt_to == wanted and received.mail_from == "market@example.org"
    body = _parse(received.data).get_content()
    assert VISITOR["message"] in body and listing.number in body
    assert _outbox(tmp_path) == []


def test_a_failing_smtp_server_keeps_the_inquiry_and_the_notice(
    app: FastAPI, client: TestClient, db_session, db_settings: Settings, tmp_path: Path, caplog
) -> None:
    listing, wanted = _staffed_listing(db_session)
    with smtp_server(reject_sender=True) as sink:
        use_settings(
            app,
            db_settings,
            home=tmp_path,
            smtp_host=sink.host,
            smtp_port=sink.port,
            smtp_starttls=False,
        )
        with caplog.at_level(logging.WARNING, logger="shuanglian.mail"):
            response = _contact(client, listing)
    assert response.status_code == 200 and "留言已发送" in response.text
    assert "Traceback" not in response.text
    stored = db_session.query(Inquiry).filter_by(listing_id=listing.id).one()
    assert stored.message == VISITOR["message"]
    [path] = _outbox(tmp_path)
    notice = _parse(path.read_bytes())
    assert [a.addr_spec for a in notice["To"].addresses] == wanted
    assert "SMTP failed" in notice[mail.OUTBOX_HEADER]
    assert "not delivered" in caplog.text and sink.messages == []


def test_an_institution_without_staff_e_mail_still_gets_an_outbox_copy(
    client: TestClient, db_session, home: Path
) -> None:
    listing = make_listing(db_session, make_institution(db_session))
    assert _contact(client, listing).status_code == 200
    [path] = _outbox(home)
    notice = _parse(path.read_bytes())
    assert notice["To"] is None and notice[mail.OUTBOX_HEADER] == "no recipient"


def test_recipients_are_active_staff_with_e_mail(db_session) -> None:
    listing, wanted = _staffed_listing(db_session)
    assert notify.inquiry_recipients(db_session, institution_id=listing.institution_id) == wanted


def test_the_contact_form_cannot_flood_an_institution(
    client: TestClient, db_session, home: Path
) -> None:
    """A few messages per listing and contact; the next one is refused, stored nowhere and
    mailed to nobody, with the wait in the answer; other listings can still be asked about."""
    from shuanglian.supermarket import inquiry_limits

    listing, _ = _staffed_listing(db_session)
    for _ in range(inquiry_limits.PER_CONTACT_AND_LISTING):
        assert _contact(client, listing).status_code == 200
    refused = _contact(client, listing)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "留言过于频繁" in refused.text
    api = client.post(f"/api/v1/listings/{listing.id}/inquiries", json=VISITOR)
    assert api.status_code == 429 and api.json()["error"]["code"] == "rate_limited"
    stored = db_session.query(Inquiry).filter_by(listing_id=listing.id).count()
    assert stored == inquiry_limits.PER_CONTACT_AND_LISTING == len(_outbox(home))
    other = make_listing(db_session, make_institution(db_session), title="无人机集群控制")
    assert _contact(client, other).status_code == 200


def test_visitors_sharing_one_wi_fi_each_get_through(client: TestClient, db_session, home) -> None:
    """An exhibition hall: every visitor comes from the same address. The limit counts each
    contact, so the 4th, 5th … visitor asking about the featured listing is heard, while one
    contact repeating itself is held back; the refused form keeps the typed text and says
    when to send it again. 请发资料 is message enough."""
    from shuanglian.supermarket import inquiry_limits

    listing, _ = _staffed_listing(db_session)
    for n in range(inquiry_limits.PER_CONTACT_AND_LISTING + 3):
        sent = _contact(
            client, listing, email=f"visitor{n}@example.com", phone="", message="请发资料"
        )
        assert sent.status_code == 200 and "留言已发送" in sent.text, n
    # The same person by phone (spaces and dashes do not make it another person).
    for _ in range(inquiry_limits.PER_CONTACT_AND_LISTING):
        assert _contact(client, listing, email="", phone="139 0000 0001").status_code == 200
    typed = "还想了解中试数据，请再发一份。"
    held = _contact(client, listing, email="", phone="139-0000-0001", message=typed)
    assert held.status_code == 429
    assert typed in held.text and "分钟后再发送" in held.text
    one_char = _contact(client, listing, email="x@example.com", message="好")
    assert one_char.status_code == 422 and "请填写留言" in one_char.text


def test_one_address_still_has_a_flood_cap() -> None:
    """Hundreds of contacts from one machine are still a flood: the address cap holds."""
    from shuanglian.supermarket import inquiry_limits

    limits = inquiry_limits.InquiryLimits()
    for n in range(inquiry_limits.PER_ADDRESS):
        limits.record("10.0.0.9", n % 50 + 1, f"mail:v{n}@example.com")
    assert limits.retry_after("10.0.0.9", 1, "mail:new@example.com") > 0
    assert limits.retry_after("10.0.0.10", 1, "mail:new@example.com") == 0
