"""Workers racing on a real PostgreSQL: ``FOR UPDATE SKIP LOCKED`` claims give each event to
each endpoint exactly once when every delivery succeeds."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest

from buybutton import catalog, merchants, orders, webhooks
from buybutton.store import Store
from buybutton.webhooks import Deliverer

pytestmark = pytest.mark.postgres

EVENTS = 40


@pytest.fixture
def pg_store(postgres_url):
    store = Store(postgres_url)
    store.upgrade()
    yield store
    store.dispose()


def test_two_workers_deliver_each_event_once_per_endpoint(pg_store, receiver):
    with pg_store.transaction() as conn:
        merchant, _ = merchants.create_merchant(conn, "Race Shop")
        product = catalog.create_product(
            conn, merchant.id, {"name": "Mug", "amount": 1200, "currency": "eur"}
        )
        for path in ("a", "b"):
            webhooks.create_endpoint(
                conn,
                merchant.id,
                {"url": f"{receiver.url}/{path}", "events": ["order.paid"]},
                allow_private=True,
            )
    for _ in range(EVENTS):
        with pg_store.transaction() as conn:
            order = orders.create_order(
                conn, catalog.offer_claims(product), 1, provider="sandbox", ttl_seconds=1800
            )
            orders.mark_paid(conn, order.id, amount=1200, currency="eur", payment_id=None)

    # Two workers, each with its own connection pool, as two processes would have, and one
    # sending thread each (with more, the first to claim would take both endpoints at once).
    stores = [Store(pg_store.url.render_as_string(hide_password=False)) for _ in range(2)]
    barrier = threading.Barrier(2)
    reports = []

    def work(store):
        barrier.wait()
        reports.append(
            Deliverer(store, allow_private=True, batch_size=3, concurrency=1).deliver_all_due()
        )

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for s in stores:
        s.dispose()

    receipts = Counter((r.path, json.loads(r.body)["id"]) for r in receiver.received)
    assert len(receipts) == 2 * EVENTS
    assert set(receipts.values()) == {1}
    assert sum(r.succeeded for r in reports) == 2 * EVENTS
    assert all(r.succeeded > 0 for r in reports)  # both workers took part


def seed_backlog(store, receiver, count: int):
    with store.transaction() as conn:
        merchant, _ = merchants.create_merchant(conn, "Busy Shop")
        product = catalog.create_product(
            conn, merchant.id, {"name": "Mug", "amount": 1200, "currency": "eur"}
        )
        endpoint = webhooks.create_endpoint(
            conn, merchant.id, {"url": receiver.url, "events": ["*"]}, allow_private=True
        )
    for _ in range(count):
        with store.transaction() as conn:
            order = orders.create_order(
                conn, catalog.offer_claims(product), 1, provider="sandbox", ttl_seconds=1800
            )
            orders.mark_paid(conn, order.id, amount=1200, currency="eur", payment_id=None)
    return endpoint


def test_racing_claims_give_an_endpoint_to_one_worker_only(pg_store, receiver):
    endpoint = seed_backlog(pg_store, receiver, 30)
    url = pg_store.url.render_as_string(hide_password=False)
    stores = [Store(url) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    claims = []

    def claim(store):
        worker = Deliverer(store, allow_private=True, batch_size=2)
        barrier.wait()
        claims.extend(worker._claim_groups(4))

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for s in stores:
        s.dispose()
    # Eight workers asked at the same instant; one endpoint, allowed one claim: one got it.
    assert [(rows[0].endpoint_id, len(rows)) for _, rows in claims] == [(endpoint.id, 2)]


def test_a_claim_skips_an_endpoint_another_worker_is_claiming_without_waiting(pg_store, receiver):
    from sqlalchemy import select

    from buybutton.store.schema import webhook_endpoints

    busy = seed_backlog(pg_store, receiver, 1)
    free = seed_backlog(pg_store, receiver, 1)
    other = Store(pg_store.url.render_as_string(hide_password=False))
    try:
        with other.transaction() as conn:  # another worker, mid-claim, holds busy's row
            conn.execute(
                select(webhook_endpoints.c.id)
                .where(webhook_endpoints.c.id == busy.id)
                .with_for_update(key_share=True)
            )
            groups = []
            claimer = threading.Thread(
                target=lambda: groups.extend(
                    Deliverer(pg_store, allow_private=True)._claim_groups(4)
                )
            )
            claimer.start()
            claimer.join(timeout=30)
            assert not claimer.is_alive(), "the claim waited for the other worker's lock"
        assert [rows[0].endpoint_id for _, rows in groups] == [free.id]
    finally:
        other.dispose()
