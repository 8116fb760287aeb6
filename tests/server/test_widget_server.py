"""The widget's server side: GET /widget.js (caching, ETag), POST /v1/funnel (alias /v1/events),
GET /v1/stats."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import brotli
import buybutton_widget
import pytest

from buybutton.config import Settings
from tests.support.accounts import TEST_KEYS, create_account
from tests.support.forms import submit_form

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def web_client(tmp_path, sqlite_url):
    """A client on SQLite only, for what does not touch the database (the script itself)."""
    from buybutton_server import create_app

    app = create_app(Settings(home=tmp_path, database_url=sqlite_url, secret_keys=TEST_KEYS))
    yield app.test_client()
    app.extensions["buybutton"].store.dispose()


def test_widget_js_is_minified_javascript_with_etag_and_day_cache(web_client):
    response = web_client.get("/widget.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert response.headers["ETag"] == f'"{buybutton_widget.asset().version}"'
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_data(as_text=True)
    assert 'customElements.define("buy-button"' in body
    assert "/*" not in body  # comments stripped
    assert len(body) < len(buybutton_widget.source())


def test_widget_js_versioned_url_is_immutable_for_a_year(web_client):
    version = buybutton_widget.asset().version
    response = web_client.get(f"/widget.js?v={version}")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = web_client.get("/widget.js?v=000000000000")
    assert stale.headers["Cache-Control"] == "public, max-age=86400"


def test_widget_js_answers_304_to_a_matching_etag(web_client):
    etag = web_client.get("/widget.js").headers["ETag"]
    again = web_client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert web_client.get("/widget.js", headers={"If-None-Match": '"other"'}).status_code == 200


def test_widget_js_is_served_gzipped_within_the_size_budget(web_client):
    response = web_client.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["ETag"].endswith('-gz"')
    assert len(response.get_data()) <= 4096  # issue 14: with the completion channel
    assert gzip.decompress(response.get_data()) == buybutton_widget.asset().body


def test_widget_js_is_served_brotli_to_browsers_that_accept_it_smaller_than_gzip(web_client):
    response = web_client.get("/widget.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["Vary"] == "Accept-Encoding"
    etag = response.headers["ETag"]
    assert etag.endswith('-br"')
    assert brotli.decompress(response.get_data()) == buybutton_widget.asset().body
    assert len(response.get_data()) < len(buybutton_widget.asset().gzipped) <= 4096
    again = web_client.get("/widget.js", headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304
    refused = web_client.get("/widget.js", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["Content-Encoding"] == "gzip"


def test_widget_js_carries_its_stylesheet_minified_inside_one_script(web_client):
    """buy-button.css lives in its own file; the page still makes one request for the widget."""
    body = web_client.get("/widget.js").get_data(as_text=True)
    css = buybutton_widget.minify_css(buybutton_widget.stylesheet())
    assert ":host{display:inline-block" in css and "/*" not in css
    assert f"const CSS={json.dumps(css)};" in body
    assert buybutton_widget.CSS_PLACEHOLDER not in body
    assert ":host" not in buybutton_widget.source()  # no second copy of the styles in the script


def test_widget_build_refuses_a_script_without_its_stylesheet_placeholder():
    with pytest.raises(ValueError, match="placeholder"):
        buybutton_widget.build("const CSS = '';", ":host{display:block}")
    twice = f"const a = {buybutton_widget.CSS_PLACEHOLDER}, b = {buybutton_widget.CSS_PLACEHOLDER};"
    with pytest.raises(ValueError, match="placeholder"):
        buybutton_widget.build(twice, ":host{display:block}")


def test_widget_build_keeps_css_quotes_and_backslashes_in_a_valid_string():
    css = 'a::before { content: "\\201C" ; font-family: "Segoe UI", \'x\' }'
    built = buybutton_widget.build(f"const CSS = {buybutton_widget.CSS_PLACEHOLDER};", css)
    literal = built.removeprefix("const CSS=").removesuffix(";\n")
    assert json.loads(literal) == buybutton_widget.minify_css(css)
    assert json.loads(literal) == 'a::before{content:"\\201C";font-family:"Segoe UI",\'x\'}'


def test_every_theming_property_the_widget_reads_is_documented():
    read = set(re.findall(r"var\((--buybutton-[a-z-]+)", buybutton_widget.stylesheet()))
    docs = (ROOT / "docs" / "widget.md").read_text(encoding="utf-8")
    theming = docs.split("## Styling and theming", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(--buybutton-[a-z-]+)` \|", theming, re.MULTILINE))
    assert (
        read
        == documented
        == {
            "--buybutton-accent",
            "--buybutton-text",
            "--buybutton-card",
            "--buybutton-color",
            "--buybutton-radius",
            "--buybutton-font",
        }
    )


def test_widget_script_is_written_in_one_dialect():
    """Classes, arrow functions, const/let and #private members; no var, no function, no
    `self = this`, no underscore "private" members that any page could read or poke."""
    code = buybutton_widget.minify(buybutton_widget.source())  # comments stripped
    assert re.findall(r"\bvar\s|\bfunction\b|\bself\b|\._[A-Za-z]", code) == []
    assert "#state" in code and "class BuyButton extends HTMLElement" in code


def _event(client, body, path="/v1/funnel", **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(
        path, data=data, headers={"Content-Type": "text/plain;charset=UTF-8", **headers}
    )


def test_event_beacon_counts_and_answers_204_with_cors(client, make_product, make_token):
    token = make_token(make_product(), ref="insta")
    response = _event(client, {"type": "impression", "token": token})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers


def test_deprecated_events_path_still_counts_beacons_of_deployed_widgets(
    client, make_product, make_token
):
    token = make_token(make_product(), ref="old-widget")
    response = _event(client, {"type": "click", "token": token}, path="/v1/events")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert client.post("/v1/events", data="nope").json["error"]["code"] == "invalid_json"


def test_widget_sends_its_beacons_to_the_funnel_route():
    assert 'BASE + "/v1/funnel"' in buybutton_widget.source()
    assert "/v1/events" not in buybutton_widget.source()


@pytest.mark.parametrize("path", ["/v1/funnel", "/v1/events"])
def test_event_preflight_allows_json_posts_from_any_origin(web_client, path):
    response = web_client.options(
        path, headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"


@pytest.mark.parametrize(
    "body, status, code, param",
    [
        ("not json", 400, "invalid_json", None),
        ([1, 2], 400, "invalid_json", None),
        ({"type": "purchase", "token": "x"}, 400, "invalid_request", "type"),
        ({"type": "click"}, 400, "invalid_token", "token"),
        ({"type": "click", "token": "eyJtIjoxfQ.forged"}, 400, "invalid_token", "token"),
        ({"type": "click", "token": "t" * 3000}, 413, "request_too_large", None),
        ("[" * 1000 + "]" * 1000, 400, "invalid_json", None),  # past the parser's recursion limit
    ],
)
def test_event_rejects_bad_input_with_json_error(client, body, status, code, param):
    response = _event(client, body)
    assert response.status_code == status
    error = response.json["error"]
    assert (error["code"], error["param"]) == (code, param)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_stats_needs_the_merchant_key(web_client):
    response = web_client.get("/v1/stats")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_api_key"


def _buy(client, token, card="4242 4242 4242 4242"):
    started = client.post("/v1/checkout", json={"token": token})
    assert started.status_code == 201
    if card:
        assert (
            submit_form(
                client,
                started.json["checkout_url"],
                {"email": "shopper@example.com", "card_number": card},
                form_class="card-form",
            ).status_code
            == 303
        )
    return started.json["order_id"]


def test_stats_reports_funnel_and_revenue_per_ref_and_product(
    client, merchant, make_product, make_token
):
    mug, tote = make_product(name="Mug"), make_product(name="Tote", amount=900, currency="usd")
    insta, story, plain = (
        make_token(mug, ref="insta"),
        make_token(mug, ref="story"),
        make_token(tote),
    )
    for _ in range(4):
        _event(client, {"type": "impression", "token": insta})
    for _ in range(2):
        _event(client, {"type": "click", "token": insta})
    _event(client, {"type": "impression", "token": plain})
    _buy(client, insta)
    refunded = _buy(client, insta)
    _buy(client, insta, card=None)  # started, never paid
    _buy(client, plain)
    assert client.post(f"/v1/orders/{refunded}/refund", headers=merchant.headers).status_code == 200

    stats = client.get("/v1/stats", headers=merchant.headers)
    assert stats.status_code == 200
    body = stats.json
    by_ref = {row["ref"]: row for row in body["by_ref"]}
    assert by_ref["insta"] == {
        "ref": "insta",
        "impressions": 4,
        "clicks": 2,
        "orders": 3,
        "paid_orders": 2,
        "refunded_orders": 1,
        "revenue": {"eur": 1200},
        "click_through_rate": 0.5,
        "conversion_rate": 0.5,
    }
    assert by_ref[None]["revenue"] == {"usd": 900}
    assert "story" not in by_ref  # never seen, never bought
    by_product = {row["product_id"]: row for row in body["by_product"]}
    assert by_product[mug.id]["name"] == "Mug"
    assert by_product[tote.id]["paid_orders"] == 1
    assert body["totals"]["orders"] == 4
    assert body["totals"]["revenue"] == {"eur": 1200, "usd": 900}
    assert "email" not in json.dumps(body) and "card" not in json.dumps(body)
    del story


def test_stats_rank_page_and_filter_by_period(client, merchant, make_product, make_token):
    mug = make_product(name="Mug")
    for ref, count in (("insta", 3), ("story", 1), ("mail", 2)):
        token = make_token(mug, ref=ref)
        for _ in range(count):
            _buy(client, token, card=None)
    top = client.get("/v1/stats?limit=2", headers=merchant.headers).json
    assert [(r["ref"], r["orders"]) for r in top["by_ref"]] == [("insta", 3), ("mail", 2)]
    assert (top["from"], top["to"], top["sort"]) == (None, None, "orders")
    rest = client.get(
        f"/v1/stats/refs?limit=2&starting_after={top['by_ref_next']}", headers=merchant.headers
    ).json
    assert [r["ref"] for r in rest["data"]] == ["story"] and rest["has_more"] is False
    assert rest["next_cursor"] is None
    long_ago = client.get("/v1/stats?from=2001-01-01&to=2001-12-31", headers=merchant.headers)
    assert long_ago.json["totals"]["orders"] == 0 and long_ago.json["by_ref"] == []
    backwards = client.get("/v1/stats?from=2001-01-02&to=2001-01-01", headers=merchant.headers)
    assert backwards.status_code == 400 and backwards.json["error"]["param"] == "to"
    products = client.get("/v1/stats/products", headers=merchant.headers).json["data"]
    assert [(p["name"], p["orders"]) for p in products] == [("Mug", 6)]


def test_stats_shows_only_the_callers_own_data(client, store, make_product, make_token):
    _event(client, {"type": "click", "token": make_token(make_product())})
    other = create_account(store, "Other Shop")
    body = client.get("/v1/stats", headers=other.headers).json
    assert body["by_ref"] == [] and body["by_product"] == []
    assert body["totals"]["clicks"] == 0


def test_demo_page_uses_buy_button_with_a_plain_link_fallback(client, settings):
    from bs4 import BeautifulSoup

    from buybutton.store import Store
    from buybutton_server.demo import seed_demo
    from buybutton_server.routes import offline_links

    state = seed_demo(Store.from_settings(settings), settings, offline_links("http://shop.test"))
    page = BeautifulSoup(client.get("/demo").get_data(as_text=True), "html5lib")
    buttons = page.find_all("buy-button")
    assert [b["token"] for b in buttons] == [offer["token"] for offer in state["offers"]]
    fallback = buttons[0].find("a")
    assert fallback["href"] == state["offers"][0]["buy_url"]
    assert fallback.get_text() == "Buy · €12.00"
    script = page.find("script", src=lambda src: src and "/widget.js" in src)
    assert script["src"] == f"http://shop.test/widget.js?v={buybutton_widget.asset().version}"
    assert script.has_attr("async")


def test_order_page_loads_order_js_and_has_no_inline_script(client, make_product, make_token):
    from bs4 import BeautifulSoup

    started = client.post("/v1/checkout", json={"token": make_token(make_product())}).json
    response = client.get(
        started["status_url"].removeprefix("http://shop.test") + "?checkout=success"
    )
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = BeautifulSoup(response.get_data(as_text=True), "html5lib")
    scripts = page.find_all("script")
    # order.js, and share.js of the referral share box: our own files only, nothing inline.
    assert sorted(s.get("src") for s in scripts) == ["/static/order.js", "/static/share.js"]
    assert all(not s.string for s in scripts)
    root = page.find(id="order")
    assert (root["data-order-id"], root["data-amount"], root["data-currency"]) == (
        started["order_id"],
        "1200",
        "eur",
    )
    assert client.get("/static/order.js").status_code == 200
