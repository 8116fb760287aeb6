"""Real Chromium against the real server: one browser per session, a fresh context per test.

The buybutton server runs on 127.0.0.1 on one port; the merchant's page is served by a second tiny
server on another port, so the widget really runs cross-origin (origin checks, CORS, CSP).
Chromium is Debian's /usr/bin/chromium driven by Playwright; ``playwright install`` is never run.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.wrappers import Request, Response

from buybutton import catalog
from buybutton.config import Settings
from buybutton.offers import issue_offer
from buybutton.store import Store
from buybutton_server.routes import offline_links
from tests.support.accounts import TEST_KEYS, create_account
from tests.support.loopback import LoopbackServer
from tests.support.services import service_unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch_chromium(playwright):
    """Debian's Chromium, as every browser test and the screenshot script launch it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        service_unavailable(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("browser tests need Playwright for Python (pip install playwright)")
    from playwright.sync_api import expect

    # Generous waits: the machine may be busy; a passing expectation returns as soon as it holds.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@dataclass
class Shop:
    """The live buybutton server, its store and a merchant, with a product-and-token factory."""

    url: str
    settings: Settings
    store: Store
    signer: object
    merchant: object
    _names: itertools.count = field(default_factory=itertools.count)

    def offer(self, **fields) -> dict:
        """A new product of the merchant (a €12.00 mug by default) and a token for it."""
        ref = fields.pop("ref", None)
        data = {"name": f"Mug {next(self._names)}", "amount": 1200, "currency": "eur", **fields}
        with self.store.transaction() as conn:
            product = catalog.create_product(conn, self.merchant.id, data)
        offer = issue_offer(self.signer, product, links=offline_links(self.url), ref=ref)
        return {**offer, "product": product}


@pytest.fixture(scope="session")
def shop(tmp_path_factory, sqlite_template, site):
    from buybutton_server import create_app

    home = tmp_path_factory.mktemp("shop")
    shutil.copyfile(sqlite_template, home / "buybutton.sqlite3")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'buybutton.sqlite3'}",
        secret_keys=TEST_KEYS,
        # One client address runs every test's checkouts and widgets' questions within minutes;
        # the limits themselves are tested in tests/server/test_rate_limits.py and
        # test_checkout_outcome.py.
        checkout_rate_limit="10000/minute",
        checkout_outcome_rate_limit="10000/minute",
    )  # no public_url: links name the request's host
    app = create_app(settings)
    server = LoopbackServer(app)
    runtime = app.extensions["buybutton"]
    yield Shop(
        url=server.url,
        settings=settings,
        store=runtime.store,
        signer=runtime.signer,
        merchant=create_account(runtime.store, allowed_origins=[site.url]),
    )
    server.stop()
    runtime.store.dispose()


class MerchantSite:
    """The merchant's own web site, on another origin: ``add(body)`` publishes a page."""

    def __init__(self):
        self.pages: dict[str, tuple[str, dict]] = {}
        self._numbers = itertools.count()
        self._server = LoopbackServer(self._app)
        self.url = self._server.url

    @Request.application
    def _app(self, request):
        html, headers = self.pages.get(request.path, ("not found", {}))
        return Response(html, mimetype="text/html", headers=headers)

    def add(
        self,
        body: str,
        *,
        shop: Shop,
        lang: str = "en",
        csp: str | None = None,
        head: str = "",
        headers: dict[str, str] | None = None,
    ) -> str:
        """Publish a page with ``body`` and the widget's script tag (and ``headers``, e.g.
        ``Cross-Origin-Opener-Policy``); return its URL."""
        path = f"/post/{next(self._numbers)}"
        html = (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>A merchant's post</title>{head}</head><body><h1>My new mugs</h1>{body}"
            f'<p id="after">Rest of the post</p>'
            f'<script async src="{shop.url}/widget.js"></script></body></html>'
        )
        extra = {**({"Content-Security-Policy": csp} if csp else {}), **(headers or {})}
        self.pages[path] = (html, extra)
        return self.url + path

    def stop(self):
        self._server.stop()


@pytest.fixture(scope="session")
def site():
    site = MerchantSite()
    yield site
    site.stop()
