"""Mail transports against a real SMTP server on loopback (aiosmtpd), and the .eml folder."""

from __future__ import annotations

import logging
import re
import socket
import stat

import pytest
from bs4 import BeautifulSoup

from buybutton.config import ConfigError, SmtpSettings, load_settings, parse_smtp_url
from buybutton.mail import (
    FileTransport,
    MailDeliveryError,
    SmtpTransport,
    build_receipt,
    make_transport,
)
from buybutton.mail.transport import is_loopback
from tests.support.mail_factories import EVIL_NAME, NOW, SENDER, make_order, make_shop, parse, parts
from tests.support.smtp_server import Credentials, SmtpServer, Tls

USER, PASSWORD = "shop@lune.example", "p@ss:w/rd 100%"
ENCODED = "shop%40lune.example:p%40ss%3Aw%2Frd%20100%25"


def receipt(**order_changes):
    return build_receipt(
        make_shop(), make_order(**order_changes), sender=SENDER, locale="fr", now=NOW
    )


def smtp(url: str) -> SmtpSettings:
    return parse_smtp_url(url + ("&" if "?" in url else "?") + "timeout=5")


@pytest.fixture(scope="module")
def tls():
    return Tls()


def test_plain_smtp_on_loopback_delivers_a_french_receipt_with_both_parts():
    with SmtpServer() as server:
        message_id = SmtpTransport(smtp(f"smtp://127.0.0.1:{server.port}")).send(
            receipt(item=EVIL_NAME)
        )
    [got] = server.received
    assert got.rcpt_tos == ["ana@example.com"] and got.mail_from == "orders@lune.example"
    assert not got.encrypted and got.login is None
    message = parse(got.raw)
    assert message["Message-ID"] == message_id and message_id.endswith("@lune.example>")
    assert message["From"] == SENDER and message["To"] == "Ana Lopez <ana@example.com>"
    assert message["Reply-To"] == "help@lune.example"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"].datetime == NOW
    assert message["Subject"] == "Reçu de votre commande ord_123 chez Atelier Lune"
    text, html = parts(message)
    assert "Merci pour votre commande chez Atelier Lune" in text
    assert "Total : 28,90\u00a0€" in text and "Prix unitaire : 12,00\u00a0€" in text
    assert f"Article : {EVIL_NAME}" in text
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    soup = BeautifulSoup(html, "html.parser")
    assert "28,90\u00a0€" in soup.get_text() and soup.html["lang"] == "fr"
    assert not [img for img in soup.find_all("img") if img.get("src", "").startswith("http")]


def test_starttls_is_used_and_auth_sends_percent_decoded_credentials(tls):
    credentials = Credentials(USER, PASSWORD)
    # The server only accepts mail after STARTTLS, and offers AUTH only over TLS.
    with SmtpServer(
        tls_context=tls.server_context(),
        require_starttls=True,
        authenticator=credentials,
        auth_require_tls=True,
    ) as server:
        transport = SmtpTransport(
            smtp(f"smtp://{ENCODED}@127.0.0.1:{server.port}"), ssl_context=tls.client_context()
        )
        transport.send(receipt())
    [got] = server.received
    assert got.encrypted and got.login == USER and credentials.attempts == 1
    assert "Reçu de votre commande" in parse(got.raw)["Subject"]


def test_implicit_tls_smtps_with_auth(tls):
    credentials = Credentials(USER, PASSWORD)
    # aiosmtpd's auth_require_tls only knows STARTTLS; this session is TLS from its first byte.
    with SmtpServer(
        ssl_context=tls.server_context(), authenticator=credentials, auth_require_tls=False
    ) as server:
        transport = SmtpTransport(
            smtp(f"smtps://{ENCODED}@127.0.0.1:{server.port}"), ssl_context=tls.client_context()
        )
        message_id = transport.send(receipt())
    [got] = server.received
    assert got.encrypted and got.login == USER
    assert parse(got.raw)["Message-ID"] == message_id


def test_untrusted_certificate_fails_without_falling_back_to_plain_text(tls):
    with SmtpServer(tls_context=tls.server_context()) as server:
        transport = SmtpTransport(smtp(f"smtp://127.0.0.1:{server.port}"))  # system CAs only
        with pytest.raises(MailDeliveryError, match="certificate") as caught:
            transport.send(receipt())
    assert caught.value.retryable is False
    assert server.received == []


def test_451_is_retryable():
    with SmtpServer(reply_rcpt="451 4.3.0 Mailbox busy, try later") as server:
        with pytest.raises(MailDeliveryError, match="451") as caught:
            SmtpTransport(smtp(f"smtp://127.0.0.1:{server.port}")).send(receipt())
    assert caught.value.retryable is True and caught.value.smtp_code == 451


def test_550_recipient_refused_is_permanent():
    with SmtpServer(reply_rcpt="550 5.1.1 No such user") as server:
        with pytest.raises(MailDeliveryError, match="No such user") as caught:
            SmtpTransport(smtp(f"smtp://127.0.0.1:{server.port}")).send(receipt())
    assert caught.value.retryable is False and caught.value.smtp_code == 550


def test_data_refused_with_452_is_retryable_and_554_permanent():
    with SmtpServer(reply_data="452 4.3.1 Insufficient storage") as server:
        with pytest.raises(MailDeliveryError) as temporary:
            SmtpTransport(smtp(f"smtp://127.0.0.1:{server.port}")).send(receipt())
    with SmtpServer(reply_data="554 5.7.1 Message rejected as spam") as server:
        with pytest.raises(MailDeliveryError) as permanent:
            SmtpTransport(smtp(f"smtp://127.0.0.1:{server.port}")).send(receipt())
    assert (temporary.value.retryable, temporary.value.smtp_code) == (True, 452)
    assert (permanent.value.retryable, permanent.value.smtp_code) == (False, 554)


def test_refused_connection_is_retryable():
    with socket.socket() as probe:  # a port nothing listens on once this socket closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(MailDeliveryError, match="Could not reach") as caught:
        SmtpTransport(smtp(f"smtp://127.0.0.1:{port}")).send(receipt())
    assert caught.value.retryable is True and caught.value.smtp_code is None


def test_server_that_never_greets_times_out_and_is_retryable():
    with socket.socket() as silent:  # listens (the kernel completes the handshake), never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        transport = SmtpTransport(
            parse_smtp_url(f"smtp://127.0.0.1:{silent.getsockname()[1]}?timeout=0.5")
        )
        with pytest.raises(MailDeliveryError, match="timed out") as caught:
            transport.send(receipt())
    assert caught.value.retryable is True


def test_credentials_are_sent_in_clear_only_to_loopback():
    credentials = Credentials(USER, PASSWORD)
    with SmtpServer(authenticator=credentials, auth_require_tls=False) as server:
        url = smtp(f"smtp://{ENCODED}@127.0.0.1:{server.port}")
        SmtpTransport(url).send(receipt())  # loopback: nothing crosses a network
        assert [got.login for got in server.received] == [USER]
        # The same server seen as a remote peer: the password must not leave unencrypted.
        remote = SmtpTransport(url, plaintext_auth_allowed=lambda peer: False)
        with pytest.raises(MailDeliveryError, match="unencrypted") as caught:
            remote.send(receipt())
    assert caught.value.retryable is False
    assert credentials.attempts == 1 and len(server.received) == 1


@pytest.mark.parametrize(
    "address, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("192.0.2.2", False),
        ("10.0.0.1", False),
        ("2001:db8::1", False),
        ("::ffff:10.0.0.1", False),
        ("localhost", False),  # a name is not an address: the peer's address is what counts
    ],
)
def test_is_loopback_judges_the_peer_address(address, loopback):
    assert is_loopback(address) is loopback


def test_password_stays_out_of_errors_logs_and_reprs(tls, caplog):
    caplog.set_level(logging.DEBUG)
    settings = load_settings(
        {
            "BUYBUTTON_HOME": "/nonexistent-home",
            "BUYBUTTON_SECRET_KEYS": "k",
            "BUYBUTTON_MAIL_FROM": SENDER,
            "BUYBUTTON_SMTP_URL": "smtp://shop:wrong-secret@127.0.0.1:1",
        }
    )
    with SmtpServer(
        tls_context=tls.server_context(),
        require_starttls=True,
        authenticator=Credentials(USER, PASSWORD),
    ) as server:
        wrong = parse_smtp_url(f"smtp://shop:wrong-secret@127.0.0.1:{server.port}")
        transport = SmtpTransport(wrong, ssl_context=tls.client_context())
        with pytest.raises(MailDeliveryError) as caught:
            transport.send(receipt())
    assert caught.value.retryable is False and caught.value.smtp_code == 535
    seen = " ".join(
        [
            str(caught.value),
            repr(caught.value),
            repr(transport),
            repr(wrong),
            repr(settings),
            caplog.text,
        ]
    )
    assert "wrong-secret" not in seen and "shop" in repr(transport)


# -- files -------------------------------------------------------------------------------------


def test_file_transport_writes_private_parseable_eml_files_sorted_by_time(tmp_path):
    folder = tmp_path / "mail"
    times = iter([1_790_000_000.5, 1_790_000_001.25])
    transport = FileTransport(folder, clock=lambda: next(times))
    first = transport.send(receipt(id="ord_1"))
    second = transport.send(receipt(id="ord_2"))
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 2 and all(
        re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{16}\.eml", n) for n in names
    )
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE((folder / n).stat().st_mode) for n in names} == {0o600}
    messages = [parse((folder / n).read_bytes()) for n in names]
    assert [m["Message-ID"] for m in messages] == [first, second]
    assert ["ord_1" in m["Subject"] for m in messages] == [True, False]
    text, html = parts(messages[1])
    assert "Commande : ord_2" in text and "ord_2" in html


def test_file_transport_tightens_an_existing_folder_and_leaves_no_temporary_file(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir(mode=0o755)
    FileTransport(folder).send(receipt())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.suffix for p in folder.iterdir()] == [".eml"]


def test_file_transport_failure_is_a_permanent_mail_delivery_error(tmp_path):
    (tmp_path / "mail").write_text("a file where the folder should be")
    with pytest.raises(MailDeliveryError, match="Could not write") as caught:
        FileTransport(tmp_path / "mail").send(receipt())
    assert caught.value.retryable is False  # it will not clear up by itself


def test_make_transport_writes_files_by_default_and_uses_smtp_when_configured(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="buybutton.setup")
    home = tmp_path / "home"  # not there yet: made owner-only on the first message
    base = {"BUYBUTTON_HOME": str(home), "BUYBUTTON_SECRET_KEYS": "k"}
    files = make_transport(load_settings(base))
    assert isinstance(files, FileTransport) and files.folder == home / "mail"
    assert not home.exists()
    message_id = files.send(receipt())
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert f"created {home / 'mail'}" in caplog.text
    [written] = (home / "mail").glob("*.eml")
    assert parse(written.read_bytes())["Message-ID"] == message_id
    with SmtpServer() as server:
        settings = load_settings(
            {
                **base,
                "BUYBUTTON_MAIL_FROM": SENDER,
                "BUYBUTTON_SMTP_URL": f"smtp://127.0.0.1:{server.port}",
            }
        )
        transport = make_transport(settings)
        assert isinstance(transport, SmtpTransport)
        transport.send(receipt())
    assert len(server.received) == 1


def test_a_message_without_message_id_gets_one_on_the_from_domain(tmp_path):
    message = receipt()
    del message["Message-ID"]
    message_id = FileTransport(tmp_path).send(message)
    assert message_id.endswith("@lune.example>") and message["Message-ID"] == message_id


def test_smtp_url_needs_a_from_address(tmp_path):
    with pytest.raises(ConfigError, match="BUYBUTTON_MAIL_FROM"):
        load_settings(
            {
                "BUYBUTTON_HOME": str(tmp_path),
                "BUYBUTTON_SECRET_KEYS": "k",
                "BUYBUTTON_SMTP_URL": "smtp://mail.example.com",
            }
        )


def test_a_private_ca_is_trusted_through_ssl_cert_file(tls, tmp_path, monkeypatch):
    bundle = tmp_path / "ca.pem"
    tls.ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # read by OpenSSL, as docs/quickstart.md says
    with SmtpServer(tls_context=tls.server_context(), require_starttls=True) as server:
        SmtpTransport(smtp(f"smtp://127.0.0.1:{server.port}")).send(receipt())
    assert [got.encrypted for got in server.received] == [True]
