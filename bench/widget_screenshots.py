"""Regenerate the widget screenshots in docs/img/ with Debian's Chromium (Playwright).

Run: .venv/bin/python bench/widget_screenshots.py
Starts the buybutton server on 127.0.0.1 (a throw-away SQLite database, the sandbox provider),
makes a product, and photographs <buy-button> on a merchant page served by Playwright.

To compare a change visually, photograph before and after at a phone's and a desktop's width:
    .venv/bin/python bench/widget_screenshots.py --width 390 --out /tmp/shots-390
    .venv/bin/python bench/widget_screenshots.py --width 1280 --out /tmp/shots-1280
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from buybutton import catalog, merchants
from buybutton.config import Settings
from buybutton.offers import issue_offer
from buybutton_server import create_app
from buybutton_server.routes import offline_links

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><style>
body {{ font: 16px system-ui, sans-serif; margin: 0; }}
.row {{ display: flex; flex-wrap: wrap; gap: 24px; padding: 24px; align-items: flex-start; }}
.dark {{ background: #111827; }}
</style></head><body>
<div id="buttons" class="row"><buy-button token="{token}"></buy-button>
  <buy-button token="{token}" size="small" label="Get it"></buy-button>
  <buy-button token="{sold_out}"></buy-button></div>
<div id="cards" class="row"><buy-button token="{token}" variant="card"></buy-button>
  <div class="dark row"><buy-button token="{token}" variant="card" theme="dark"></buy-button></div></div>
<script async src="{base}/widget.js"></script></body></html>"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs (docs/img)")
    parser.add_argument("--width", type=int, default=760, help="viewport width in CSS pixels")
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="buybutton-shots-"))
    try:
        settings = Settings(
            home=home,
            database_url=f"sqlite:///{home / 'db.sqlite3'}",
            secret_keys=("screenshot-key",),
        )
        app = create_app(settings)
        runtime = app.extensions["buybutton"]
        runtime.store.upgrade()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with runtime.store.transaction() as conn:
            merchant, _key = merchants.create_merchant(conn, "Screenshot Shop")
            mug = catalog.create_product(
                conn,
                merchant.id,
                {
                    "name": "Stoneware mug",
                    "amount": 1200,
                    "currency": "eur",
                    "image_url": "/static/demo/mug.svg",
                },
            )
            pin = catalog.create_product(
                conn,
                merchant.id,
                {"name": "Enamel pin", "amount": 800, "currency": "eur", "stock": 0},
            )
        token = issue_offer(runtime.signer, mug, links=offline_links(base))["token"]
        sold_out = issue_offer(runtime.signer, pin, links=offline_links(base))["token"]
        html = PAGE.format(token=token, sold_out=sold_out, base=base)
        # The merchant's page, on another loopback port: another origin, as on a real site
        # (Chromium keeps pages outside the loopback address space from calling into it).
        page_server = make_server("127.0.0.1", 0, Response(html, mimetype="text/html"))
        merchant_url = f"http://127.0.0.1:{page_server.server_port}/"
        threading.Thread(target=page_server.serve_forever, daemon=True).start()
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(
                viewport={"width": args.width, "height": 900}, device_scale_factor=2
            )
            page.goto(merchant_url)
            page.locator("buy-button[variant=card] [part=name]").first.wait_for()
            page.wait_for_function(
                "[...document.querySelectorAll('buy-button')].every("
                "b => b.shadowRoot.querySelector('button').textContent)"
            )
            page.wait_for_load_state("networkidle")
            page.locator("#buttons").screenshot(path=args.out / "buy-button.png")
            page.locator("#cards").screenshot(path=args.out / "buy-button-card.png")
            browser.close()
        server.shutdown()
        page_server.shutdown()
        runtime.store.dispose()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    for name in ("buy-button.png", "buy-button-card.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
