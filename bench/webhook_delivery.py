"""Webhook delivery throughput: how many signed events per second 1 or 2 workers deliver to a
local receiver, on SQLite and (if BUYBUTTON_TEST_POSTGRES_URL is set) PostgreSQL.

    .venv/bin/python bench/webhook_delivery.py [--events 400]

Each event is a real ``order.paid`` from the order state machine; the receiver answers 200 at
once, so the figures measure buybutton's side (claim, sign, POST, record), not a slow receiver.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from buybutton import catalog, events, merchants, orders  # noqa: E402
from buybutton.store import Store  # noqa: E402
from tests.webhook_receiver import Receiver  # noqa: E402


def seed(url: str, receiver: Receiver, count: int) -> None:
    store = Store(url)
    store.upgrade()
    with store.transaction() as conn:
        merchant, _ = merchants.create_merchant(conn, "Bench Shop")
        product = catalog.create_product(conn, merchant.id,
                                         {"name": "Mug", "amount": 1200, "currency": "eur"})
        events.create_endpoint(conn, merchant.id, {"url": receiver.url, "events": ["*"]},
                               allow_private=True)
    claims = catalog.offer_claims(product)
    for _ in range(count):
        with store.transaction() as conn:
            order = orders.create_order(conn, claims, 1, provider="sandbox", ttl_seconds=1800)
            orders.mark_paid(conn, order.id, amount=1200, currency="eur", payment_id=None)
    store.dispose()


def run(url: str, workers: int) -> float:
    stores = [Store(url) for _ in range(workers)]
    barrier = threading.Barrier(workers + 1)

    def work(store):
        barrier.wait()
        events.Deliverer(store, allow_private=True).deliver_all_due()

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400)
    args = parser.parse_args()
    targets = []
    tmp = tempfile.mkdtemp()
    targets.append(("sqlite", lambda n: f"sqlite:///{tmp}/bench-{n}.sqlite3", None))
    pg = os.environ.get("BUYBUTTON_TEST_POSTGRES_URL")
    if pg:
        admin = create_engine(pg)

        def pg_url(n):
            schema = f"bbbench_{uuid.uuid4().hex[:8]}"
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            schemas.append(schema)
            return make_url(pg).update_query_dict(
                {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)

        schemas: list[str] = []
        targets.append(("postgresql", pg_url, None))
    print(f"{os.cpu_count()} CPUs, {args.events} events per run")
    print(f"{'database':<12}{'workers':>8}{'seconds':>10}{'events/s':>10}")
    try:
        for name, make, _ in targets:
            for workers in (1, 2):
                receiver = Receiver()
                url = make(workers)
                seed(url, receiver, args.events)
                elapsed = run(url, workers)
                assert len(receiver.received) == args.events, len(receiver.received)
                receiver.close()
                print(f"{name:<12}{workers:>8}{elapsed:>10.2f}{args.events / elapsed:>10.0f}")
    finally:
        if pg:
            with admin.begin() as conn:
                for schema in schemas:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
