"""Regenerate the pictures in docs/img/ from a real server and real Chromium.

    .venv/bin/python docs/screenshots.py            # writes docs/img/share-page*.png, card
    .venv/bin/python docs/screenshots.py OUT_DIR    # elsewhere

It seeds a throwaway SQLite shop with the demo mug, serves it on 127.0.0.1 (a free port), and
asks /usr/bin/chromium (headless; override with BUYBUTTON_CHROMIUM) for screenshots of the share
page at phone and desktop widths, plus the 1200×630 card image feeds show. No network.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--force-device-scale-factor=1",
]


def chromium_path() -> str | None:
    """The Chromium to drive: ``BUYBUTTON_CHROMIUM`` or /usr/bin/chromium, if present."""
    path = os.environ.get("BUYBUTTON_CHROMIUM") or "/usr/bin/chromium"
    return path if shutil.which(path) else None


@contextlib.contextmanager
def demo_offer() -> Iterator[tuple[str, dict]]:
    """Serve a fresh shop with one product on loopback; yields ``(base_url, offer)``."""
    import logging

    from werkzeug.serving import make_server

    from buybutton import catalog, merchants
    from buybutton.config import Settings
    from buybutton.offers import issue_offer
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
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log lines
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        with rt.store.transaction() as conn:
            merchant, _ = merchants.create_merchant(conn, "Harbour Ceramics")
            product = catalog.create_product(
                conn,
                merchant.id,
                {
                    "name": "Harbour Mug",
                    "amount": 1200,
                    "currency": "eur",
                    "stock": 25,
                    "image_url": "/static/demo/mug.svg",
                    "description": "Hand-glazed stoneware, 350 ml. Dishwasher safe. "
                    "Made in small batches in our harbour-side studio.",
                },
            )
        offer = issue_offer(rt.signer, product, links=offline_links(base), ref="docs")
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield base, offer
        finally:
            server.shutdown()
            rt.store.dispose()


def chromium(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run headless Chromium once with a throwaway profile."""
    binary = chromium_path()
    if binary is None:
        raise RuntimeError(
            "Chromium not found: install Debian's chromium or set BUYBUTTON_CHROMIUM"
        )
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, *CHROMIUM_ARGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )


def screenshot(url: str, out: Path, width: int, height: int) -> Path:
    chromium(f"--screenshot={out}", f"--window-size={width},{height}", url)
    return out


def main(out_dir: Path = HERE / "img") -> list[Path]:
    import urllib.request

    out_dir.mkdir(parents=True, exist_ok=True)
    with demo_offer() as (base, offer):
        written = [
            screenshot(offer["share_url"], out_dir / "share-page-phone.png", 390, 1000),
            screenshot(offer["share_url"], out_dir / "share-page-desktop.png", 1200, 900),
        ]
        card = out_dir / "share-card.png"
        with urllib.request.urlopen(offer["share_url"] + "/card.png", timeout=30) as response:
            card.write_bytes(response.read())
        written.append(card)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "img"):
        print(path)
