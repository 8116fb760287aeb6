"""Shopper forms refuse cross-site request forgery (server/buybutton_server/csrf.py): a page on
another origin, even a sibling origin of the same site whose SameSite=Lax cookies the browser
sends, cannot make the shopper's browser pay in one click, forget the card or start checkouts.

Against the real server over HTTP and the stateful fake Stripe (tests/support/stripe_fake.py): a
refusal is a 403 page saying why, with no order created and nothing charged."""

from __future__ import annotations

import pytest
import requests

from buybutton import orders
from tests.support.forms import form_fields, submit_form
from tests.support.stripe_fake import COOKIE


def shopper_with_saved_card(shop, token):
    """A browser that paid once with consent: it holds the saved-card cookies."""
    browser = requests.Session()
    started = submit_form(
        browser,
        f"{shop.url}/buy/{token}",
        {"save_card": "1"},
        form_class="checkout",
        allow_redirects=False,
    )
    assert started.status_code == 303
    landing = browser.post(started.headers["Location"], data={"card": "4242424242424242"})
    assert "Thank you! Your order is paid." in landing.text and COOKIE in browser.cookies
    return browser


def order_count(shop) -> int:
    with shop.store.read() as conn:
        return len(orders.list_orders(conn, shop.merchant.id, limit=100)[0])


def assert_refused(response, code, shop, fake_stripe, *, orders_before=1, intents_before=1):
    assert response.status_code == 403, response.text
    assert f'data-code="{code}"' in response.text
    assert "nothing was charged" in response.text.lower()
    assert order_count(shop) == orders_before
    assert len(fake_stripe.payment_intents()) == intents_before


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://blog.example"},  # what the attack's auto-submitted form sends
        {"Origin": "https://blog.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling origin: blog.shop.example → buy.shop.example
        {"Origin": "null"},  # a sandboxed frame or a data: URL
    ],
)
def test_one_click_posted_from_another_origin_is_refused_and_charges_nothing(
    shop, fake_stripe, headers
):
    token = shop.offer()
    browser = shopper_with_saved_card(shop, token)
    # Even with this browser's own valid fields (the worst case): the origin alone refuses it.
    fields = form_fields(browser.get(f"{shop.url}/buy/{token}").text, "one-click")
    response = browser.post(
        f"{shop.url}/buy/{token}/one-click",
        data={**fields, "quantity": "5"},
        headers=headers,
        allow_redirects=False,
    )
    assert_refused(response, "cross_origin_request", shop, fake_stripe)


def test_attack_form_without_a_token_is_refused(shop, fake_stripe):
    token = shop.offer()
    browser = shopper_with_saved_card(shop, token)
    # What blog.example can build: the URL and any fields, but not this browser's token.
    response = browser.post(
        f"{shop.url}/buy/{token}/one-click",
        data={"quantity": "5", "checkout_key": "attacker-chosen-key"},
        allow_redirects=False,
    )
    assert_refused(response, "csrf_token_missing", shop, fake_stripe)


def test_token_of_another_browser_is_refused(shop, fake_stripe):
    token = shop.offer()
    victim = shopper_with_saved_card(shop, token)
    attacker = requests.Session()
    theirs = form_fields(attacker.get(f"{shop.url}/buy/{token}").text, "checkout")
    mine = form_fields(victim.get(f"{shop.url}/buy/{token}").text, "one-click")
    response = victim.post(
        f"{shop.url}/buy/{token}/one-click",
        data={**mine, "csrf_token": theirs["csrf_token"]},
        allow_redirects=False,
    )
    assert_refused(response, "csrf_token_invalid", shop, fake_stripe)


# "two" and a long text: not a number, so no total (never "text" * amount, a string that grows
# with the price) and refused like any other changed quantity.
@pytest.mark.parametrize("quantity", ["3", "two", "x" * 100_000])
def test_tampered_quantity_is_refused(shop, fake_stripe, quantity):
    token = shop.offer()
    browser = shopper_with_saved_card(shop, token)
    fields = form_fields(browser.get(f"{shop.url}/buy/{token}").text, "one-click")
    assert fields["quantity"] == "1"
    response = browser.post(
        f"{shop.url}/buy/{token}/one-click",
        data={**fields, "quantity": quantity},
        allow_redirects=False,
    )
    assert_refused(response, "confirmation_mismatch", shop, fake_stripe)
    assert "quantity" in response.text


def test_confirmation_of_another_offer_or_key_is_refused(shop, fake_stripe):
    token, other = shop.offer(), shop.offer(name="Teapot", amount=4500)
    browser = shopper_with_saved_card(shop, token)
    cheap = form_fields(browser.get(f"{shop.url}/buy/{token}").text, "one-click")
    dear = form_fields(browser.get(f"{shop.url}/buy/{other}").text, "one-click")
    wrong_offer = browser.post(
        f"{shop.url}/buy/{other}/one-click", data=cheap, allow_redirects=False
    )
    assert_refused(wrong_offer, "confirmation_mismatch", shop, fake_stripe)
    wrong_key = browser.post(
        f"{shop.url}/buy/{other}/one-click",
        data={**dear, "checkout_key": cheap["checkout_key"]},
        allow_redirects=False,
    )
    assert_refused(wrong_key, "confirmation_mismatch", shop, fake_stripe)
    missing = browser.post(
        f"{shop.url}/buy/{token}/one-click",
        data={k: v for k, v in cheap.items() if k != "confirmation"},
        allow_redirects=False,
    )
    assert_refused(missing, "confirmation_missing", shop, fake_stripe)


def test_same_origin_one_click_still_charges_exactly_what_was_shown(shop, fake_stripe):
    token = shop.offer()
    browser = shopper_with_saved_card(shop, token)
    page = browser.get(f"{shop.url}/buy/{token}?quantity=2")
    assert "Pay €24.00 with Visa •••4242" in page.text
    clicked = browser.post(
        f"{shop.url}/buy/{token}/one-click",
        data=form_fields(page.text, "one-click"),
        allow_redirects=False,
        headers={"Origin": shop.url, "Sec-Fetch-Site": "same-origin"},
    )
    assert clicked.status_code == 303 and "checkout=success" in clicked.headers["Location"]
    with shop.store.read() as conn:
        newest = orders.list_orders(conn, shop.merchant.id)[0][0]
    assert (newest.status, newest.quantity, newest.amount_paid) == ("paid", 2, 2400)


def test_forget_card_from_another_origin_or_without_token_keeps_the_card(shop, fake_stripe):
    token = shop.offer()
    browser = shopper_with_saved_card(shop, token)
    fields = form_fields(browser.get(f"{shop.url}/buy/{token}").text, "forget-card")
    for data, headers in (({}, {}), (fields, {"Sec-Fetch-Site": "same-site"})):
        response = browser.post(
            f"{shop.url}/buy/{token}/forget-card", data=data, headers=headers, allow_redirects=False
        )
        assert response.status_code == 403 and "Set-Cookie" not in response.headers
    assert "•••4242" in browser.get(f"{shop.url}/buy/{token}").text


def test_buy_form_and_checkout_api_refuse_other_origins_and_create_nothing(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    fields = form_fields(browser.get(f"{shop.url}/buy/{token}").text, "checkout")
    form = browser.post(
        f"{shop.url}/buy/{token}",
        data=fields,
        allow_redirects=False,
        headers={"Origin": "https://blog.example"},
    )
    assert form.status_code == 403 and 'data-code="cross_origin_request"' in form.text
    no_token = browser.post(
        f"{shop.url}/buy/{token}", data={"quantity": "1"}, allow_redirects=False
    )
    assert no_token.status_code == 403 and 'data-code="csrf_token_missing"' in no_token.text
    api = browser.post(
        f"{shop.url}/v1/checkout", json={"token": token}, headers={"Origin": "https://blog.example"}
    )
    assert api.status_code == 403 and api.json()["error"]["code"] == "cross_origin_request"
    # Asking to save the card sets a consent cookie: only with this browser's token.
    consent = browser.post(f"{shop.url}/v1/checkout", json={"token": token, "save_card": True})
    assert consent.status_code == 403 and consent.json()["error"]["code"] == "csrf_token_missing"
    assert order_count(shop) == 0 and fake_stripe.sessions() == []


def test_sandbox_pay_and_cancel_need_the_form_token(client, offer):
    _, token = offer()
    started = submit_form(client, f"/buy/{token['token']}", form_class="checkout")
    pay = client.post(
        started.location,
        data={"email": "shopper@example.com", "card_number": "4242 4242 4242 4242"},
    )
    assert pay.status_code == 403 and 'data-code="csrf_token_missing"' in pay.text
    cancel = client.post(
        started.location + "/cancel",
        headers={"Origin": "https://blog.example"},
        data=form_fields(client.get(started.location).text, "cancel"),
    )
    assert cancel.status_code == 403 and 'data-code="cross_origin_request"' in cancel.text
    paid = submit_form(
        client,
        started.location,
        {"email": "shopper@example.com", "card_number": "4242 4242 4242 4242"},
        form_class="card-form",
    )
    assert paid.status_code == 303 and "checkout=success" in paid.location
