"""Receipts and notices through the mail outbox: queued in the order's transaction, sent by the
mail worker to a real SMTP server on loopback (aiosmtpd), retried, never sent twice."""

from __future__ import annotations

import json
import threading
import time
from email import message_from_bytes, policy

import pytest

from buybutton import catalog, cli, merchants, orders
from buybutton.addresses import PostalAddress
from buybutton.buyers import Customer, Shipping
from buybutton.config import Settings, parse_smtp_url
from buybutton.errors import Conflict, InvalidRequest, NotFound
from buybutton.mail import FileTransport, SmtpTransport
from buybutton.mail.delivery import MailDeliverer, mail_policy, resend_receipt, start_mail_thread
from buybutton.mail.outbox import list_mail
from buybutton.store.schema import mail_deliveries
from buybutton.webhooks import RetryPolicy
from tests.support.smtp_server import SmtpServer

SENDER = "Atelier Lune <orders@lune.example>"
BUYER = "ana@example.com"
OWNER = "owner@lune.example"
T0 = 1_800_000_000


class Clock:
    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def parse(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)


def text_and_html(message) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


SHIP_TO = Shipping(
    name="Ana Lopez",
    address=PostalAddress(
        line1="12 rue des Lilas",
        line2="",
        city="Lyon",
        postal_code="69003",
        state="",
        country="FR",
    ),
    rate_id="colissimo",
    rate_name="Colissimo",
    amount=490,
)


@pytest.fixture
def shop(store, merchant):
    with store.transaction() as conn:
        merchants.update_merchant(
            conn,
            merchant.id,
            {
                "email": OWNER,
                "support_email": "help@lune.example",
                "return_policy": {"text": "Unused items, in their box.", "days": 14},
            },
        )
    return merchant


@pytest.fixture
def shippable(make_product):
    return make_product(
        name="Mug",
        shipping={
            "countries": ["FR", "BE"],
            "rates": [{"id": "colissimo", "name": "Colissimo", "amount": 490}],
        },
    )


def new_order(store, product, *, locale=None, quantity=2):
    with store.transaction() as conn:
        return orders.create_order(
            conn,
            catalog.offer_claims(product),
            quantity,
            provider="sandbox",
            ttl_seconds=1800,
            locale=locale,
            now=T0,
        )


ANA = Customer(email=BUYER, name="Ana Lopez")


def pay(store, order, *, customer=ANA, shipping=SHIP_TO):
    with store.transaction() as conn:
        return orders.mark_paid(
            conn,
            order.id,
            amount=order.amount + (shipping.amount if shipping else 0),
            currency=order.currency,
            payment_id=f"pay_{order.id}",
            customer=customer,
            shipping=shipping,
            now=T0,
        )


def mail_of(store, order_id):
    with store.read() as conn:
        return list_mail(conn, order_id)


def smtp_deliverer(store, port, clock=None, **options):
    transport = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{port}?timeout=5"))
    return MailDeliverer(
        store,
        transport,
        sender=SENDER,
        order_url=lambda order_id: f"http://shop.test/orders/ref-{order_id}",
        clock=clock or Clock(),
        random=lambda: 0.5,
        **options,
    )


# -- queuing -------------------------------------------------------------------------------------


def test_a_payment_queues_the_receipt_and_the_merchants_notice_in_its_transaction(
    store, shop, shippable
):
    order = pay(store, new_order(store, shippable, locale="fr"))
    queued = {m.kind: m for m in mail_of(store, order.id)}
    assert set(queued) == {"receipt", "new_order"}
    assert (queued["receipt"].to_address, queued["receipt"].locale) == (BUYER, "fr")
    assert (queued["new_order"].to_address, queued["new_order"].locale) == (OWNER, None)
    assert {m.status for m in queued.values()} == {"pending"}
    assert queued["receipt"].event_id == queued["new_order"].event_id is not None


def test_a_rolled_back_payment_queues_no_mail(store, shop, shippable):
    order = new_order(store, shippable)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        orders.mark_paid(
            conn,
            order.id,
            amount=order.amount + 490,
            currency="eur",
            payment_id="pay_x",
            customer=Customer(email=BUYER),
            shipping=SHIP_TO,
        )
        raise RuntimeError("the payment's transaction fails after the order change")
    assert mail_of(store, order.id) == []


def test_a_replayed_payment_queues_nothing_more(store, shop, shippable):
    order = new_order(store, shippable)
    pay(store, order)
    pay(store, order)  # the provider's webhook again
    assert sorted(m.kind for m in mail_of(store, order.id)) == ["new_order", "receipt"]


def test_no_address_no_mail(store, merchant, make_product):
    order = pay(store, new_order(store, make_product()), customer=Customer(), shipping=None)
    assert mail_of(store, order.id) == []  # no buyer email, no merchant email


# -- sending ------------------------------------------------------------------------------------


def test_the_receipt_arrives_in_the_shoppers_language_with_amounts_and_address(
    store, shop, shippable
):
    order = pay(store, new_order(store, shippable, locale="fr"))
    with SmtpServer() as server:
        report = smtp_deliverer(store, server.port).deliver_all_due()
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    by_rcpt = {tuple(r.rcpt_tos): parse(r.raw) for r in server.received}
    receipt = by_rcpt[(BUYER,)]
    assert receipt["Subject"] == f"Reçu de votre commande {order.id} chez Test Shop"
    assert receipt["To"] == f"Ana Lopez <{BUYER}>" and receipt["Reply-To"] == "help@lune.example"
    assert receipt["Content-Language"] == "fr"
    text, html = text_and_html(receipt)
    for expected in ("24,00\xa0€", "4,90\xa0€", "28,90\xa0€", "Colissimo", "12 rue des Lilas"):
        assert expected in text and expected in html
    assert "69003 Lyon" in text and "France" in text
    assert f"http://shop.test/orders/ref-{order.id}" in text
    assert "14 jours" in text and "Unused items, in their box." in text
    assert "help@lune.example" in text
    notice = by_rcpt[(OWNER,)]
    assert notice["Reply-To"] == f"Ana Lopez <{BUYER}>"
    assert notice["Content-Language"] == "en" and "New order" in notice["Subject"]
    assert "12 rue des Lilas" in text_and_html(notice)[0]
    sent = {m.kind: m for m in mail_of(store, order.id)}
    assert {m.status for m in sent.values()} == {"sent"}
    assert (
        sent["receipt"].message_id
        == receipt["Message-ID"]
        == (f"<{sent['receipt'].id}@lune.example>")
    )


def test_shipped_and_refunded_mails_follow_the_order(store, shop, shippable):
    order = pay(store, new_order(store, shippable))
    with store.transaction() as conn:
        orders.fulfill_order(
            conn,
            shop.id,
            order.id,
            carrier="Colissimo",
            tracking_number="6A123",
            tracking_url="https://track.example/6A123",
        )
        orders.mark_refunded(conn, order.id)
    with SmtpServer() as server:
        smtp_deliverer(store, server.port).deliver_all_due()
    by_subject = {str(parse(r.raw)["Subject"]): parse(r.raw) for r in server.received}
    shipped = by_subject["Your order from Test Shop has shipped"]
    text, html = text_and_html(shipped)
    assert "Colissimo" in text and "6A123" in text
    assert 'href="https://track.example/6A123"' in html
    refunded = text_and_html(by_subject["Your order from Test Shop was refunded"])[0]
    assert "Test Shop refunded €28.90 for your order" in refunded
    kinds = sorted(m.kind for m in mail_of(store, order.id))
    assert kinds == ["new_order", "receipt", "refunded", "shipped"]


def test_a_mail_server_that_says_try_later_is_retried_with_backoff_then_sent_once(
    store, shop, shippable
):
    order = pay(store, new_order(store, shippable), shipping=SHIP_TO)
    clock = Clock()
    with SmtpServer(reply_rcpt="451 4.3.0 Try later") as down:
        report = smtp_deliverer(store, down.port, clock).deliver_all_due()
    assert (report.sent, report.retrying) == (0, 2) and down.received == []
    waiting = mail_of(store, order.id)
    assert {(m.status, m.attempts, m.next_attempt_at) for m in waiting} == {("pending", 1, T0 + 60)}
    assert "451" in waiting[0].last_error
    with SmtpServer() as up:
        deliverer = smtp_deliverer(store, up.port, clock)
        assert deliverer.deliver_all_due().claimed == 0  # not due yet: nothing sent early
        clock.now += 60
        assert deliverer.deliver_all_due().sent == 2
        clock.now += 3600
        assert deliverer.deliver_all_due().claimed == 0  # sent ones are never sent again
    assert len(up.received) == 2
    ids = {parse(r.raw)["Message-ID"] for r in up.received}
    assert ids == {f"<{m.id}@lune.example>" for m in waiting}


def test_a_refusal_is_final_and_the_attempts_run_out_on_passing_failures(
    store, shop, shippable, refused_port
):
    order = pay(store, new_order(store, shippable))
    with SmtpServer(reply_rcpt="550 5.1.1 No such user") as server:
        report = smtp_deliverer(store, server.port).deliver_all_due()
    assert (report.sent, report.failed) == (0, 2)
    assert {(m.status, m.attempts) for m in mail_of(store, order.id)} == {("failed", 1)}

    other = pay(store, new_order(store, shippable))
    clock = Clock()
    deliverer = smtp_deliverer(
        store, refused_port, clock, policy=RetryPolicy.from_waits([10, 20], jitter=0)
    )
    for wait in (0, 10, 20):
        clock.now += wait
        deliverer.deliver_all_due()
    assert {(m.status, m.attempts) for m in mail_of(store, other.id)} == {("failed", 3)}


def test_a_crashed_worker_loses_no_mail_and_its_messages_go_out_once(store, shop, shippable):
    order = pay(store, new_order(store, shippable))
    clock = Clock()
    with SmtpServer() as server:
        crashed = smtp_deliverer(store, server.port, clock, lease_seconds=120)
        token, claimed = crashed._claim()  # it claimed both, then died before sending
        assert len(claimed) == 2
        survivor = smtp_deliverer(store, server.port, clock, lease_seconds=120)
        assert survivor.deliver_all_due().claimed == 0  # leased: not sent twice at once
        clock.now += 120
        assert survivor.deliver_all_due().sent == 2  # the lease ran out: taken over
        # The dead worker comes back: its claim is no longer its own, so it sends nothing.
        assert not crashed._still_ours(claimed[0], token)
    assert len(server.received) == 2
    assert {m.status for m in mail_of(store, order.id)} == {"sent"}


def test_a_failing_mail_server_never_fails_the_payment(
    store, shop, shippable, refused_port, tmp_path
):
    order = pay(store, new_order(store, shippable))
    assert order.status == "paid"
    report = smtp_deliverer(store, refused_port).deliver_all_due()
    assert report.retrying == 2
    with store.read() as conn:
        assert orders.get_order(conn, order.id).status == "paid"


def test_without_smtp_messages_are_eml_files(store, shop, shippable, tmp_path):
    order = pay(store, new_order(store, shippable))
    deliverer = MailDeliverer(store, FileTransport(tmp_path / "mail"), sender=SENDER, clock=Clock())
    assert deliverer.deliver_all_due().sent == 2
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    recipients = {str(parse(f.read_bytes())["To"]) for f in files}
    assert recipients == {f"Ana Lopez <{BUYER}>", OWNER}
    assert all(order.id in parse(f.read_bytes())["Subject"] for f in files)


# -- resending -----------------------------------------------------------------------------------


def test_resend_queues_the_receipt_again_once_while_it_waits(store, shop, shippable):
    order = pay(store, new_order(store, shippable, locale="fr"))
    first = resend_receipt(store, order.id, merchant_id=shop.id, now=T0 + 5)
    again = resend_receipt(store, order.id, merchant_id=shop.id, now=T0 + 6)
    assert first.id == again.id and (first.kind, first.to_address) == ("receipt", BUYER)
    assert first.locale == "fr" and first.event_id is None
    elsewhere = resend_receipt(store, order.id, to="ana.work@example.com")
    assert elsewhere.id != first.id
    with SmtpServer() as server:
        smtp_deliverer(store, server.port, Clock(T0 + 10)).deliver_all_due()
    receipts = [r for r in server.received if r.rcpt_tos != [OWNER]]
    assert sorted(r.rcpt_tos[0] for r in receipts) == sorted([BUYER, BUYER, "ana.work@example.com"])
    assert len({parse(r.raw)["Message-ID"] for r in receipts}) == 3


def test_resend_refuses_what_has_no_receipt(store, shop, shippable, make_product):
    pending = new_order(store, shippable)
    with pytest.raises(Conflict) as caught:
        resend_receipt(store, pending.id)
    assert caught.value.code == "order_not_paid"
    anonymous = pay(store, new_order(store, make_product()), customer=Customer(), shipping=None)
    with pytest.raises(Conflict) as caught:
        resend_receipt(store, anonymous.id)
    assert caught.value.code == "no_buyer_email"
    with pytest.raises(NotFound):
        resend_receipt(store, anonymous.id, merchant_id="mer_someone_else")
    paid = pay(store, new_order(store, shippable))
    for bad in ("not an address", "a@b.example\r\nBcc: x@evil.example", "x" * 250 + "@b.example"):
        with pytest.raises(InvalidRequest) as caught:
            resend_receipt(store, paid.id, to=bad)
        assert caught.value.param == "to"


# -- the command line ----------------------------------------------------------------------------


def test_cli_resend_and_deliver_write_eml_files_under_home(
    monkeypatch, tmp_path, database_url, store, shop, shippable, capsys
):
    order = pay(store, new_order(store, shippable))
    with store.transaction() as conn:
        conn.execute(mail_deliveries.update().values(status="sent"))
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BUYBUTTON_PUBLIC_URL", "http://shop.test")

    assert cli.main(["mail", "resend", order.id, "--json"]) == 0
    queued = json.loads(capsys.readouterr().out)
    assert (queued["kind"], queued["to_address"], queued["status"]) == ("receipt", BUYER, "pending")
    assert cli.main(["mail", "deliver", "--once"]) == 0
    assert "Mail: 1 sent, 0 to retry, 0 given up" in capsys.readouterr().out
    [eml] = (tmp_path / "mail").glob("*.eml")
    text = text_and_html(parse(eml.read_bytes()))[0]
    assert "http://shop.test/orders/" in text  # a signed order link on the public URL


def test_cli_lists_the_mail_of_an_order_with_what_became_of_it(
    monkeypatch, tmp_path, database_url, store, shop, shippable, refused_port, capsys
):
    order = pay(store, new_order(store, shippable))
    smtp_deliverer(store, refused_port).deliver_all_due()
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert cli.main(["mail", "list", order.id]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("pending  1 attempt(s)" in line for line in lines)
    assert "receipt" in lines[0] and BUYER in lines[0] and "Could not reach" in lines[0]
    assert cli.main(["mail", "list", order.id, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["data"]
    assert [m["kind"] for m in listed] == ["receipt", "new_order"]
    assert cli.main(["mail", "list", "ord_nope"]) != 0
    assert "No such order" in capsys.readouterr().err


def test_cli_resend_of_an_unpaid_order_is_one_line(
    monkeypatch, tmp_path, database_url, store, shop, shippable, capsys
):
    order = new_order(store, shippable)
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert cli.main(["mail", "resend", order.id]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Only a paid order has a receipt" in err


def test_the_mail_retry_schedule_comes_from_the_settings(tmp_path):
    base = Settings(home=tmp_path, database_url="sqlite://", secret_keys=("k" * 32,))
    assert mail_policy(base).max_attempts == 12
    tuned = mail_policy(base.with_overrides(mail_retry_schedule=(60, 600)))
    assert (tuned.max_attempts, tuned.waits) == (3, (60, 600))


# -- the worker beside the server ------------------------------------------------------------------


def test_the_mail_thread_sends_in_the_background_until_stopped(store, shop, shippable):
    with SmtpServer() as server:
        deliverer = smtp_deliverer(store, server.port, clock=time.time)
        thread, stop = start_mail_thread(deliverer, idle_seconds=0.05)
        try:
            with store.transaction() as conn:
                order = orders.create_order(
                    conn, catalog.offer_claims(shippable), 1, provider="sandbox", ttl_seconds=60
                )
                orders.mark_paid(
                    conn,
                    order.id,
                    amount=order.amount + 490,
                    currency="eur",
                    payment_id="pay_thread",
                    customer=ANA,
                    shipping=SHIP_TO,
                )
            assert wait_for(lambda: len(server.received) == 2), "the mail thread sent nothing"
        finally:
            stop.set()
            thread.join(5)
    assert not thread.is_alive()
    assert {m.status for m in mail_of(store, order.id)} == {"sent"}


@pytest.mark.parametrize(
    "argv, mail_threads",
    [(["serve"], 1), (["serve", "--no-mail"], 0), (["demo"], 1), (["demo", "--no-mail"], 0)],
)
def test_serve_and_demo_run_one_mail_thread_unless_told_not_to(
    monkeypatch, tmp_path, sqlite_url, argv, mail_threads, capsys
):
    from buybutton_server import serving

    seen = []

    def fake_serve(settings, **options):  # stands in for gunicorn, which blocks until stopped
        alive = [t for t in threading.enumerate() if t.name == "buybutton-mail"]
        seen.append(alive)

    monkeypatch.setattr(serving, "serve", fake_serve)
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("BUYBUTTON_PUBLIC_URL", "http://127.0.0.1:8000")
    assert cli.main([*argv, "--port", "0"]) == 0
    [alive] = seen
    assert len(alive) == mail_threads
    assert not any(t.is_alive() for t in alive)  # stopped with the server


def wait_for(predicate, seconds: float = 20.0, step: float = 0.05):
    """Poll ``predicate`` until it is true or ``seconds`` pass; return its last value."""
    deadline = time.monotonic() + seconds
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(step)
    return value


def test_the_receipt_of_a_digital_product_has_its_download_link_and_licence_key(
    store, shop, make_product, signer
):
    from buybutton import digital
    from buybutton.storage import StoredFile

    product = make_product(name="Field guide", license_keys=True)
    with store.transaction() as conn:
        catalog.attach_file(
            conn,
            shop.id,
            product.id,
            StoredFile("c" * 64, 10, "c" * 64, "application/pdf"),
            name="guide.pdf",
        )
    order = pay(store, new_order(store, product, quantity=1), shipping=None)

    class Links:
        def download_url(self, token: str) -> str:
            return f"http://shop.test/downloads/{token}"

    def delivery(conn, order_id):
        return digital.order_delivery(
            conn, order_id, signer=signer, links=Links(), policy=digital.DownloadPolicy(), now=T0
        )

    with SmtpServer() as server:
        smtp_deliverer(store, server.port, order_delivery=delivery).deliver_all_due()
    receipt = next(parse(r.raw) for r in server.received if r.rcpt_tos == [BUYER])
    text, html = text_and_html(receipt)
    with store.read() as conn:
        key = digital.get_entitlement(conn, order.id).license_key
    link = f"http://shop.test/downloads/{signer.sign_download(order.id)}"
    assert link in text and link in html.replace("&amp;", "&")
    assert key in text and key in html
