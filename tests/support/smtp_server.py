"""A real SMTP server on loopback for tests: aiosmtpd in a thread, on a port the OS picks.

``SmtpServer(...)`` takes aiosmtpd's options (``tls_context`` for STARTTLS, ``ssl_context`` for
implicit TLS, ``authenticator``, ``auth_require_tls``); ``reply_rcpt`` / ``reply_data`` make it
answer RCPT or DATA with a fixed reply (``"451 4.3.0 Try later"``). What it accepted is in
``.received`` (raw bytes, envelope, whether the session was encrypted, who logged in).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    raw: bytes
    mail_from: str
    rcpt_tos: list[str]
    encrypted: bool
    login: str | None


@dataclass
class Handler:
    reply_rcpt: str | None = None
    reply_data: str | None = None
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reply_rcpt:
            return self.reply_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.reply_data:
            return self.reply_data
        login = getattr(session.auth_data, "login", None) if session.authenticated else None
        # STARTTLS sets session.ssl; implicit TLS only shows on the transport.
        encrypted = session.ssl is not None or (
            server.transport.get_extra_info("ssl_object") is not None
        )
        self.received.append(
            Received(
                envelope.original_content or envelope.content,
                envelope.mail_from,
                list(envelope.rcpt_tos),
                encrypted=encrypted,
                login=login.decode() if login is not None else None,
            )
        )
        return "250 Message accepted"


class Credentials:
    """An aiosmtpd authenticator accepting one user name and password; counts attempts."""

    def __init__(self, username: str, password: str):
        self.username, self.password = username.encode(), password.encode()
        self.attempts = 0

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.attempts += 1
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.username
            and auth_data.password == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class _EphemeralPortController(Controller):
    async def _bind(self):
        server = await self.loop.create_server(
            self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
        )
        self.port = server.sockets[0].getsockname()[1]  # before start() connects to check
        return server

    def _create_server(self):
        return self._bind()


class SmtpServer:
    def __init__(
        self, *, reply_rcpt: str | None = None, reply_data: str | None = None, **smtp_options
    ):
        self.handler = Handler(reply_rcpt=reply_rcpt, reply_data=reply_data)
        self._controller = _EphemeralPortController(
            self.handler, hostname="127.0.0.1", **smtp_options
        )

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def port(self) -> int:
        return self._controller.port

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


@dataclass
class Tls:
    """A throwaway CA (trustme) and contexts for a server on 127.0.0.1 and a client trusting it."""

    ca: trustme.CA = field(default_factory=trustme.CA)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context
