"""A local SMTP server for the tests (aiosmtpd): it keeps what it receives, to assert on."""

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage
from typing import List, NamedTuple

from aiosmtpd.controller import Controller


class Received(NamedTuple):
    """One delivered message: the SMTP envelope and the parsed message."""

    mail_from: str
    rcpt_tos: List[str]
    message: EmailMessage


class _Keep:
    def __init__(self):
        self.received: List[Received] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return '250 Message accepted for delivery'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class SmtpSink:
    """`with SmtpSink() as sink:` an SMTP server on 127.0.0.1:`sink.port` until the block ends."""

    def __init__(self):
        self._keep = _Keep()
        self.port = _free_port()
        self._controller = Controller(self._keep, hostname='127.0.0.1', port=self.port)

    def __enter__(self) -> 'SmtpSink':
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()

    @property
    def received(self) -> List[Received]:
        with self._keep.lock:
            return list(self._keep.received)

    def wait_for(self, count: int, deadline_s: float = 30.0) -> List[Received]:
        """The messages once at least `count` arrived; fails after `deadline_s` seconds."""
        deadline = time.monotonic() + deadline_s
        while len(self.received) < count:
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f'{len(self.received)} of {count} e-mails arrived within {deadline_s:g} s'
                )
            time.sleep(0.05)
        return self.received
