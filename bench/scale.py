"""Latency of the hot paths as the data grows (issue 16): the same requests with 10 and with many
products and orders (and their stats rollups) in the database.

    .venv/bin/python bench/scale.py [--sizes 10,10000,100000] [--db sqlite|postgres]
        [--requests 200]

For each size N it seeds N products and N orders of one merchant (bulk inserts; orders spread
over a year, 100 refs, all statuses, with the daily rollups they imply), then times, in process
(Flask's test client, no network), the median of ``--requests`` calls of each path: the embed
card cached and uncached, the share page, the buy page, a checkout, the first page of
``/v1/orders``, ``/v1/orders?ref=`` matching nothing, and ``/v1/stats`` over one day and over
all time. Cost that grows with N shows as a growing median. 1,000,000 rows take minutes to
seed on SQLite and longer on PostgreSQL: pass ``--sizes 10,1000000`` when there is time.
PostgreSQL: ``BUYBUTTON_TEST_POSTGRES_URL`` (a fresh schema, dropped after).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from buybutton import catalog, merchants, rollups  # noqa: E402
from buybutton.config import Settings  # noqa: E402
from buybutton.offers import issue_offer  # noqa: E402
from buybutton.store import Store  # noqa: E402
from buybutton.store.schema import orders, products, stats_rollups  # noqa: E402
from buybutton_server import create_app  # noqa: E402
from buybutton_server.routes import offline_links  # noqa: E402

KEYS = ("bench-scale-key-bench-scale-key-0000",)
DAY = 86400
CHUNK = 5_000


def seed(store: Store, size: int, now: int) -> tuple[str, str, str]:
    """``size`` products and orders of one merchant; returns (api key, product id, token)."""
    rng = random.Random(size)
    with store.transaction() as conn:
        merchant, api_key = merchants.create_merchant(conn, "Scale shop")
        product = catalog.create_product(
            conn, merchant.id, {"name": "Blue mug", "amount": 1200, "currency": "eur"}
        )
    ids = [product.id]
    for start in range(0, size - 1, CHUNK):
        batch = [
            {
                "id": f"prod_s{n:012d}",
                "merchant_id": merchant.id,
                "name": f"Item {n}",
                "description": "",
                "amount": 100 + n % 5000,
                "currency": "eur",
                "active": True,
                "allow_promotion_codes": False,
                "in_feed": False,
                "token_generation": 1,
                "max_per_order": 10,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(start, min(start + CHUNK, size - 1))
        ]
        with store.transaction() as conn:
            conn.execute(insert(products), batch)
        ids += [row["id"] for row in batch[:50]]
    rolled: dict[tuple, dict[str, int]] = {}
    for start in range(0, size, CHUNK):
        batch = []
        for n in range(start, min(start + CHUNK, size)):
            created = now - rng.randrange(365 * DAY)
            status = ("paid", "expired", "pending", "refunded", "paid")[n % 5]
            ref = f"ref-{n % 100}"
            pid = ids[n % len(ids)]
            batch.append(
                {
                    "id": f"ord_s{n:012d}",
                    "merchant_id": merchant.id,
                    "product_id": pid,
                    "quantity": 1,
                    "unit_amount": 1200,
                    "amount": 1200,
                    "currency": "eur",
                    "status": status,
                    "ref": ref,
                    "stock_reserved": False,
                    "provider": "sandbox",
                    "amount_paid": 1200 if status in ("paid", "refunded") else None,
                    "created_at": created,
                    "updated_at": created,
                    "paid_at": created if status in ("paid", "refunded") else None,
                    "expires_at": created + 1800,
                }
            )
            key = (rollups.day_of(created), pid, ref)
            row = rolled.setdefault(key, dict.fromkeys(rollups.METRICS, 0))
            row["orders"] += 1
            row["paid_orders"] += status in ("paid", "refunded")
            row["refunded_orders"] += status == "refunded"
            row["revenue"] += 1200 if status == "paid" else 0
        with store.transaction() as conn:
            conn.execute(insert(orders), batch)
    rows = [
        {"merchant_id": merchant.id, "day": d, "product_id": p, "ref": r, "currency": "eur", **c}
        for (d, p, r), c in rolled.items()
    ]
    for start in range(0, len(rows), CHUNK):
        with store.transaction() as conn:
            conn.execute(insert(stats_rollups), rows[start : start + CHUNK])
    with store.transaction() as conn:
        conn.exec_driver_sql("ANALYZE")
    return api_key, product.id, merchant.id


def median_ms(call, requests: int) -> float:
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = call()
        times.append(time.perf_counter() - start)
        if response.status_code >= 400:
            raise SystemExit(
                f"{response.request.path}: {response.status_code} {response.data[:200]}"
            )
    return statistics.median(times) * 1000


def measure(url: str, size: int, requests: int, home: Path) -> dict[str, float]:
    store = Store(url)
    store.upgrade()
    now = int(time.time())
    started = time.perf_counter()
    api_key, product_id, _ = seed(store, size, now)
    seeded = time.perf_counter() - started
    settings = Settings(
        home=home,
        database_url=url,
        secret_keys=KEYS,
        public_url="http://shop.test",
        checkout_rate_limit="1000000/minute",
        max_held_units_per_client=0,
    )
    figures = {"seed_s": seeded}
    for label, cache_ttl in (("cached", 10), ("uncached", 0)):
        app = create_app(replace(settings, cache_ttl_seconds=cache_ttl))
        try:
            figures.update(time_paths(app, label, api_key, product_id, now, requests))
        finally:
            app.extensions["buybutton"].store.dispose()
    store.dispose()
    return figures


def time_paths(app, label: str, api_key: str, product_id: str, now: int, requests: int):
    """The median milliseconds of each path on ``app``."""
    runtime = app.extensions["buybutton"]
    with runtime.store.read() as conn:
        product = catalog.get_product(conn, product_id)
    token = issue_offer(runtime.signer, product, links=offline_links("http://shop.test"))["token"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {api_key}"}
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in range(10**7))

    def get(path: str, headers: dict | None = None):
        return client.get(
            path, headers=headers or {}, environ_base={"REMOTE_ADDR": next(addresses)}
        )

    def checkout():
        return client.post(
            "/v1/checkout", json={"token": token}, environ_base={"REMOTE_ADDR": next(addresses)}
        )

    paths = {
        f"embed ({label})": lambda: get(f"/v1/embed/{token}"),
        f"share page ({label})": lambda: get(f"/p/{token}"),
    }
    if label == "cached":
        paths.update(
            {
                "buy page": lambda: get(f"/buy/{token}"),
                "checkout": checkout,
                "orders page": lambda: get("/v1/orders", auth),
                "orders?ref= (none)": lambda: get("/v1/orders?ref=nobody", auth),
                "stats, one day": lambda: get(f"/v1/stats?from={day}&to={day}", auth),
                "stats, all time": lambda: get("/v1/stats", auth),
            }
        )
    return {name: median_ms(call, requests) for name, call in paths.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,10000,100000")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average before: {os.getloadavg()}; {args.db}", flush=True)
    table: dict[int, dict[str, float]] = {}
    for size in sizes:
        home = Path(tempfile.mkdtemp(prefix="bench-scale-"))
        drop = None
        if args.db == "sqlite":
            url = f"sqlite:///{home / 'buybutton.sqlite3'}"
        else:
            base = os.environ["BUYBUTTON_TEST_POSTGRES_URL"]
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(base)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = (
                make_url(base)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )

            def drop(admin=admin, schema=schema) -> None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()

        try:
            table[size] = measure(url, size, args.requests, home)
        finally:
            if drop is not None:
                drop()
            shutil.rmtree(home, ignore_errors=True)
        print(f"  {size:>9,} rows: " + ", ".join(f"{k} {v:.2f}" for k, v in table[size].items()))
    print(f"load average after: {os.getloadavg()}")
    names = list(next(iter(table.values())))
    print("\n| median ms | " + " | ".join(f"{s:,}" for s in sizes) + " |")
    print("| --- |" + " --- |" * len(sizes))
    for name in names:
        cells = " | ".join(f"{table[s][name]:.2f}" for s in sizes)
        print(f"| {name}{' (s)' if name == 'seed_s' else ''} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
