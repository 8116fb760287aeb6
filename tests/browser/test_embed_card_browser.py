"""The oEmbed iframe card inside a WordPress-style sandboxed frame, in real Chromium: the
Buy link reaches the buy page through the host's link protocol (embed.js)."""

from __future__ import annotations

import pytest

from tests.support.loopback import LoopbackServer

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(sqlite_url):
    """Browser tests exercise pages, not storage: SQLite only, once."""
    return sqlite_url


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


def test_buy_link_in_sandboxed_wordpress_frame_opens_the_buy_page(
    page, live_app, make_product, make_token
):
    token = make_token(make_product(name="Harbour Mug"))
    shop = LoopbackServer(live_app)
    shop_url = shop.url
    embed = f"{shop_url}/embed/{token}"

    def host_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [HOST_PAGE.format(src=embed, width=360, height=540).encode()]

    host = LoopbackServer(host_app)
    host_url = host.url
    try:
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
        shop.stop()
        host.stop()


def test_share_link_ref_reaches_the_order_through_the_scripted_buy_page(
    page, live_app, merchant, make_product, make_token
):
    """Share page → Buy link → buy.js's POST /v1/checkout: the order carries the link's ref."""
    token = make_token(make_product(name="Harbour Mug"), ref="campaign")
    shop = LoopbackServer(live_app)
    shop_url = shop.url
    try:
        page.goto(f"{shop_url}/p/{token}?ref=story-sticker")
        # The widget's no-script fallback link (read from the light DOM, which the widget keeps).
        page.goto(page.locator("buy-button a.pay").get_attribute("href"))
        page.wait_for_url("**/sandbox/checkout/**")
        orders = live_app.test_client().get("/v1/orders", headers=merchant.headers).json["data"]
        assert [order["ref"] for order in orders] == ["story-sticker"]
    finally:
        shop.stop()
