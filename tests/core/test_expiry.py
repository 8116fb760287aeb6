"""Lapsed checkouts expire off the request path, in set-based batches (issue 16)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from buybutton import catalog, orders
from buybutton.checkout import start_checkout
from buybutton.expiry import run_expiry
from buybutton.payments.sandbox import SandboxProvider
from buybutton.store.schema import events, webhook_deliveries
from buybutton.webhooks import create_endpoint
from tests.support.statements import counting

TTL = 60


def new_order(store, signer, token, quantity=1, now=1_000):
    with store.transaction() as conn:
        return orders.create_order(
            conn, signer.verify_token(token), quantity, provider="sandbox", ttl_seconds=TTL, now=now
        )


def stock_of(store, product):
    with store.read() as conn:
        return catalog.get_product(conn, product.id).stock


def test_expiry_loops_over_batches_until_none_is_left_and_releases_exact_stock(
    store, signer, merchant, make_product, make_token
):
    mugs, pins, unlimited = make_product(stock=40), make_product(stock=30), make_product()
    for product, quantity in ((mugs, 3), (pins, 2), (unlimited, 5)):
        token = make_token(product)
        for _ in range(7):
            new_order(store, signer, token, quantity=quantity, now=1_000)
    fresh = new_order(store, signer, make_token(mugs), quantity=1, now=1_030)
    assert (stock_of(store, mugs), stock_of(store, pins)) == (40 - 21 - 1, 30 - 14)

    assert orders.expire_stale_orders(store, now=1_000 + TTL, batch_size=4) == 21
    assert (stock_of(store, mugs), stock_of(store, pins), stock_of(store, unlimited)) == (
        39,
        30,
        None,
    )
    with store.read() as conn:
        statuses = dict(
            conn.execute(
                select(orders.orders.c.status, func.count()).group_by(orders.orders.c.status)
            ).all()
        )
        assert orders.get_order(conn, fresh.id).status == "pending"
    assert statuses == {"expired": 21, "pending": 1}
    assert orders.expire_stale_orders(store, now=1_000 + TTL) == 0


def test_expiry_statements_do_not_grow_with_the_orders_of_a_batch(
    store, signer, merchant, make_product, make_token
):
    """A batch is a fixed handful of statements however many orders it moves."""
    counts = []
    for size in (2, 20):
        token = make_token(make_product(stock=100))
        for _ in range(size):
            new_order(store, signer, token, now=1_000)
        with counting(store.engine) as sent:
            assert orders.expire_stale_orders(store, now=1_000 + TTL, batch_size=50) == size
        counts.append((len(sent.statements), sent.writes))
    assert counts[0] == counts[1] and counts[0][1] == 1


def test_each_expired_order_gets_its_event_and_deliveries(
    store, signer, merchant, make_product, make_token
):
    with store.transaction() as conn:
        hook = create_endpoint(
            conn,
            merchant.id,
            {"url": "https://hooks.example.com/in", "events": ["order.expired"]},
            allow_private=True,
        )
        create_endpoint(
            conn,
            merchant.id,
            {"url": "https://hooks.example.com/paid", "events": ["order.paid"]},
            allow_private=True,
        )
    token = make_token(make_product(stock=10))
    lapsed = [new_order(store, signer, token, now=1_000) for _ in range(3)]
    assert orders.expire_stale_orders(store, now=1_000 + TTL, batch_size=2) == 3
    with store.read() as conn:
        rows = conn.execute(select(events.c.id, events.c.order_id, events.c.type)).all()
        targets = conn.execute(select(webhook_deliveries.c.endpoint_id)).scalars().all()
    assert sorted((r.order_id, r.type) for r in rows) == sorted(
        (o.id, "order.expired") for o in lapsed
    )
    assert targets == [hook.id] * 3


def test_a_checkout_never_expires_other_orders(store, signer, make_product, make_token):
    product = make_product(stock=5)
    token = make_token(product)
    lapsed = new_order(store, signer, token, quantity=2, now=1_000)
    start_checkout(
        store,
        signer,
        SandboxProvider(store),
        token,
        1,
        ttl_seconds=TTL,
        return_urls=lambda o: ("http://s/ok", "http://s/cancel"),
        now=5_000,
    )
    with store.read() as conn:
        assert orders.get_order(conn, lapsed.id).status == "pending"
    assert stock_of(store, product) == 2


def test_the_expiry_worker_sweeps_until_stopped(store, signer, make_product, make_token):
    product = make_product(stock=5)
    lapsed = new_order(store, signer, make_token(product), quantity=2, now=1_000)
    stop = threading.Event()
    ticks: list[float] = []

    def clock() -> float:
        ticks.append(1_000 + TTL)
        if len(ticks) >= 2:
            stop.set()  # the second sweep is the last
        return 1_000 + TTL

    run_expiry(store, stop, interval_seconds=0, clock=clock)
    assert len(ticks) == 2
    with store.read() as conn:
        assert orders.get_order(conn, lapsed.id).status == "expired"
    assert stock_of(store, product) == 5
