"""Regenerate the dashboard's pictures in docs/img/ from a real server and real Chromium.

    .venv/bin/python docs/dashboard_screenshots.py            # writes docs/img/dashboard-*.png
    .venv/bin/python docs/dashboard_screenshots.py OUT_DIR    # elsewhere (every page, both widths)

It seeds a throwaway SQLite shop through the core's own functions — a merchant with a dashboard
sign-in, three products, two weeks of sandbox purchases (buyer, address, shipping rate), some
shipped, one refunded, the widget's impressions and clicks — serves it on 127.0.0.1 (a free
port), signs in with Playwright driving /usr/bin/chromium (override with BUYBUTTON_CHROMIUM),
and photographs each dashboard page at phone (390 px) and desktop (1280 px) widths. No network.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import sys
import tempfile
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _sibling(name: str) -> types.ModuleType:
    """docs/NAME.py, loaded whether this file runs as a script or is imported by a test."""
    spec = importlib.util.spec_from_file_location(f"docs_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_screenshots = _sibling("screenshots")
CHROMIUM_ARGS: list[str] = _screenshots.CHROMIUM_ARGS
chromium_path = _screenshots.chromium_path
EMAIL = "owner@harbour-ceramics.example"
PASSWORD = "harbour-docs-password"
DAY = 86_400
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
#: The pictures docs/dashboard.md shows (the rest go to OUT_DIR only when it is given).
IN_DOCS = {
    ("orders", "desktop"),
    ("orders", "phone"),
    ("order", "desktop"),
    ("refund", "desktop"),
    ("analytics", "desktop"),
    ("analytics", "phone"),
}
SHIPS = {
    "countries": ["FR", "BE", "DE"],
    "rates": [{"id": "colissimo", "name": "Colissimo", "amount": 490}],
}
BUYERS = [
    ("Ada Lovelace", "ada@example.org", "12 rue de la Paix", "Paris", "75002", "FR"),
    ("Grace Hopper", "grace@example.org", "3 place Bellecour", "Lyon", "69002", "FR"),
    ("Hedy Lamarr", "hedy@example.org", "Rue Neuve 8", "Bruxelles", "1000", "BE"),
    ("Emmy Noether", "emmy@example.org", "Unter den Linden 5", "Berlin", "10117", "DE"),
]


@contextlib.contextmanager
def seeded_shop() -> Iterator[tuple[str, dict[str, str]]]:
    """Serve a shop with two weeks of history; yields ``(base_url, page paths by name)``."""
    from werkzeug.serving import make_server

    from buybutton import accounts, catalog, funnel, orders
    from buybutton.checkout import start_checkout
    from buybutton.config import Settings
    from buybutton.offers import issue_offer
    from buybutton.payments.sandbox import SandboxProvider
    from buybutton_server import create_app
    from buybutton_server.routes import offline_links

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            home=Path(home),
            database_url=f"sqlite:///{home}/shop.sqlite3",
            secret_keys=("docs-screenshot-key",),
        )
        app = create_app(settings)
        rt = app.extensions["buybutton"]
        rt.store.upgrade()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        links = offline_links(base)
        with rt.store.transaction() as conn:
            merchant, _key, _account = accounts.create_merchant_with_account(
                conn, "Harbour Ceramics", EMAIL, PASSWORD
            )
            mug, tote, poster = (
                catalog.create_product(conn, merchant.id, fields)
                for fields in (
                    {
                        "name": "Harbour Mug",
                        "amount": 1200,
                        "currency": "eur",
                        "stock": 40,
                        "image_url": "/static/demo/mug.svg",
                        "shipping": SHIPS,
                    },
                    {
                        "name": "Canvas Tote",
                        "amount": 1900,
                        "currency": "eur",
                        "image_url": "/static/demo/tote.svg",
                        "shipping": SHIPS,
                    },
                    {
                        "name": "Lighthouse Pin",
                        "amount": 2500,
                        "currency": "eur",
                        "image_url": "/static/demo/pin.svg",
                        "shipping": SHIPS,
                    },
                )
            )
        now = time.time()
        clock = {"now": now}
        provider = SandboxProvider(rt.store, clock=lambda: clock["now"])
        plan = [  # (days ago, product, quantity, campaign tag, then)
            (13, mug, 1, "insta-spring", "shipped"),
            (12, tote, 1, "newsletter", "shipped"),
            (11, mug, 2, "insta-spring", "delivered"),
            (9, poster, 1, None, "shipped"),
            (8, mug, 1, "insta-spring", "refunded"),
            (6, tote, 2, "newsletter", "shipped"),
            (5, mug, 1, "insta-spring", None),
            (3, poster, 1, "tiktok", None),
            (2, mug, 3, "insta-spring", None),
            (1, tote, 1, "tiktok", None),
            (0, mug, 1, "insta-spring", None),
        ]
        placed = []
        for number, (days_ago, product, quantity, ref, then) in enumerate(plan):
            stamp = now - days_ago * DAY - 3600 * (number % 5)
            clock["now"] = stamp
            offer = issue_offer(rt.signer, product, links=links, ref=ref)
            order = start_checkout(
                rt.store,
                rt.signer,
                provider,
                offer["token"],
                quantity,
                return_urls=lambda o: (f"{base}/orders/{o.id}", f"{base}/orders/{o.id}"),
                ttl_seconds=1800,
                now=stamp,
            )
            name, email, line1, city, postal_code, country = BUYERS[number % len(BUYERS)]
            clock["now"] = stamp + 90
            provider.pay(
                order.provider_session_id,
                "4242 4242 4242 4242",
                {
                    "email": email,
                    "name": name,
                    "address_line1": line1,
                    "address_city": city,
                    "address_postal_code": postal_code,
                    "address_country": country,
                    "shipping_rate": "colissimo",
                },
            )
            if then in ("shipped", "delivered"):
                with rt.store.transaction() as conn:
                    orders.fulfill_order(
                        conn,
                        merchant.id,
                        order.id,
                        carrier="Colissimo",
                        tracking_number=f"6A{number:08d}",
                        tracking_url="https://www.laposte.fr/outils/suivre-vos-envois",
                        now=stamp + DAY,
                    )
            if then == "delivered":
                with rt.store.transaction() as conn:
                    orders.deliver_order(conn, merchant.id, order.id, now=stamp + 3 * DAY)
            if then == "refunded":
                orders.refund_order(rt.store, provider, merchant.id, order.id, now=stamp + DAY)
            placed.append(order.id)
        # One shopper gave up at the payment page: a pending order.
        clock["now"] = now - 1200
        pending = start_checkout(
            rt.store,
            rt.signer,
            provider,
            issue_offer(rt.signer, poster, links=links, ref="tiktok")["token"],
            1,
            return_urls=lambda o: (f"{base}/orders/{o.id}", f"{base}/orders/{o.id}"),
            ttl_seconds=1800,
            now=now - 1200,
        )
        with rt.store.transaction() as conn:
            for product, ref, shown, clicked in (
                (mug, "insta-spring", 640, 96),
                (tote, "newsletter", 310, 41),
                (poster, "tiktok", 420, 38),
                (mug, None, 150, 12),
            ):
                claims = rt.signer.verify_token(
                    issue_offer(rt.signer, product, links=links, ref=ref)["token"]
                )
                for kind, count in (("impression", shown), ("click", clicked)):
                    for _ in range(count):
                        funnel.record_beacon(conn, claims, kind)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        to_ship = placed[-1]
        try:
            yield (
                base,
                {
                    "login": "/dashboard/login",
                    "products": "/dashboard/products",
                    "product": f"/dashboard/products/{mug.id}",
                    "orders": "/dashboard/orders",
                    "order": f"/dashboard/orders/{to_ship}",
                    "order-shipped": f"/dashboard/orders/{placed[2]}",
                    "order-pending": f"/dashboard/orders/{pending.id}",
                    "refund": f"/dashboard/orders/{to_ship}/refund",
                    "analytics": "/dashboard/analytics?period=30d",
                    "developers": "/dashboard/developers",
                },
            )
        finally:
            server.shutdown()
            rt.store.dispose()


def main(out_dir: Path | None = None, browser: Any = None) -> list[Path]:
    """Photograph the pages: the ones docs/dashboard.md shows into docs/img/ (``out_dir`` None),
    or every page at both widths into ``out_dir``. ``browser``: a Playwright browser to use (a
    test's), else Chromium is launched here."""
    from playwright.sync_api import sync_playwright

    if browser is not None:
        return _photograph(browser, out_dir)
    binary = chromium_path()
    if binary is None:
        raise RuntimeError(
            "Chromium not found: install Debian's chromium or set BUYBUTTON_CHROMIUM"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=binary, args=[a for a in CHROMIUM_ARGS if a != "--headless"]
        )
        try:
            return _photograph(launched, out_dir)
        finally:
            launched.close()


def _photograph(browser: Any, out_dir: Path | None) -> list[Path]:
    target = out_dir or HERE / "img"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    with seeded_shop() as (base, pages):
        for width, (w, h) in WIDTHS.items():
            context = browser.new_context(viewport={"width": w, "height": h}, locale="en-GB")
            page = context.new_page()
            for name, path in pages.items():
                if out_dir is None and (name, width) not in IN_DOCS:
                    continue
                if name != "login" and ("/login" in page.url or page.url == "about:blank"):
                    page.goto(base + "/dashboard/login")
                    page.get_by_label("Email").fill(EMAIL)
                    page.get_by_label("Password").fill(PASSWORD)
                    page.get_by_role("button", name="Sign in").click()
                    page.wait_for_url("**/dashboard/products")
                page.goto(base + path)
                out = target / f"dashboard-{name}-{width}.png"
                page.screenshot(path=str(out), full_page=True)
                written.append(out)
            context.close()
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(path)
