"""A real SMTP server on loopback (aiosmtpd) for the delivery tests: Django's SMTP backend
talks to it over a socket, and it can answer with the errors real mail servers give."""

import contextlib
import email
import socket
import threading
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    def __init__(self):
        self.messages: list[Message] = []
        # Replies to give instead of accepting, one per DATA command, e.g. "451 4.3.0 Busy".
        self.replies: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            if self.replies:
                return self.replies.pop(0)
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def recipients(self) -> list[str]:
        with self.lock:
            return [message["To"] for message in self.messages]


@contextlib.contextmanager
def serving(handler):
    """An aiosmtpd server on a free loopback port with `handler`, and Django's SMTP backend
    pointed at it, for as long as the block lasts. Yields the port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_TIMEOUT=5,
        ):
            yield port
    finally:
        controller.stop()


@pytest.fixture
def smtp_sink():
    """Mail goes over SMTP to a server on loopback; returns the Sink that collects it."""
    sink = Sink()
    with serving(sink) as sink.port:
        yield sink
