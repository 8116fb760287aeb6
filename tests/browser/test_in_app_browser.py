"""A shopper in Instagram's in-app browser, on a phone (390 px): the buy page shows the shop, the
secure-payment cue and a discreet "Open in your browser" hint with Instagram's steps, waits
for the shopper's click (it does not rush on to payment), and the purchase still completes
in the webview, for two mugs chosen with the quantity stepper."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or, in CI, fails) with the reason
    expect = None

pytestmark = pytest.mark.browser

INSTAGRAM = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 Instagram 326.0.3.30.91 (iPhone14,5; iOS 17_4; en_US; en; scale=3.00)"
)


@pytest.fixture
def instagram(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, user_agent=INSTAGRAM, is_mobile=True
    )
    yield context.new_page()
    context.close()


def test_instagram_shows_the_hint_and_still_buys(instagram, shop):
    page = instagram
    offer = shop.offer(name="Lune mug", amount=1800)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(offer["buy_url"])

    hint = page.locator("details.in-app-hint")
    expect(hint).to_have_attribute("data-app", "instagram")
    summary = hint.locator("summary")
    expect(summary).to_have_text("Open in your browser")
    expect(hint.locator("ol")).not_to_be_visible()  # discreet: folded until tapped
    summary.click()
    expect(hint.locator("ol li").first).to_have_text("Tap the ••• menu at the top right.")
    expect(page.locator(".shop-name")).to_have_text("Test Shop")
    expect(page.locator(".secure-cue")).to_contain_text("Secure checkout")
    # The hint fits the phone's width (no sideways scroll).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The page waited for the shopper instead of going on to payment by itself.
    assert "/buy/" in page.url

    # Two, please: the stepper reloads the page with the new quantity (a plain GET form).
    page.get_by_role("button", name="One more").click()
    expect(page.locator(".quantity-value")).to_have_text("2")
    page.get_by_role("button", name="Continue to payment · €36.00").click()
    page.wait_for_url("**/sandbox/checkout/*")
    expect(page.locator(".test-mode")).to_contain_text("TEST MODE")
    expect(page.locator(".shop-name")).to_have_text("Test Shop")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay €36.00").click()
    page.wait_for_url("**/orders/*")
    expect(page.locator(".order-shop")).to_have_text("Test Shop")
    expect(page.locator(".order-item")).to_have_text("2 × Lune mug")
    expect(page.locator("#order")).to_have_attribute("data-status", "paid")
    assert errors == []  # the inline styles passed the CSP: no violation logged
