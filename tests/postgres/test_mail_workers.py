"""Mail workers racing on a real PostgreSQL: ``FOR UPDATE SKIP LOCKED`` claims send each
message once, whichever worker takes it."""

from __future__ import annotations

import threading
from collections import Counter
from email import message_from_bytes, policy

import pytest

from buybutton import catalog, merchants, orders
from buybutton.buyers import Customer
from buybutton.config import parse_smtp_url
from buybutton.mail import SmtpTransport
from buybutton.mail.delivery import MailDeliverer
from buybutton.store import Store
from tests.support.smtp_server import SmtpServer

pytestmark = pytest.mark.postgres

ORDERS = 20


@pytest.fixture
def pg_store(postgres_url):
    store = Store(postgres_url)
    store.upgrade()
    yield store
    store.dispose()


def test_racing_mail_workers_send_each_message_once(pg_store):
    with pg_store.transaction() as conn:
        merchant, _ = merchants.create_merchant(conn, "Race Shop")
        merchants.update_merchant(conn, merchant.id, {"email": "owner@race.example"})
        product = catalog.create_product(
            conn, merchant.id, {"name": "Mug", "amount": 1200, "currency": "eur"}
        )
    for n in range(ORDERS):
        with pg_store.transaction() as conn:
            order = orders.create_order(
                conn, catalog.offer_claims(product), 1, provider="sandbox", ttl_seconds=1800
            )
            orders.mark_paid(
                conn,
                order.id,
                amount=1200,
                currency="eur",
                payment_id=None,
                customer=Customer(email=f"buyer{n}@example.com"),
            )
    url = pg_store.url.render_as_string(hide_password=False)
    stores = [Store(url) for _ in range(3)]  # three processes' connection pools
    barrier = threading.Barrier(len(stores))
    reports = []
    with SmtpServer() as server:
        transport = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{server.port}?timeout=5"))

        def work(store):
            barrier.wait()
            deliverer = MailDeliverer(store, transport, sender="orders@race.example", batch_size=2)
            reports.append(deliverer.deliver_all_due())

        threads = [threading.Thread(target=work, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    for s in stores:
        s.dispose()
    ids = Counter(
        str(message_from_bytes(r.raw, policy=policy.default)["Message-ID"]) for r in server.received
    )
    assert len(ids) == 2 * ORDERS and set(ids.values()) == {1}
    assert sum(r.sent for r in reports) == 2 * ORDERS
    assert sum(1 for r in reports if r.sent) >= 2  # more than one worker took part
