"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, for tests that check
the emails the product really sends over SMTP: envelope, headers, both parts, links.

Use the `smtp_sink` fixture (in the root conftest): it starts a server on a free port and points
Django's SMTP backend at it. A worker or server subprocess reaches it through
`EMAIL_URL=sink.email_url`.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        # Django folds a long header right after the colon; the parsed value keeps the space.
        return str(self.message["Subject"]).strip()

    def part(self, content_type: str) -> str:
        """The decoded text of the first part of this type ("text/plain", "text/html")."""
        body = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        if body is None or body.get_content_type() != content_type:
            raise AssertionError(f"the email has no {content_type} part")
        return str(body.get_content())


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.sink.lock:
            self.sink.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def email_url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received() if address in m.rcpt_tos]

    def wait_for(self, count: int, *, timeout: float = 20.0) -> list[Received]:
        """Poll until at least `count` messages arrived (or fail with what did arrive)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if len(got) >= count:
                return got
            time.sleep(0.05)  # a polling interval
        got = self.received()
        raise AssertionError(
            f"expected {count} emails within {timeout}s, got {len(got)}: "
            f"{[(m.to, m.subject) for m in got]}"
        )
