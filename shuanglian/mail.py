"""Outgoing e-mail: through SMTP when `SHUANGLIAN_SMTP_HOST` is set, otherwise into an outbox.

Nothing the platform sends may be lost: a message that is not configured to go out, has no
recipient, or that the SMTP server does not take is written as an .eml file (RFC 5322, opens
in any mail client) under `HOME/outbox/`, with an `X-Shuanglian-Outbox` header saying why, and
the failure is logged. `send` therefore never raises for a delivery problem; callers send after
their transaction has committed, so a slow or broken mail server cannot undo their work.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from shuanglian.config import Settings

log = logging.getLogger("shuanglian.mail")

OUTBOX_HEADER = "X-Shuanglian-Outbox"
SMTP_TIMEOUT_S = 20
IMPLICIT_TLS_PORT = 465


@dataclass(frozen=True)
class Delivery:
    """What became of one message: accepted by SMTP, and/or kept in the outbox (its path)."""

    sent: bool
    outbox_path: Path | None = None


def outbox_dir(settings: Settings) -> Path:
    """Where unsent messages are kept: `HOME/outbox/`."""
    return settings.home / "outbox"


def _one_line(value: str) -> str:
    # Header values come partly from visitors; a line break would start a new header.
    return " ".join(value.split())


def compose(
    settings: Settings,
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    reply_to: Address | None = None,
) -> EmailMessage:
    """A plain-text UTF-8 message from the platform's sender address."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    if to:
        message["To"] = ", ".join(to)
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Subject"] = _one_line(subject)
    message["Date"] = formatdate(usegmt=True)
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    return message


def send(settings: Settings, message: EmailMessage) -> Delivery:
    """Deliver `message` by SMTP, or keep it in the outbox; never raises for delivery."""
    if not message.get_all("To"):
        log.warning("mail %s has no recipient; kept in the outbox", message["Message-ID"])
        return _keep(settings, message, "no recipient")
    if not settings.smtp_host:
        return _keep(settings, message, "SMTP not configured")
    try:
        refused = _smtp_send(settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning(
            "mail %s not delivered via %s:%s: %s; kept in the outbox",
            message["Message-ID"],
            settings.smtp_host,
            settings.smtp_port,
            exc,
        )
        return _keep(settings, message, f"SMTP failed: {exc}")
    if refused:
        log.warning("mail %s refused for %s; kept in the outbox", message["Message-ID"], refused)
        return Delivery(sent=True, outbox_path=_keep(settings, message, "refused").outbox_path)
    return Delivery(sent=True)


def _smtp_send(settings: Settings, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    """Hand the message to the SMTP server; returns the recipients it refused."""
    assert settings.smtp_host
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_port == IMPLICIT_TLS_PORT:
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S)
    with smtp:
        if settings.smtp_starttls and settings.smtp_port != IMPLICIT_TLS_PORT:
            smtp.starttls(context=context)
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        # The body is UTF-8 text sent as 8 bit (readable in the outbox as it is); say so to
        # servers that ask (RFC 6152).
        smtp.ehlo_or_helo_if_needed()
        options = ["BODY=8BITMIME"] if smtp.has_extn("8bitmime") else []
        return smtp.send_message(message, mail_options=options)


def _keep(settings: Settings, message: EmailMessage, reason: str) -> Delivery:
    """Write the message into the outbox (atomically: a reader never sees half a file)."""
    del message[OUTBOX_HEADER]
    message[OUTBOX_HEADER] = _one_line(reason)
    folder = outbox_dir(settings)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(message.as_bytes())
        os.replace(partial, path)
    except OSError:
        log.exception("mail %s could not be written to %s", message["Message-ID"], folder)
        return Delivery(sent=False)
    log.info("mail %s kept in %s (%s)", message["Message-ID"], path, reason)
    return Delivery(sent=False, outbox_path=path)
