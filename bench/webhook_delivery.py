"""Webhook delivery: throughput, and fairness when one receiver is slow.

    .venv/bin/python bench/webhook_delivery.py [--events 400] [--slow-events 100]

Throughput: how many signed deliveries per second a worker delivers to receivers on 127.0.0.1
that answer 200 at once, on SQLite and (if BUYBUTTON_TEST_POSTGRES_URL is set) PostgreSQL,
with 1 or 4 endpoints, 1 or 2 workers, and 1 or 4 sending threads per worker. Each event is a
real ``order.paid`` from the order state machine, so the figures measure buybutton's side
(claim, sign, POST, record), not a slow receiver.

Fairness: one endpoint's receiver answers one byte every half second (it never finishes in
time), three others answer at once. One worker (4 threads, a 2 s deadline) delivers; the figure
is how long the fast endpoints' deliveries take while the slow one's are stuck, and how many of
the slow one's attempts were cut at the deadline meanwhile.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from buybutton import catalog, merchants, orders, webhooks  # noqa: E402
from buybutton.store import Store  # noqa: E402
from buybutton.store.schema import webhook_deliveries  # noqa: E402
from tests.support.webhook_receiver import DrippingReceiver, Receiver  # noqa: E402


def seed(url: str, endpoint_urls: list[str], count: int) -> None:
    """``count`` paid orders of one merchant subscribed at every URL (``count`` × URLs rows)."""
    store = Store(url)
    store.upgrade()
    with store.transaction() as conn:
        merchant, _ = merchants.create_merchant(conn, "Bench Shop")
        product = catalog.create_product(
            conn, merchant.id, {"name": "Mug", "amount": 1200, "currency": "eur"}
        )
        for endpoint_url in endpoint_urls:
            webhooks.create_endpoint(
                conn, merchant.id, {"url": endpoint_url, "events": ["*"]}, allow_private=True
            )
    claims = catalog.offer_claims(product)
    for _ in range(count):
        with store.transaction() as conn:
            order = orders.create_order(conn, claims, 1, provider="sandbox", ttl_seconds=1800)
            orders.mark_paid(conn, order.id, amount=1200, currency="eur", payment_id=None)
    store.dispose()


def run(url: str, workers: int, concurrency: int) -> float:
    stores = [Store(url) for _ in range(workers)]
    barrier = threading.Barrier(workers + 1)

    def work(store):
        barrier.wait()
        webhooks.Deliverer(store, allow_private=True, concurrency=concurrency).deliver_all_due()

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    for s in stores:
        s.dispose()
    return elapsed


def fairness(url: str, slow_events: int) -> tuple[float, int, int]:
    """Seconds until the fast endpoints had all their deliveries, the fast deliveries, and the
    slow endpoint's attempts cut at the deadline by then."""
    slow = DrippingReceiver(drip="headers", interval=0.5)
    fast = Receiver()
    seed(url, [slow.url] + [f"{fast.url}/{n}" for n in range(3)], slow_events)
    store = Store(url)
    stop = threading.Event()
    worker = webhooks.Deliverer(store, allow_private=True, timeout=2, concurrency=4)
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"idle_seconds": 0.05})
    started = time.perf_counter()
    thread.start()
    try:
        while len(fast.received) < 3 * slow_events and time.perf_counter() - started < 300:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        with store.read() as conn:
            cut = conn.execute(
                select(func.count())
                .select_from(webhook_deliveries)
                .where(webhook_deliveries.c.last_error.like("%deadline%"))
            ).scalar_one()
    finally:
        stop.set()
        thread.join(30)
        store.dispose()
        slow.close()
        fast.close()
    return elapsed, len(fast.received), cut


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400, help="deliveries per throughput run")
    parser.add_argument(
        "--slow-events",
        dest="slow_events",
        type=int,
        default=100,
        help="events in the fairness run (each to 1 slow and 3 fast endpoints)",
    )
    args = parser.parse_args()
    logging.getLogger("buybutton.webhooks").setLevel(logging.ERROR)  # the slow one's warnings
    targets = []
    tmp = tempfile.mkdtemp()
    targets.append(("sqlite", lambda n: f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:8]}.sqlite3"))
    pg = os.environ.get("BUYBUTTON_TEST_POSTGRES_URL")
    schemas: list[str] = []
    if pg:
        admin = create_engine(pg)

        def pg_url(n):
            schema = f"bbbench_{uuid.uuid4().hex[:8]}"
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            schemas.append(schema)
            return (
                make_url(pg)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )

        targets.append(("postgresql", pg_url))
    print(f"{os.cpu_count()} CPUs, {args.events} deliveries per run")
    print(
        f"{'database':<12}{'endpoints':>10}{'workers':>8}{'threads':>8}{'seconds':>10}"
        f"{'deliveries/s':>14}"
    )
    try:
        for name, make in targets:
            for endpoints, workers, concurrency in (
                (1, 1, 1),
                (1, 1, 4),
                (1, 2, 4),
                (4, 1, 1),
                (4, 1, 4),
                (4, 2, 4),
            ):
                receiver = Receiver()
                url = make(workers)
                seed(
                    url, [f"{receiver.url}/{n}" for n in range(endpoints)], args.events // endpoints
                )
                elapsed = run(url, workers, concurrency)
                assert len(receiver.received) == args.events, len(receiver.received)
                receiver.close()
                print(
                    f"{name:<12}{endpoints:>10}{workers:>8}{concurrency:>8}{elapsed:>10.2f}"
                    f"{args.events / elapsed:>14.0f}"
                )
        print(
            f"\nfairness: 1 dripping + 3 fast endpoints, {args.slow_events} events, "
            "1 worker, 4 threads, 2 s deadline"
        )
        for name, make in targets:
            elapsed, delivered, cut = fairness(make(0), args.slow_events)
            print(
                f"{name:<12} {delivered} fast deliveries in {elapsed:.2f} s "
                f"({delivered / elapsed:.0f}/s); meanwhile {cut} attempt(s) to the slow one "
                "cut at the deadline"
            )
    finally:
        if pg:
            with admin.begin() as conn:
                for schema in schemas:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
