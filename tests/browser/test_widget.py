"""<buy-button> in real Chromium: a merchant page on one origin, the buybutton server on another."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with the reason
    expect = None

pytestmark = pytest.mark.browser

IN_APP_USER_AGENTS = {
    "facebook": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0.0.36.104;FBBV/5]",
    "messenger": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 [FB_IAB/Orca-Android;FBAV/440.0.0.30.114;]",
    "instagram": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 309.0.0.28.109",
    "pinterest": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 [Pinterest/Android]",
    "tiktok": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 musical_ly_2023303040 BytedanceWebview/d8a21c6",
    "x": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Twitter for iPhone/10.20",
}


def button_of(page, nth: int = 0):
    """The real <button> inside the nth <buy-button>'s shadow root."""
    return page.locator("buy-button").nth(nth).locator("button")


def listen_for_widget_events(page):
    """Record every buybutton:* event that bubbles to the merchant's document."""
    page.evaluate("""() => { window.widgetEvents = [];
        for (const name of ["open", "purchase", "cancel"])
          document.addEventListener("buybutton:" + name,
            (e) => window.widgetEvents.push({type: e.type, detail: e.detail})); }""")


def widget_events(page):
    return page.evaluate("window.widgetEvents")


def count_window_opens(page):
    """Count the page's window.open calls (the widget opens its popup synchronously in the click
    handler, so the count is final as soon as the click has been dispatched)."""
    page.evaluate("""() => { const open = window.open; window.opens = 0;
        window.open = (...args) => { window.opens += 1; return open.apply(window, args); }; }""")


def server_price(page, shop, token, locale="en"):
    """The price as the server words it in the embed answer (Babel's formatting)."""
    answer = page.request.get(f"{shop.url}/v1/embed/{token}?locale={locale}")
    assert answer.ok
    return answer.json()["price_formatted"]


def order_of_checkout_page(shop, checkout_page) -> str:
    """The order whose sandbox payment page ``checkout_page`` shows."""
    from buybutton.payments.sandbox import SandboxProvider

    session_id = checkout_page.url.rsplit("/", 1)[1].split("?")[0]
    provider = SandboxProvider(shop.store)
    return provider.get_checkout(session_id).order_id


def order_of_order_page(shop, url: str) -> str:
    """The order behind an order page's URL (/orders/<signed ref>)."""
    return shop.signer.verify_order_ref(url.split("/orders/", 1)[1].split("?")[0])


def pay_with_test_card(checkout_page, card="4242 4242 4242 4242"):
    checkout_page.wait_for_url(re.compile(r"/sandbox/checkout/"))
    checkout_page.fill("#email", "shopper@example.com")
    if checkout_page.locator("#address_country").count():  # goods that ship (the demo's mug)
        checkout_page.fill("#name", "Camille Martin")
        checkout_page.select_option("#address_country", "FR")
        checkout_page.fill("#address_line1", "8 rue de la Paix")
        checkout_page.fill("#address_postal_code", "75002")
        checkout_page.fill("#address_city", "Paris")
    checkout_page.fill("#card_number", card)
    checkout_page.locator("form.card-form button[type=submit]").click()


def test_snippet_renders_price_then_product_name_image_and_card(page, shop, site):
    offer = shop.offer(name="Blue mug", image_url="/static/demo/mug.svg")
    page.goto(
        site.add(f'<buy-button token="{offer["token"]}" variant="card"></buy-button>', shop=shop)
    )
    expect(button_of(page)).to_have_text("Buy · €12.00")
    card = page.locator("buy-button").locator("[part=card]")
    expect(card.locator("[part=name]")).to_have_text("Blue mug")
    expect(card.locator("[part=price]")).to_have_text("€12.00")
    expect(card.locator("[part=image]")).to_have_attribute("src", f"{shop.url}/static/demo/mug.svg")
    expect(page.get_by_role("button", name="Buy · €12.00 – Blue mug")).to_be_enabled()


def test_price_renders_from_the_token_alone_before_any_request(page, shop, site):
    offer = shop.offer(amount=1250)
    requests = []

    def only_the_script(route):
        requests.append(route.request.url)
        if "/widget.js" in route.request.url:
            return route.continue_()
        return route.abort()  # no embed answer, no beacon: the token must be enough

    page.route(f"{shop.url}/**", only_the_script)
    page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
    expect(button_of(page)).to_have_text("Buy · €12.50")
    expect(button_of(page)).to_be_enabled()
    assert [url for url in requests if "/widget.js" not in url and "/v1/funnel" not in url] == [
        f"{shop.url}/v1/embed/{offer['token']}?locale=en"
    ]


def test_sold_out_product_shows_a_disabled_sold_out_button(page, shop, site):
    offer = shop.offer(stock=0)
    page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
    expect(button_of(page)).to_have_text("Sold out")
    expect(button_of(page)).to_be_disabled()


def test_invalid_token_renders_a_quiet_disabled_state_and_warns(page, shop, site):
    warnings = []
    page.on(
        "console",
        lambda message: warnings.append(message.text) if message.type == "warning" else None,
    )
    page.on("pageerror", lambda error: warnings.append(f"ERROR {error}"))
    forged = shop.offer()["token"][:-3] + "xyz"
    page.goto(site.add(f'<buy-button token="{forged}"></buy-button>', shop=shop))
    expect(button_of(page)).to_have_text("Unavailable")
    expect(button_of(page)).to_be_disabled()
    expect(page.locator("#after")).to_be_visible()  # the rest of the page is fine
    assert any("invalid_token" in text for text in warnings), warnings
    assert not any(text.startswith("ERROR") for text in warnings)


def test_keyboard_enter_opens_the_checkout_popup(page, shop, site):
    offer = shop.offer()
    page.goto(
        site.add(
            f'<a href="#" id="before">before</a><buy-button token="{offer["token"]}"></buy-button>',
            shop=shop,
        )
    )
    expect(button_of(page)).to_have_text("Buy · €12.00")
    page.focus("#before")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUY-BUTTON"
    outline = button_of(page).evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    with page.expect_popup() as popup_info:
        page.keyboard.press("Enter")
    popup = popup_info.value
    popup.wait_for_url(re.compile(r"/sandbox/checkout/"))
    expect(page.locator("buy-button").locator("[role=status]")).to_have_text("Opening checkout…")


def test_popup_purchase_end_to_end_fires_purchase_event(page, context, shop, site):
    offer = shop.offer(ref="e2e-popup")
    page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
    expect(button_of(page)).to_have_text("Buy · €12.00")
    listen_for_widget_events(page)
    # The buy page forwards to the payment page at once: note its URL as it is requested.
    buy_pages = []
    context.on(
        "request", lambda request: buy_pages.append(request.url) if "/buy/" in request.url else None
    )
    with page.expect_popup() as popup_info:
        button_of(page).click()
    popup = popup_info.value
    pay_with_test_card(popup)
    popup.wait_for_url(re.compile(r"/orders/.+\?checkout=success"))
    buy_page, query = buy_pages[0].split("?")
    assert buy_page == f"{shop.url}/buy/{offer['token']}"
    query = parse_qs(query)
    checkout_id = query.pop("checkout_id")[0]
    assert re.fullmatch(r"[0-9a-f]{32}", checkout_id)  # random: nothing about the shopper
    # The page's language: the buy page formats prices in it; the page itself: the way back.
    assert query == {"origin": [site.url], "locale": ["en"], "return": [page.url]}
    expect(button_of(page)).to_have_text("Purchased ✓")
    expect(button_of(page)).to_be_disabled()
    events = widget_events(page)
    assert [event["type"] for event in events] == ["buybutton:open", "buybutton:purchase"]
    detail = events[1]["detail"]
    order_id = order_of_order_page(shop, popup.url)  # (the popup may have closed itself)
    assert detail == {
        "orderId": order_id,
        "productId": offer["product"].id,
        "amount": 1200,
        "currency": "eur",
    }
    # The funnel saw the impression and the click.
    from buybutton.funnel import merchant_stats

    with shop.store.read() as conn:
        row = next(
            r for r in merchant_stats(conn, shop.merchant.id)["by_ref"] if r["ref"] == "e2e-popup"
        )
    assert (row["impressions"], row["clicks"], row["paid_orders"]) == (1, 1, 1)


def test_messages_from_other_origins_are_ignored(page, shop, site):
    offer = shop.offer()
    page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
    with page.expect_popup():
        button_of(page).click()
    listen_for_widget_events(page)
    # The merchant page itself (another origin than the widget's) forges a purchase message. The
    # widget listened first, so once this later listener has the message, the widget had it too.
    page.evaluate("""() => new Promise((delivered) => {
        addEventListener("message", delivered, {once: true});
        postMessage({type: "buybutton:purchase", orderId: "ord_fake", productId: "p", amount: 1,
                     currency: "eur"}, "*"); })""")
    expect(button_of(page)).to_have_text("Buy · €12.00")
    expect(button_of(page)).to_be_enabled()
    assert widget_events(page) == []


def test_double_click_opens_one_checkout(page, context, shop, site):
    offer = shop.offer()
    page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
    expect(button_of(page)).to_have_text("Buy · €12.00")
    count_window_opens(page)
    with page.expect_popup():
        button_of(page).dblclick()
    button_of(page).click()
    assert page.evaluate("window.opens") == 1  # the later clicks focused the open popup
    assert len(context.pages) == 2


def test_closing_the_popup_waits_for_the_server_then_cancels_when_the_order_ends(page, shop, site):
    """A popup that reads closed may only have lost its opener: not a cancel until the server
    says the order ended; meanwhile the button can start over."""
    from buybutton import orders

    offer = shop.offer()
    page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
    listen_for_widget_events(page)
    with page.expect_popup() as popup_info:
        button_of(page).click()
    popup = popup_info.value
    popup.wait_for_url(re.compile(r"/sandbox/checkout/"))
    order_id = order_of_checkout_page(shop, popup)
    popup.close()
    expect(button_of(page)).to_have_text("Completing purchase…")
    expect(page.locator("buy-button").locator("[role=status]")).to_have_text("Completing purchase…")
    expect(button_of(page)).to_be_enabled()
    assert [event["type"] for event in widget_events(page)] == ["buybutton:open"]
    orders.expire_stale_orders(shop.store, product_id=offer["product"].id, now=2**40)
    with shop.store.read() as conn:
        assert orders.get_order(conn, order_id).status == "expired"
    expect(page.locator("buy-button").locator("[role=status]")).to_have_text("Checkout closed")
    assert [event["type"] for event in widget_events(page)] == [
        "buybutton:open",
        "buybutton:cancel",
    ]
    expect(button_of(page)).to_be_enabled()
    expect(button_of(page)).to_have_text("Buy · €12.00")


def test_blocked_popup_falls_back_to_same_tab_and_links_back(page, shop, site):
    offer = shop.offer()
    page.add_init_script("window.open = () => null")  # what a popup blocker returns
    url = site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop)
    page.goto(url)
    expect(button_of(page)).to_have_text("Buy · €12.00")
    with page.expect_request(re.compile(re.escape(f"{shop.url}/buy/"))) as buy_request:
        button_of(page).click()
    # (The buy page may move on to the payment page before its own load event: the request
    # is what to wait for.)
    assert "return=" in buy_request.value.url
    pay_with_test_card(page)
    page.wait_for_url(re.compile(r"/orders/.+\?checkout=success"))
    back = page.get_by_role("link", name=re.compile("^Back to "))
    expect(back).to_have_attribute("href", url)
    back.click()
    page.wait_for_url(url)


def test_unregistered_site_gets_no_back_link_and_no_purchase_message(page, context, shop, site):
    # The same merchant page served from an origin the merchant never registered.
    offer = shop.offer()
    url = site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop)
    url = url.replace("http://127.0.0.1:", "http://localhost:")
    page.goto(url)
    listen_for_widget_events(page)
    with page.expect_popup() as popup_info:
        button_of(page).click()
    popup = popup_info.value
    pay_with_test_card(popup)
    popup.wait_for_url(re.compile(r"/orders/.+\?checkout=success"))
    expect(popup.get_by_text("Thank you! Your order is paid.")).to_be_visible()
    # order.js ran (the page is final), yet the opener was told nothing.
    assert popup.evaluate("sessionStorage.getItem('buybutton:origin')") is None
    assert [event["type"] for event in widget_events(page)] == ["buybutton:open"]

    same_tab = context.new_page()
    same_tab.add_init_script("window.open = () => null")
    same_tab.goto(url)
    button_of(same_tab).click()
    pay_with_test_card(same_tab)
    same_tab.wait_for_url(re.compile(r"/orders/.+\?checkout=success"))
    expect(same_tab.get_by_text("Thank you! Your order is paid.")).to_be_visible()
    assert same_tab.get_by_role("link", name=re.compile("^Back to ")).count() == 0


@pytest.mark.parametrize("app_name", sorted(IN_APP_USER_AGENTS))
def test_in_app_browser_goes_same_tab_without_popup(browser, shop, site, app_name):
    context = browser.new_context(
        user_agent=IN_APP_USER_AGENTS[app_name], viewport={"width": 1024, "height": 768}
    )
    try:
        page = context.new_page()
        offer = shop.offer()
        page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
        expect(button_of(page)).to_have_text("Buy · €12.00")
        buy_pages = []
        page.on(
            "request",
            lambda request: buy_pages.append(request.url) if "/buy/" in request.url else None,
        )
        button_of(page).click()
        # The buy page waits there, with the steps to open it in the real browser…
        page.wait_for_url(re.compile(r"/buy/"))
        expect(page.locator("details.in-app-hint summary")).to_have_text("Open in your browser")
        # …and the purchase goes on in the webview.
        page.locator("form.checkout button").click()
        page.wait_for_url(re.compile(r"/sandbox/checkout/"))
        assert len(context.pages) == 1
        assert "&return=" + quote(site.url, safe="") in buy_pages[0]  # the way back to the post
    finally:
        context.close()


def test_two_buttons_on_one_page_each_show_their_product(page, shop, site):
    mug, tote = shop.offer(), shop.offer(name="Tote", amount=900, currency="usd", stock=0)
    page.goto(
        site.add(
            f'<buy-button token="{mug["token"]}"></buy-button>'
            f'<buy-button token="{tote["token"]}" theme="dark" size="large"></buy-button>',
            shop=shop,
        )
    )
    expect(button_of(page, 0)).to_have_text("Buy · €12.00")
    expect(button_of(page, 1)).to_have_text("Sold out")
    expect(button_of(page, 0)).to_be_enabled()


def test_button_added_later_and_attribute_changes_update_it(page, shop, site):
    first, second = shop.offer(), shop.offer(amount=3400)
    page.goto(site.add('<div id="spa"></div>', shop=shop))
    page.wait_for_function("customElements.get('buy-button') !== undefined")
    page.evaluate(
        """(token) => { const b = document.createElement("buy-button");
        b.setAttribute("token", token); document.getElementById("spa").appendChild(b); }""",
        first["token"],
    )
    expect(button_of(page)).to_have_text("Buy · €12.00")
    page.evaluate(
        "(token) => document.querySelector('buy-button').setAttribute('token', token)",
        second["token"],
    )
    expect(button_of(page)).to_have_text("Buy · €34.00")
    page.evaluate("document.querySelector('buy-button').setAttribute('label', 'Get it')")
    expect(button_of(page)).to_have_text("Get it · €34.00")


def test_french_page_gets_french_strings_and_prices(page, shop, site):
    offer, sold_out = shop.offer(amount=123456), shop.offer(stock=0)
    page.goto(
        site.add(
            f'<buy-button token="{offer["token"]}"></buy-button>'
            f'<buy-button token="{sold_out["token"]}"></buy-button>'
            f'<buy-button token="{offer["token"]}" lang="en"></buy-button>',
            shop=shop,
            lang="fr",
        )
    )
    expect(button_of(page, 0)).to_have_text(re.compile(r"^Acheter · 1\s234,56\s€$"))
    expect(button_of(page, 1)).to_have_text("Épuisé")
    expect(button_of(page, 2)).to_have_text("Buy · €1,234.56")


def test_strict_csp_page_renders_styled_button_without_violations(page, shop, site):
    offer = shop.offer(image_url="/static/demo/mug.svg")
    csp = (
        f"default-src 'none'; script-src {shop.url}; style-src 'self'; "
        f"connect-src {shop.url}; img-src {shop.url}"
    )
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(
        site.add(
            f'<buy-button token="{offer["token"]}" variant="card"></buy-button>', shop=shop, csp=csp
        )
    )
    expect(button_of(page)).to_have_text("Buy · €12.00")
    expect(page.locator("buy-button").locator("[part=name]")).to_have_text(offer["product"].name)
    background = button_of(page).evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == "rgb(26, 86, 219)"  # the shadow root's stylesheet applied
    assert violations == []


def test_malicious_product_name_is_shown_as_text(page, shop, site):
    evil = "<img src=x onerror=alert(1)>"
    offer = shop.offer(name=evil)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(
        site.add(f'<buy-button token="{offer["token"]}" variant="card"></buy-button>', shop=shop)
    )
    name = page.locator("buy-button").locator("[part=name]")
    expect(name).to_have_text(evil)
    assert name.evaluate("n => n.children.length") == 0
    # No element was made from the name, so nothing can run its handler later.
    assert name.evaluate("n => n.getRootNode().querySelectorAll('[onerror]').length") == 0
    assert page.locator("img[onerror]").count() == 0
    assert dialogs == []


def test_js_api_opens_checkout_from_a_developer_click_handler(page, shop, site):
    offer = shop.offer()
    page.goto(site.add('<button id="mine">My own button</button>', shop=shop))
    page.wait_for_function("typeof window.BuyButton?.open === 'function'")
    page.evaluate(
        """(token) => document.getElementById("mine")
        .addEventListener("click", () => BuyButton.open(token))""",
        offer["token"],
    )
    listen_for_widget_events(page)
    with page.expect_popup() as popup_info:
        page.click("#mine")
    pay_with_test_card(popup_info.value)
    page.wait_for_function("window.widgetEvents.length === 2")
    assert [event["type"] for event in widget_events(page)] == [
        "buybutton:open",
        "buybutton:purchase",
    ]


def test_js_api_without_a_token_opens_nothing(page, context, shop, site):
    page.goto(site.add("<p>No button here</p>", shop=shop))
    page.wait_for_function("typeof window.BuyButton?.open === 'function'")
    listen_for_widget_events(page)
    count_window_opens(page)
    url = page.url
    page.evaluate("() => { BuyButton.open(null); BuyButton.open(undefined); BuyButton.open(''); }")
    assert page.evaluate("window.opens") == 0
    assert widget_events(page) == []
    assert page.url == url and len(context.pages) == 1


def test_demo_storefront_buys_through_the_widget(page, shop):
    from buybutton.store import Store
    from buybutton_server.demo import seed_demo
    from buybutton_server.routes import offline_links

    seed_demo(Store.from_settings(shop.settings), shop.settings, offline_links(shop.url))
    page.goto(f"{shop.url}/demo")
    expect(button_of(page, 0)).to_have_text("Buy · €12.00")
    expect(page.locator("buy-button")).to_have_count(3)
    listen_for_widget_events(page)
    with page.expect_popup() as popup_info:
        button_of(page, 0).click()
    pay_with_test_card(popup_info.value)
    expect(button_of(page, 0)).to_have_text("Purchased ✓")
    assert widget_events(page)[-1]["detail"]["amount"] == 1200


def test_follows_dark_color_scheme_and_reduced_motion_unless_themed(browser, shop, site):
    context = browser.new_context(color_scheme="dark", reduced_motion="reduce")
    try:
        page = context.new_page()
        offer = shop.offer()
        page.goto(
            site.add(
                f'<buy-button token="{offer["token"]}"></buy-button>'
                f'<buy-button token="{offer["token"]}" theme="light"></buy-button>',
                shop=shop,
            )
        )
        expect(button_of(page, 0)).to_have_text("Buy · €12.00")
        style = "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).transitionDuration]"
        assert button_of(page, 0).evaluate(style) == ["rgb(96, 165, 250)", "0s"]
        assert button_of(page, 1).evaluate(style)[0] == "rgb(26, 86, 219)"
    finally:
        context.close()


def test_canceling_on_the_payment_page_tells_the_button(page, shop, site):
    offer = shop.offer()
    page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
    listen_for_widget_events(page)
    with page.expect_popup() as popup_info:
        button_of(page).click()
    popup = popup_info.value
    popup.wait_for_url(re.compile(r"/sandbox/checkout/"))
    popup.get_by_role("button", name="Cancel and go back").click()
    popup.wait_for_url(re.compile(r"\?checkout=canceled"))
    page.wait_for_function("window.widgetEvents.length === 2")
    assert [event["type"] for event in widget_events(page)] == [
        "buybutton:open",
        "buybutton:cancel",
    ]
    expect(button_of(page)).to_be_enabled()
    expect(button_of(page)).to_have_text("Buy · €12.00")


def test_open_event_can_be_canceled_by_the_page(page, context, shop, site):
    offer = shop.offer()
    page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
    expect(button_of(page)).to_have_text("Buy · €12.00")
    page.evaluate("document.addEventListener('buybutton:open', (e) => e.preventDefault())")
    listen_for_widget_events(page)
    count_window_opens(page)
    url = page.url
    button_of(page).click()
    assert [event["type"] for event in widget_events(page)] == ["buybutton:open"]
    assert page.evaluate("window.opens") == 0  # decided in the click handler: no popup, ever
    assert page.url == url and len(context.pages) == 1  # nor the same-tab fallback
    expect(button_of(page)).to_be_enabled()
    expect(button_of(page)).to_have_text("Buy · €12.00")


def test_share_link_referral_tag_follows_the_widget_purchase(page, shop):
    """A shopper opens a friend's share link (?ref=…): the page's <buy-button> carries the tag
    through the popup checkout, and the paid order is credited to it."""
    from buybutton import orders

    offer = shop.offer(ref="merchant-post")
    page.goto(f"{shop.url}/p/{offer['token']}?ref=fr-friend42")
    expect(button_of(page)).to_have_text("Buy · €12.00")
    with page.expect_popup() as popup_info:
        button_of(page).click()
    popup = popup_info.value
    pay_with_test_card(popup)
    popup.wait_for_url(re.compile(r"/orders/.+\?checkout=success"))
    order_id = order_of_order_page(shop, popup.url)  # (the popup may have closed itself)
    with shop.store.read() as conn:
        order = orders.get_order(conn, order_id)
    assert (order.status, order.ref) == ("paid", "fr-friend42")


def test_price_ends_up_exactly_as_the_server_words_it(page, shop, site):
    """Babel (the server) and Intl (the browser) word some prices differently, e.g. KWD 1.234:
    once the embed answer is in, the widget shows the server's price_formatted, as every
    buybutton page does."""
    offer = shop.offer(amount=1234, currency="kwd")
    expected = server_price(page, shop, offer["token"])
    page.goto(
        site.add(f'<buy-button token="{offer["token"]}" variant="card"></buy-button>', shop=shop)
    )
    browser_wording = page.evaluate(
        "new Intl.NumberFormat('en', {style: 'currency', currency: 'KWD'}).format(1.234)"
    )
    assert browser_wording != expected  # the case this test is about
    expect(button_of(page)).to_have_text(f"Buy · {expected}")
    assert button_of(page).text_content() == f"Buy · {expected}"
    price = page.locator("buy-button").locator("[part=price]")
    assert price.text_content() == expected


def test_language_change_keeps_the_new_languages_price_when_an_old_answer_comes_late(
    page, shop, site
):
    offer = shop.offer()
    token = offer["token"]
    held = []  # the English embed answer, released only after the French one was shown
    page.route(re.compile(r"/v1/embed/.*locale=en$"), lambda route: held.append(route))
    # The second button shares the first one's English request: when its card shows the name,
    # the first button has had the (late) English answer too.
    with page.expect_request(re.compile(r"/v1/embed/.*locale=en$")):
        page.goto(
            site.add(
                f'<buy-button token="{token}" lang="en"></buy-button>'
                f'<buy-button token="{token}" lang="en" variant="card"></buy-button>',
                shop=shop,
            )
        )
    expect(button_of(page)).to_have_text("Buy · €12.00")  # the token's price, at once
    page.evaluate("document.querySelector('buy-button').setAttribute('lang', 'fr')")
    french = f"Acheter · {server_price(page, shop, token, 'fr')}"
    expect(button_of(page)).to_have_text(french)  # (whitespace-normalized; exact below)
    held[0].continue_()
    expect(page.locator("buy-button").nth(1).locator("[part=name]")).to_have_text(
        offer["product"].name
    )
    assert button_of(page).text_content() == french


def test_theming_reads_the_public_custom_properties_and_nothing_else(page, shop, site):
    offer = shop.offer(image_url="/static/demo/mug.svg")
    token = offer["token"]
    head = """<style>
      body { --buybutton-accent: rgb(1, 2, 3); }
      #themed { --buybutton-accent: rgb(4, 5, 6); --buybutton-text: rgb(7, 8, 9);
                --buybutton-card: rgb(10, 11, 12); --buybutton-color: rgb(13, 14, 15);
                --buybutton-radius: 2px; --buybutton-font: 400 20px/1 monospace; }
      /* Names a page may use for its own purposes: the widget must not read them. */
      buy-button { --a: red; --t: red; --c: red; --f: red; --r: 0px;
                   --accent: red; --on-accent: red; --card: red; --on-card: red; --radius: 0px; }
      * { --accent: red; --radius: 0px; }
    </style>"""
    page.goto(
        site.add(
            f'<buy-button token="{token}"></buy-button>'
            f'<buy-button id="themed" token="{token}" variant="card"></buy-button>',
            shop=shop,
            head=head,
        )
    )
    expect(page.locator("#themed").locator("[part=name]")).to_have_text(offer["product"].name)
    style = """b => { const s = getComputedStyle(b);
        return [s.backgroundColor, s.color, s.borderTopLeftRadius, s.fontFamily, s.fontSize]; }"""
    # Inherited from an ancestor: the accent; the rest are the defaults.
    assert button_of(page, 0).evaluate(style)[:3] == ["rgb(1, 2, 3)", "rgb(255, 255, 255)", "10px"]
    assert button_of(page, 1).evaluate(style) == [
        "rgb(4, 5, 6)",
        "rgb(7, 8, 9)",
        "2px",
        "monospace",
        "20px",
    ]
    card = page.locator("#themed").locator("[part=card]")
    assert card.evaluate(
        "c => [getComputedStyle(c).backgroundColor, getComputedStyle(c).color]"
    ) == ["rgb(10, 11, 12)", "rgb(13, 14, 15)"]


def test_element_exposes_only_open_and_the_custom_element_callbacks(page, shop, site):
    """Its state is private (#fields): pages can't read or poke it, only use the public API."""
    offer = shop.offer()
    page.goto(site.add(f'<buy-button token="{offer["token"]}"></buy-button>', shop=shop))
    expect(button_of(page)).to_have_text("Buy · €12.00")
    surface = page.evaluate("""() => { const b = document.querySelector("buy-button");
        return {own: Object.getOwnPropertyNames(b),
                proto: Object.getOwnPropertyNames(Object.getPrototypeOf(b)).sort(),
                statics: Object.getOwnPropertyNames(b.constructor).sort()}; }""")
    assert surface == {
        "own": [],
        "proto": [
            "attributeChangedCallback",
            "connectedCallback",
            "constructor",
            "disconnectedCallback",
            "open",
        ],
        "statics": ["length", "name", "observedAttributes", "prototype"],
    }
