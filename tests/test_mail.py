"""Outgoing mail: the outbox when SMTP is not configured, real delivery through a local SMTP
server, and every failure (refused, unreachable, no STARTTLS, no recipient) kept in the outbox."""

from __future__ import annotations

import logging
import socket
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from pydantic import SecretStr

from shuanglian import mail
from shuanglian.config import Settings
from tests.smtp_server import smtp_server

TEXT = "您好：\n请查看新留言。\nHello, please read the new message.\n"


def _settings(home: Path, **kw: object) -> Settings:
    return Settings(home=home, mail_from="market@example.org", **kw)  # type: ignore[arg-type]


def _message(settings: Settings, to: list[str] | None = None) -> EmailMessage:
    return mail.compose(
        settings,
        to=["staff@example.edu.cn", "tto@example.edu.cn"] if to is None else to,
        subject="[双链] SL000001 收到新留言\r\nBcc: victim@example.com",
        text=TEXT,
        reply_to=Address(display_name="李四", addr_spec="li@example.com"),
    )


def _outbox(settings: Settings) -> list[Path]:
    folder = mail.outbox_dir(settings)
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def _read(path: Path) -> EmailMessage:
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_smtp_the_message_lands_in_the_outbox(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    delivery = mail.send(settings, _message(settings))
    assert not delivery.sent and delivery.outbox_path is not None
    assert _outbox(settings) == [delivery.outbox_path]
    assert not list(mail.outbox_dir(settings).glob("*.part"))  # written atomically
    kept = _read(delivery.outbox_path)
    assert kept["To"] == "staff@example.edu.cn, tto@example.edu.cn"
    assert kept["From"] == "market@example.org"
    assert kept["Reply-To"].addresses[0].addr_spec == "li@example.com"
    assert kept["Reply-To"].addresses[0].display_name == "李四"
    # A line break smuggled into the subject does not become a header of its own.
    assert kept["Bcc"] is None and "Bcc: victim" in kept["Subject"]
    assert kept["Subject"].startswith("[双链] SL000001 收到新留言")
    assert kept.get_content() == TEXT
    assert kept[mail.OUTBOX_HEADER] == "SMTP not configured"
    assert kept["Message-ID"].endswith("@example.org>") and kept["Date"]


def test_with_smtp_the_message_arrives_and_nothing_is_kept(tmp_path: Path) -> None:
    with smtp_server(credentials=("mailer", "s3cret")) as sink:
        settings = _settings(
            tmp_path,
            smtp_host=sink.host,
            smtp_port=sink.port,
            smtp_user="mailer",
            smtp_password=SecretStr("s3cret"),
            smtp_starttls=False,
        )
        delivery = mail.send(settings, _message(settings))
    assert delivery == mail.Delivery(sent=True)
    assert sink.logins == ["mailer"]
    [received] = sink.messages
    assert received.mail_from == "market@example.org"
    assert received.rcpt_to == ["staff@example.edu.cn", "tto@example.edu.cn"]
    assert "BODY=8BITMIME" in received.mail_options
    arrived = message_from_bytes(received.data, policy=policy.default)
    assert isinstance(arrived, EmailMessage)
    assert arrived.get_content().replace("\r\n", "\n") == TEXT
    assert arrived["Bcc"] is None
    assert _outbox(settings) == []


def test_a_refusing_server_keeps_the_message_and_logs(tmp_path: Path, caplog) -> None:
    with smtp_server(reject_sender=True) as sink:
        settings = _settings(
            tmp_path, smtp_host=sink.host, smtp_port=sink.port, smtp_starttls=False
        )
        with caplog.at_level(logging.WARNING, logger="shuanglian.mail"):
            delivery = mail.send(settings, _message(settings))
    assert not delivery.sent and sink.messages == []
    assert _outbox(settings) == [delivery.outbox_path]
    kept = _read(delivery.outbox_path)  # type: ignore[arg-type]
    assert "SMTP failed" in kept[mail.OUTBOX_HEADER] and "Sender rejected" in caplog.text
    assert kept.get_content() == TEXT


def test_bad_login_unreachable_server_and_missing_starttls_are_kept(tmp_path: Path) -> None:
    with smtp_server(credentials=("mailer", "s3cret")) as sink:
        cases = {
            "bad password": dict(
                smtp_host=sink.host,
                smtp_port=sink.port,
                smtp_user="mailer",
                smtp_password=SecretStr("wrong"),
                smtp_starttls=False,
            ),
            "no STARTTLS offered": dict(smtp_host=sink.host, smtp_port=sink.port),
            "nobody listening": dict(smtp_host="127.0.0.1", smtp_port=_free_port()),
        }
        for case, options in cases.items():
            settings = _settings(tmp_path / case.replace(" ", "-"), **options)
            delivery = mail.send(settings, _message(settings))
            assert not delivery.sent, case
            assert _outbox(settings) == [delivery.outbox_path], case
        assert sink.messages == []


def test_a_message_without_recipient_is_kept_not_sent(tmp_path: Path) -> None:
    with smtp_server() as sink:
        settings = _settings(
            tmp_path, smtp_host=sink.host, smtp_port=sink.port, smtp_starttls=False
        )
        delivery = mail.send(settings, _message(settings, to=[]))
    assert not delivery.sent and sink.messages == []
    assert _read(delivery.outbox_path)[mail.OUTBOX_HEADER] == "no recipient"  # type: ignore[arg-type]


def test_an_unwritable_outbox_is_logged_not_raised(tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "home"
    blocker.mkdir()
    (blocker / "outbox").write_text("a file where the folder should be")
    settings = _settings(blocker)
    with caplog.at_level(logging.ERROR, logger="shuanglian.mail"):
        delivery = mail.send(settings, _message(settings))
    assert delivery == mail.Delivery(sent=False, outbox_path=None)
    assert "could not be written" in caplog.text
