"""Mail transports: one interface, :class:`MailTransport`, and two ways to deliver.

:class:`SmtpTransport` hands messages to an SMTP server (``BUYBUTTON_SMTP_URL``); without one,
:class:`FileTransport` writes each message as an ``.eml`` file under ``$BUYBUTTON_HOME/mail/``
(the embedded default and the demo: nothing leaves the machine). :func:`make_transport` picks one
from the settings.

Failures raise :class:`MailDeliveryError`, whose ``retryable`` tells a retrying caller (the outbox)
whether to back off and try again (4xx replies, refused connections, timeouts) or to give up
(5xx replies such as an unknown recipient, a certificate that does not verify).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import secrets
import smtplib
import socket
import ssl
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from ..config import Settings, SmtpSettings, make_private_folder, setup_log
from ..errors import MailDeliveryError

log = logging.getLogger("buybutton.mail")


class MailTransport(ABC):
    """Delivers :class:`~email.message.EmailMessage` objects."""

    @abstractmethod
    def send(self, message: EmailMessage) -> str:
        """Deliver ``message`` and return its ``Message-ID`` (one is added if it has none).

        Raises :class:`MailDeliveryError` (see its ``retryable``) when delivery failed.
        """


def ensure_message_id(message: EmailMessage) -> str:
    """Return ``message``'s Message-ID, adding one (on the From address's domain) if missing."""
    if message["Message-ID"] is None:
        sender = message["From"]
        domain = sender.addresses[0].domain if sender is not None and sender.addresses else None
        message["Message-ID"] = make_msgid(domain=domain or "buybutton.invalid")
    return str(message["Message-ID"])


# -- files -------------------------------------------------------------------------------------

_PASSING_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EIO", "EAGAIN", "EINTR", "EMFILE", "ENFILE", "ENOMEM")
    if hasattr(errno, name)
)


class FileTransport(MailTransport):
    """Writes each message to ``folder/<UTC time>-<random>.eml``, readable by the owner only.

    Names sort by time (then by a random id that makes them unique); each file appears whole or
    not at all (written to a temporary name, flushed, then renamed). The folder is made 0700.
    """

    def __init__(
        self,
        folder: Path,
        *,
        clock: Callable[[], float] = time.time,
        token: Callable[[], str] = lambda: secrets.token_hex(8),
    ):
        self.folder = Path(folder)
        self._clock = clock
        self._token = token

    def __repr__(self) -> str:
        return f"FileTransport({str(self.folder)!r})"

    def send(self, message: EmailMessage) -> str:
        message_id = ensure_message_id(message)
        data = message.as_bytes()
        try:
            if not self.folder.is_dir():
                make_private_folder(self.folder.parent)  # the home folder, owner-only if new
                make_private_folder(self.folder)
                setup_log.info(
                    "created %s: messages are written there as .eml files "
                    "(set BUYBUTTON_SMTP_URL to send them)",
                    self.folder,
                )
            os.chmod(self.folder, 0o700)  # mkdir's mode is masked by umask, and may pre-exist
            stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            name = f"{stamp}-{self._token()}.eml"
            temporary = self.folder / f".{name}.tmp"  # not *.eml: readers never see a partial file
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(temporary, self.folder / name)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        except OSError as exc:
            # A full disk may clear up; a folder we may not write into, or a file in its place,
            # will not.
            raise MailDeliveryError(
                f"Could not write the message into {self.folder}: {exc.strerror or exc}",
                retryable=exc.errno in _PASSING_ERRNOS,
            ) from exc
        log.info("mail written: %s as %s", message_id, name)
        return message_id


# -- SMTP --------------------------------------------------------------------------------------


def is_loopback(address: str) -> bool:
    """Whether the IP ``address`` (``"127.0.0.1"``, ``"::1"``, ``"::ffff:127.0.0.1"``) is
    on this machine's loopback interface, where nothing travels over a network."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _reply_error(action: str, code: int, reply: bytes | str) -> MailDeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    # RFC 5321: 4yz is a transient negative reply (try again), 5yz a permanent one.
    return MailDeliveryError(
        f"The mail server refused {action}: {code} {text}",
        retryable=400 <= code < 500,
        smtp_code=code,
    )


class SmtpTransport(MailTransport):
    """Sends through an SMTP server: ``smtps`` speaks TLS from the start; ``smtp`` upgrades with
    STARTTLS whenever the server offers it (and fails rather than carry on in the clear if that
    upgrade fails).

    Credentials are sent only over TLS, or in the clear to a server on loopback: a password sent
    in the clear over a network can be read by anyone on the path, and a server that does not
    offer STARTTLS may be an attacker who removed the offer (a downgrade). Without credentials,
    a server that does not offer STARTTLS gets the message in the clear (opportunistic TLS, as
    between mail servers).

    ``ssl_context`` defaults to :func:`ssl.create_default_context` (the system's CAs, or the file
    named by ``SSL_CERT_FILE``; the host name is checked). ``plaintext_auth_allowed`` decides,
    from the connected peer's IP address, whether credentials may travel unencrypted.
    """

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        plaintext_auth_allowed: Callable[[str], bool] = is_loopback,
    ):
        self.settings = settings
        self._context = ssl_context or ssl.create_default_context()
        self._plaintext_auth_allowed = plaintext_auth_allowed

    def __repr__(self) -> str:  # never the password
        s = self.settings
        user = f"{s.username}@" if s.username else ""
        return f"SmtpTransport('{s.scheme}://{user}{s.host}:{s.port}')"

    def send(self, message: EmailMessage) -> str:
        message_id = ensure_message_id(message)
        s = self.settings
        try:
            with self._connect() as smtp:
                refused = smtp.send_message(message)
        except MailDeliveryError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = min(exc.recipients.values())  # a 4xx among them: worth another try
            raise _reply_error("every recipient", code, reply) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _reply_error("the sender", exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise _reply_error(
                f"the credentials of {s.username}", exc.smtp_code, exc.smtp_error
            ) from exc
        except smtplib.SMTPResponseException as exc:  # DATA refused, bad greeting, …
            raise _reply_error("the message", exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. AUTH or SMTPUTF8 not offered
            raise MailDeliveryError(
                f"The mail server at {s.host} cannot do what is needed: {exc}", retryable=False
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            # Not a passing fault: the certificate (or our trust store) must be fixed.
            raise MailDeliveryError(
                f"The mail server's certificate for {s.host} does not verify: {exc.verify_message}",
                retryable=False,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, TLS cut…
            reason = (
                "timed out"
                if isinstance(exc, (socket.timeout, TimeoutError))
                else (
                    exc.strerror
                    if isinstance(exc, OSError) and exc.strerror
                    else str(exc) or type(exc).__name__
                )
            )
            raise MailDeliveryError(
                f"Could not reach the mail server at {s.host}:{s.port}: {reason}", retryable=True
            ) from exc
        if refused:  # some recipients accepted: the message is sent and must not be sent again
            log.warning("mail %s: %d recipient(s) refused", message_id, len(refused))
        log.info("mail sent: %s via %s:%d", message_id, s.host, s.port)
        return message_id

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=self._context
            )
            encrypted = True
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            encrypted = False
        try:
            smtp.ehlo()
            if not encrypted and smtp.has_extn("starttls"):
                smtp.starttls(context=self._context)
                smtp.ehlo()
                encrypted = True
            if s.username is not None:
                assert smtp.sock is not None  # the constructor connected it
                peer = smtp.sock.getpeername()[0]
                if not encrypted and not self._plaintext_auth_allowed(peer):
                    raise MailDeliveryError(
                        f"Refusing to send the SMTP password to {s.host} unencrypted: the server "
                        "does not offer STARTTLS. Use smtps://, or a server that offers STARTTLS.",
                        retryable=False,
                    )
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def make_transport(
    settings: Settings, *, ssl_context: ssl.SSLContext | None = None
) -> MailTransport:
    """The transport ``settings`` ask for: SMTP when ``BUYBUTTON_SMTP_URL`` is set, else
    ``.eml`` files under ``settings.home / "mail"``."""
    if settings.smtp is not None:
        return SmtpTransport(settings.smtp, ssl_context=ssl_context)
    return FileTransport(settings.home / "mail")
