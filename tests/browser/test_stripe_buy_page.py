"""The buy page's script (static/buy.js) with Stripe, in real Chromium: consent to save the card,
the fake Stripe hosted page, back to the success page, then one click on the next visit."""

from __future__ import annotations

import pytest

from tests.stripe_fake import COOKIE
from tests.stripe_fake import fake_stripe, fake_stripe_server, stripe_shop  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_consent_then_one_click_in_a_real_browser(page, shop, fake_stripe):
    token = shop.offer()
    page.goto(f"{shop.url}/buy/{token}")
    # With a choice to make the page waits for the shopper instead of leaving at once.
    consent = page.get_by_label("Save my card for one-click purchases on this device")
    consent.check()
    page.get_by_role("button", name="Continue to payment · €12.00").click()
    page.wait_for_url(f"{fake_stripe.base_url}/_config/checkout/*")
    order = shop.only_order()
    assert fake_stripe.session(order.provider_session_id)._payment_intent_data[
        "setup_future_usage"] == "on_session"

    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/orders/*?checkout=success")
    assert page.get_by_text("Thank you! Your order is paid.").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie") == ""  # no script can read it

    page.goto(f"{shop.url}/buy/{token}")
    page.get_by_role("button", name="Pay €12.00 with Visa •••4242").click()
    page.wait_for_url("**/orders/*?checkout=success")
    assert page.get_by_text("Thank you! Your order is paid.").is_visible()
    with shop.store.read() as conn:
        from buybutton import orders

        found, _ = orders.list_orders(conn, shop.merchant.id)
    assert sorted(o.status for o in found) == ["paid", "paid"]
