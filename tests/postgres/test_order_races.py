"""Order transitions racing on a real PostgreSQL: a payment arriving while ``orders expire`` lapses
the same order must end in one consistent story, whatever the interleaving.

Each round starts a payment (the provider-event path a webhook takes) and an expiry sweep at the
same moment, on two connection pools, as a web worker and the cron job would. Then stock, the
order and its outbox events must add up: paid with its stock held (or flagged oversold), and the
events either ``order.paid`` alone or ``order.expired`` then ``order.paid`` (a late payment).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from buybutton import catalog, merchants, orders
from buybutton.errors import SoldOut
from buybutton.payments.base import ProviderEvent
from buybutton.store import Store
from buybutton.store.schema import events

pytestmark = pytest.mark.postgres

ROUNDS = 60
STOCK = 3


@pytest.fixture
def pg_stores(postgres_url):
    # Pools of their own, as separate processes (web workers, the expiry cron job) would have.
    stores = [Store(postgres_url) for _ in range(3)]
    yield stores
    for store in stores:
        store.dispose()


def _race(*jobs) -> list[BaseException]:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        barrier.wait()
        try:
            job()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racing transaction never finished"
    return errors


def _story(store: Store, order_id: str) -> list[str]:
    with store.read() as conn:
        return list(
            conn.execute(
                select(events.c.type).where(events.c.order_id == order_id).order_by(events.c.pk)
            ).scalars()
        )


def test_payment_racing_expiry_always_adds_up(pg_stores):
    pay_store, cron_store, _ = pg_stores
    with pay_store.transaction() as conn:
        merchant, _ = merchants.create_merchant(conn, "Race Shop")
        product = catalog.create_product(
            conn,
            merchant.id,
            {"name": "Mug", "amount": 1200, "currency": "eur", "stock": STOCK * ROUNDS},
        )
    created = 1_000_000
    outcomes = set()
    for round_no in range(ROUNDS):
        with pay_store.transaction() as conn:
            order = orders.create_order(
                conn,
                catalog.offer_claims(product),
                STOCK,
                provider="sandbox",
                ttl_seconds=60,
                now=created,
            )
        paid = ProviderEvent(
            id=f"evt_race_{round_no}",
            kind="paid",
            type="checkout.session.completed",
            order_id=order.id,
            amount=1200 * STOCK,
            currency="eur",
            payment_id=f"pi_{round_no}",
        )
        errors = _race(
            lambda: orders.apply_provider_event(pay_store, "sandbox", paid, now=created + 61),  # noqa: B023 (_race runs it within this iteration)
            lambda: orders.expire_stale_orders(cron_store, product_id=product.id, now=created + 61),
        )
        assert not errors, errors

        with pay_store.read() as conn:
            after = orders.get_order(conn, order.id)
            stock = catalog.get_product(conn, product.id).stock
        story = _story(pay_store, order.id)
        outcomes.add(tuple(story))
        where = (
            f"round {round_no}: {after.status}, reserved={after.stock_reserved}, "
            f"flag={after.flag}, stock={stock}, events={story}"
        )
        assert after.status == "paid", where
        # Paid orders hold their stock; a late payment re-reserved it (plenty is left here).
        assert after.stock_reserved and after.flag is None, where
        assert stock == STOCK * ROUNDS - STOCK * (round_no + 1), where
        assert story in (["order.paid"], ["order.expired", "order.paid"]), where
    assert outcomes  # every round was checked above; which interleavings won varies by run


def test_late_payment_racing_expiry_and_a_new_checkout_never_loses_stock(pg_stores):
    """Three at once: the payment, the expiry sweep, and another shopper's checkout wanting the
    stock the expiry gives back. Every unit is on the shelf or held by exactly one order, and a
    paid order that lost its units to the other shopper says so (``oversold``)."""
    pay_store, cron_store, shop_store = pg_stores
    with pay_store.transaction() as conn:
        merchant, _ = merchants.create_merchant(conn, "Race Shop")
    created = 1_000_000
    for round_no in range(ROUNDS // 2):
        with pay_store.transaction() as conn:
            product = catalog.create_product(
                conn,
                merchant.id,
                {"name": "Mug", "amount": 1200, "currency": "eur", "stock": STOCK},
            )
            order = orders.create_order(
                conn,
                catalog.offer_claims(product),
                STOCK,
                provider="sandbox",
                ttl_seconds=60,
                now=created,
            )
        paid = ProviderEvent(
            id=f"evt_late_{round_no}",
            kind="paid",
            type="checkout.session.completed",
            order_id=order.id,
            amount=1200 * STOCK,
            currency="eur",
            payment_id=f"pi_late_{round_no}",
        )

        def other_shopper(product=product):  # bound now: the loop rebinds it
            try:
                with shop_store.transaction() as conn:
                    orders.create_order(
                        conn,
                        catalog.offer_claims(product),
                        STOCK,
                        provider="sandbox",
                        ttl_seconds=60,
                        now=created + 61,
                    )
            except SoldOut:
                pass

        errors = _race(
            lambda: orders.apply_provider_event(pay_store, "sandbox", paid, now=created + 61),  # noqa: B023 (_race runs it within this iteration)
            lambda: orders.expire_stale_orders(cron_store, product_id=product.id, now=created + 61),  # noqa: B023 (_race runs it within this iteration)
            other_shopper,
        )
        assert not errors, errors

        with pay_store.read() as conn:
            mine = orders.get_order(conn, order.id)
            everyone, _ = orders.list_orders(conn, merchant.id, product_id=product.id)
            stock = catalog.get_product(conn, product.id).stock
        held = sum(o.quantity for o in everyone if o.stock_reserved)
        story = _story(pay_store, order.id)
        where = f"round {round_no}: {mine}, stock={stock}, held={held}, events={story}"
        assert stock + held == STOCK, where
        assert mine.status == "paid", where
        assert mine.stock_reserved != (mine.flag == "oversold"), where
        assert story in (["order.paid"], ["order.expired", "order.paid"]), where
        assert all(o.status == "pending" and o.stock_reserved for o in everyone if o.id != order.id)


def test_parallel_checkouts_of_one_client_cannot_pass_the_held_units_cap(pg_stores):
    """Many checkouts of one client at once: each counts what the client holds and reserves in
    one transaction, queued per client, so together they never hold more than the cap."""
    from buybutton.checkout import client_key
    from buybutton.errors import RateLimited

    store = pg_stores[0]
    with store.transaction() as conn:
        merchant, _ = merchants.create_merchant(conn, "Race Shop")
        product = catalog.create_product(
            conn, merchant.id, {"name": "Mug", "amount": 1200, "currency": "eur", "stock": 1000}
        )
    hoarder, shopper = client_key("k", "203.0.113.7"), client_key("k", "198.51.100.9")
    for round_no in range(ROUNDS // 6):
        refused = []

        def grab(client, pool, round_no=round_no, refused=refused):  # bound now, as above
            try:
                with pool.transaction() as conn:
                    orders.create_order(
                        conn,
                        catalog.offer_claims(product),
                        4,
                        provider="sandbox",
                        ttl_seconds=60,
                        client_key=client,
                        max_held_units=10,
                        now=1_000_000 + round_no * 100,
                    )
            except RateLimited:
                refused.append(client)

        errors = _race(
            *[lambda i=i: grab(hoarder, pg_stores[i % 3]) for i in range(8)],
            lambda: grab(shopper, pg_stores[2]),
        )
        assert not errors, errors
        with store.read() as conn:
            held, _ = orders.list_orders(conn, merchant.id, status="pending", limit=100)
        now_held = [o for o in held if o.expires_at > 1_000_000 + round_no * 100]
        assert sum(o.quantity for o in now_held) == 4 * 2 + 4, f"round {round_no}: " + ", ".join(
            str(o.quantity) for o in now_held
        )
        assert refused == [hoarder] * 6
