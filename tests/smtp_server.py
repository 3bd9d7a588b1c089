"""A real, minimal SMTP server on 127.0.0.1 for tests (RFC 5321 subset, one thread per client).

It speaks EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT over a real socket, so
`smtplib` is exercised exactly as in production. `reject_sender=True` makes it refuse every
message (550 on MAIL FROM), the way a misconfigured or hostile relay does.
"""

from __future__ import annotations

import base64
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    mail_options: list[str] = field(default_factory=list)


@dataclass
class SmtpSink:
    host: str
    port: int
    credentials: tuple[str, str] | None = None
    reject_sender: bool = False
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


def _address(arg: str) -> str:
    start, end = arg.find("<"), arg.find(">")
    return arg[start + 1 : end] if 0 <= start < end else arg.strip()


def _handler(sink: SmtpSink) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode("ascii") + b"\r\n")

        def handle(self) -> None:
            self.reply("220 test-smtp ESMTP ready")
            mail_from, rcpt_to, options = "", [], []
            while raw := self.rfile.readline():
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    # The first line greets; the extensions follow, the last with "250 ".
                    lines = ["test-smtp", "8BITMIME"] + (["AUTH PLAIN"] if sink.credentials else [])
                    for i, text in enumerate(lines):
                        self.reply(f"250{' ' if i == len(lines) - 1 else '-'}{text}")
                elif verb == "HELO":
                    self.reply("250 OK")
                elif verb == "AUTH":
                    mechanism, _, blob = arg.partition(" ")
                    _, user, password = base64.b64decode(blob).decode().split("\0")
                    if mechanism.upper() == "PLAIN" and (user, password) == sink.credentials:
                        sink.logins.append(user)
                        self.reply("235 2.7.0 Authentication successful")
                    else:
                        self.reply("535 5.7.8 Authentication credentials invalid")
                elif verb == "MAIL":
                    if sink.reject_sender:
                        self.reply("550 5.7.1 Sender rejected")
                        continue
                    mail_from, rcpt_to = _address(arg), []
                    options = arg.split()[1:]
                    self.reply("250 OK")
                elif verb == "RCPT":
                    rcpt_to.append(_address(arg))
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    body = []
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        body.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    sink.messages.append(Received(mail_from, rcpt_to, b"".join(body), options))
                    self.reply("250 OK queued")
                elif verb in ("RSET", "NOOP"):
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                else:
                    self.reply("502 Command not implemented")

    return Handler


@contextmanager
def smtp_server(
    *, credentials: tuple[str, str] | None = None, reject_sender: bool = False
) -> Iterator[SmtpSink]:
    """Run a sink on a free port for the duration of the `with` block."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    sink = SmtpSink(str(host), int(port), credentials=credentials, reject_sender=reject_sender)
    server.RequestHandlerClass = _handler(sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
