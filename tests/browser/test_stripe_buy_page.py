"""The buy page's script (static/buy.js) with Stripe, in real Chromium: consent to save the card,
the fake Stripe hosted page, back to the success page, then one click on the next visit, also
from a widget popup opened by a merchant page of another site."""

from __future__ import annotations

import pytest
import requests

from tests.support.stripe_fake import COOKIE

pytestmark = pytest.mark.browser

HINT = "bb_saved_card_hint"


def test_consent_then_one_click_in_a_real_browser(page, stripe_shop, fake_stripe):
    token = stripe_shop.offer()
    page.goto(f"{stripe_shop.url}/buy/{token}")
    # With a choice to make the page waits for the shopper instead of leaving at once.
    consent = page.get_by_label("Save my card for one-click purchases on this device")
    consent.check()
    page.get_by_role("button", name="Continue to payment · €12.00").click()
    page.wait_for_url(f"{fake_stripe.base_url}/_config/checkout/*")
    order = stripe_shop.only_order()
    assert (
        fake_stripe.session(order.provider_session_id)._payment_intent_data["setup_future_usage"]
        == "on_session"
    )

    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/orders/*?checkout=success")
    assert page.get_by_text("Thank you! Your order is paid.").is_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies[COOKIE]["httpOnly"] and cookies[COOKIE]["sameSite"] == "Strict"
    assert cookies[HINT]["httpOnly"] and cookies[HINT]["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # no script can read it

    page.goto(f"{stripe_shop.url}/buy/{token}")
    page.get_by_role("button", name="Pay €12.00 with Visa •••4242").click()
    page.wait_for_url("**/orders/*?checkout=success")
    assert page.get_by_text("Thank you! Your order is paid.").is_visible()
    with stripe_shop.store.read() as conn:
        from buybutton import orders

        found, _ = orders.list_orders(conn, stripe_shop.merchant.id)
    assert sorted(o.status for o in found) == ["paid", "paid"]


def save_card_in_browser(page, stripe_shop, token):
    page.goto(f"{stripe_shop.url}/buy/{token}")
    page.get_by_label("Save my card for one-click purchases on this device").check()
    page.get_by_role("button", name="Continue to payment · €12.00").click()
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/orders/*?checkout=success")
    assert page.get_by_text("Thank you! Your order is paid.").is_visible()


def test_one_click_from_a_widget_popup_opened_by_another_site(
    page, context, stripe_shop, fake_stripe, site
):
    token = stripe_shop.offer()
    save_card_in_browser(page, stripe_shop, token)
    # The merchant's page on another *site* (localhost vs 127.0.0.1): the popup it opens is a
    # cross-site navigation, which carries the Lax hint but not the Strict saved-card cookie.
    merchant_page = site.add(f'<buy-button token="{token}"></buy-button>', shop=stripe_shop)
    merchant_page = merchant_page.replace("http://127.0.0.1:", "http://localhost:")
    registered = requests.patch(
        f"{stripe_shop.url}/v1/merchant",
        headers={"Authorization": f"Bearer {stripe_shop.merchant.api_key}"},
        json={"allowed_origins": [merchant_page.split("/post/")[0]]},
        timeout=10,
    )
    assert registered.status_code == 200, registered.text
    listen = """() => { window.purchases = [];
        document.addEventListener("buybutton:purchase", (e) => window.purchases.push(e.detail)); }"""
    page.goto(merchant_page)
    page.evaluate(listen)
    sent_cookies = {}
    context.on(
        "request",
        lambda request: sent_cookies.setdefault(
            (request.method, request.url.split("?")[0]), request.all_headers().get("cookie", "")
        ),
    )
    with context.expect_page() as opened:
        page.locator("buy-button").locator("button").click()
    popup = opened.value
    pay = popup.get_by_role("button", name="Pay €12.00 with Visa •••4242")
    pay.wait_for()
    shown_with = sent_cookies[("GET", f"{stripe_shop.url}/buy/{token}")]
    assert f"{HINT}=" in shown_with and f"{COOKIE}=" not in shown_with.replace(f"{HINT}=", "")
    pay.click()
    popup.wait_for_url("**/orders/*?checkout=success")
    assert popup.get_by_text("Thank you! Your order is paid.").is_visible()
    charged_with = sent_cookies[("POST", f"{stripe_shop.url}/buy/{token}/one-click")]
    # The merchant's page (a registered origin) hears of the purchase.
    page.wait_for_function("window.purchases.length === 1")
    assert f"{COOKIE}=" in charged_with.replace(f"{HINT}=", "")  # the POST from our own page
    with stripe_shop.store.read() as conn:
        from buybutton import orders

        found, _ = orders.list_orders(conn, stripe_shop.merchant.id)
    assert sorted(o.status for o in found) == ["paid", "paid"]
