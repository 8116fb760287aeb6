"""The oEmbed iframe card inside a WordPress-style sandboxed frame, in real Chromium: the
Buy link reaches the buy page through the host's link protocol (embed.js)."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import service_unavailable

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(sqlite_url):
    """Browser tests exercise pages, not storage: SQLite only, once."""
    return sqlite_url

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

# What WordPress does with an untrusted provider's iframe (wp_filter_oembed_result) and the part
# of its wp-embed host script that follows "link" messages, reduced to the behaviour under test.
HOST_PAGE = """<!doctype html><html><body>
<iframe id="card" sandbox="allow-scripts" security="restricted" src="{src}#?secret=s3cr3t"
        data-secret="s3cr3t" width="{width}" height="{height}"></iframe>
<script>
window.addEventListener("message", function (e) {{
  var d = e.data, frame = document.getElementById("card");
  if (!d || d.secret !== frame.getAttribute("data-secret")) return;
  if (d.message === "height") frame.setAttribute("data-reported-height", d.value);
  if (d.message === "link") {{
    var a = document.createElement("a"), b = document.createElement("a");
    a.href = frame.getAttribute("src"); b.href = d.value;
    if (a.host === b.host && document.activeElement === frame) window.top.location.href = d.value;
  }}
}});
</script></body></html>"""


def serve(app) -> tuple[str, object]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("Playwright for Python is not installed")
    import os

    if not os.path.exists(CHROMIUM):
        service_unavailable(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def local_app(settings):
    """The app with links on the request's own host (the live server), not http://shop.test."""
    import dataclasses

    from buybutton_server import create_app

    app = create_app(dataclasses.replace(settings, public_url=None))
    yield app
    app.extensions["buybutton"].store.dispose()


def test_buy_link_in_sandboxed_wordpress_frame_opens_the_buy_page(
        browser, local_app, make_product, make_token):
    token = make_token(make_product(name="Harbour Mug"))
    shop_url, shop = serve(local_app)
    embed = f"{shop_url}/embed/{token}"

    def host_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [HOST_PAGE.format(src=embed, width=360, height=540).encode()]

    host_url, host = serve(host_app)
    try:
        page = browser.new_page()
        page.goto(host_url)
        card = page.frame_locator("#card")
        link = card.get_by_role("link", name="Buy now")
        assert link.get_attribute("href").endswith(f"/buy/{token}")
        page.wait_for_function("document.getElementById('card').dataset.reportedHeight > 0")
        link.click()
        # The whole tab left the host for the buy page, which opens the (sandbox) payment page.
        page.wait_for_url("**/sandbox/checkout/**")
        assert page.get_by_role("heading", name="Pay €12.00").is_visible()
    finally:
        shop.shutdown()
        host.shutdown()


def test_share_link_ref_reaches_the_order_through_the_scripted_buy_page(
        browser, local_app, merchant, make_product, make_token):
    """Share page → Buy link → buy.js's POST /v1/checkout: the order carries the link's ref."""
    token = make_token(make_product(name="Harbour Mug"), ref="campaign")
    shop_url, shop = serve(local_app)
    try:
        page = browser.new_page()
        page.goto(f"{shop_url}/p/{token}?ref=story-sticker")
        # The widget's no-script fallback link (read from the light DOM, which the widget keeps).
        page.goto(page.locator("buy-button a.pay").get_attribute("href"))
        page.wait_for_url("**/sandbox/checkout/**")
        orders = local_app.test_client().get("/v1/orders", headers=merchant.headers).json["data"]
        assert [order["ref"] for order in orders] == ["story-sticker"]
    finally:
        shop.shutdown()
