"""Downloads racing on a real PostgreSQL: many shoppers' browsers (or one download manager)
fetching one order's file at the same moment never get more downloads than the link allows,
and a refund racing the downloads stops every one that commits after it."""

from __future__ import annotations

import threading

import pytest

from buybutton import catalog, digital, merchants, orders
from buybutton.digital import DownloadPolicy
from buybutton.errors import Gone
from buybutton.storage import StoredFile
from buybutton.store import Store

pytestmark = pytest.mark.postgres

CLIENTS = 12
LIMIT = 3
NOW = 1_000_000


@pytest.fixture
def pg_stores(postgres_url):
    # One pool per client: separate web workers.
    stores = [Store(postgres_url) for _ in range(CLIENTS + 1)]
    yield stores
    for store in stores:
        store.dispose()


def _paid_order(store: Store) -> str:
    with store.transaction() as conn:
        merchant, _ = merchants.create_merchant(conn, "Race Shop")
        product = catalog.create_product(
            conn, merchant.id, {"name": "Guide", "amount": 500, "currency": "eur"}
        )
        catalog.attach_file(
            conn,
            merchant.id,
            product.id,
            StoredFile("a" * 64, 10, "a" * 64, "application/pdf"),
            name="guide.pdf",
        )
        order = orders.create_order(
            conn, catalog.offer_claims(product), 1, provider="sandbox", ttl_seconds=600, now=NOW
        )
        orders.mark_paid(conn, order.id, amount=500, currency="eur", payment_id="pi_1", now=NOW)
    return order.id


def _race(jobs) -> None:
    barrier = threading.Barrier(len(jobs))
    threads = [threading.Thread(target=lambda j=job: (barrier.wait(), j())) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racing transaction never finished"


def test_concurrent_downloads_never_exceed_the_count(pg_stores):
    order_id = _paid_order(pg_stores[0])
    policy = DownloadPolicy(ttl_seconds=86400, limit=LIMIT)
    served, refused, lock = [], [], threading.Lock()

    def download(store: Store) -> None:
        try:
            with store.transaction() as conn:
                left = digital.claim_download(conn, order_id, policy, now=NOW + 1).downloads_left
            with lock:
                served.append(left)
        except Gone as exc:
            with lock:
                refused.append(exc.code)

    _race([lambda s=store: download(s) for store in pg_stores[1:]])
    assert len(served) == LIMIT and sorted(served) == list(range(LIMIT))
    assert refused == ["download_limit_reached"] * (CLIENTS - LIMIT)
    with pg_stores[0].read() as conn:
        assert digital.get_entitlement(conn, order_id).downloads_used == LIMIT


def test_a_refund_racing_downloads_leaves_none_counted_after_it(pg_stores):
    order_id = _paid_order(pg_stores[0])
    policy = DownloadPolicy(ttl_seconds=86400, limit=CLIENTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def download(store: Store) -> None:
        try:
            with store.transaction() as conn:
                digital.claim_download(conn, order_id, policy, now=NOW + 1)
            outcome = "served"
        except Gone as exc:
            outcome = exc.code
        with lock:
            outcomes.append(outcome)

    def refund() -> None:
        with pg_stores[0].transaction() as conn:
            orders.mark_refunded(conn, order_id, now=NOW + 1)

    _race([refund, *(lambda s=store: download(s) for store in pg_stores[1:])])
    assert set(outcomes) <= {"served", "download_refunded"}
    with pg_stores[0].read() as conn:
        used = digital.get_entitlement(conn, order_id).downloads_used
        status = orders.get_order(conn, order_id).status
    assert status == "refunded" and used == outcomes.count("served")
    with pg_stores[0].transaction() as conn, pytest.raises(Gone) as after:
        digital.claim_download(conn, order_id, policy, now=NOW + 2)
    assert after.value.code == "download_refunded"
