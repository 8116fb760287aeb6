"""Whole purchases through the real stripe library, against a stateful fake Stripe on loopback
(localstripe + a Checkout Session resource, see tests/support/stripe_fake.py) and the real Flask server
over HTTP: hosted checkout, signed webhooks, the saved-card cookie, one click, 3-D Secure
fallback, a declined saved card, refunds and reconciliation."""

from __future__ import annotations

import requests
from itsdangerous import URLSafeTimedSerializer
from localstripe.resources import Customer, PaymentIntent, PaymentMethod

from buybutton import orders
from buybutton.checkout import one_click_checkout
from buybutton.payments.providers import make_provider
from buybutton.reconcile import reconcile_pending_orders
from tests.support.accounts import TEST_KEYS
from tests.support.forms import form_fields, submit_form
from tests.support.stripe_fake import COOKIE, wait_for


def hosted_checkout(browser, shop, token, *, save_card=False) -> requests.Response:
    """The no-script buy form: answers 303 to the (fake) Stripe hosted page."""
    data = {"quantity": "1"}
    if save_card:
        data["save_card"] = "1"
    response = submit_form(
        browser, f"{shop.url}/buy/{token}", data, form_class="checkout", allow_redirects=False
    )
    assert response.status_code == 303, response.text
    return response


def pay_on_hosted_page(browser, checkout_url, card="4242424242424242") -> requests.Response:
    """What the shopper does on Stripe's page; follows back to our success page."""
    return browser.post(checkout_url, data={"card": card})


def test_full_purchase_through_hosted_checkout_and_webhook(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    page = browser.get(f"{shop.url}/buy/{token}")
    assert page.status_code == 200 and "Save my card" in page.text and "•••" not in page.text
    redirect = hosted_checkout(browser, shop, token)
    assert redirect.headers["Location"].startswith(
        f"{fake_stripe.base_url}/_config/checkout/cs_test_"
    )
    order = shop.only_order()
    session = fake_stripe.session(order.provider_session_id)
    assert (session.amount_total, session.currency, session.client_reference_id) == (
        1200,
        "eur",
        order.id,
    )
    assert session.metadata["merchant_id"] == shop.merchant.id
    assert fake_stripe.idempotency_keys == [f"buybutton-checkout-{order.id}"]

    # The shopper pays but closes the tab before our success page: the webhook alone pays.
    browser.post(
        redirect.headers["Location"], data={"card": "4242424242424242"}, allow_redirects=False
    )
    wait_for(lambda: shop.order(order.id).status == "paid")
    paid = shop.order(order.id)
    assert (paid.amount_paid, paid.payment_id) == (1200, session.payment_intent)
    # checkout.session.completed and payment_intent.succeeded both arrive; it is paid once.
    assert shop.paid_events() == 1
    assert COOKIE not in browser.cookies


def test_success_page_reads_the_session_before_the_webhook(shop, fake_stripe):
    fake_stripe.reset()  # no webhook endpoint: only the success page can tell us
    token = shop.offer()
    browser = requests.Session()
    redirect = hosted_checkout(browser, shop, token)
    landing = pay_on_hosted_page(browser, redirect.headers["Location"])
    assert landing.status_code == 200 and "Thank you! Your order is paid." in landing.text
    assert "checkout=success" in landing.url
    assert shop.only_order().status == "paid"
    assert COOKIE not in browser.cookies  # no consent, no cookie


def save_card_and_pay(shop, browser, token, card="4242424242424242"):
    redirect = hosted_checkout(browser, shop, token, save_card=True)
    landing = pay_on_hosted_page(browser, redirect.headers["Location"], card)
    assert landing.status_code == 200, landing.text
    return landing


def test_consent_saves_card_and_sets_signed_httponly_first_party_cookie(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    landing = save_card_and_pay(shop, browser, token)
    assert "Thank you! Your order is paid." in landing.text
    set_cookie = landing.history[-1].headers.get("Set-Cookie") or landing.headers.get("Set-Cookie")
    assert set_cookie and set_cookie.startswith(f"{COOKIE}=")
    assert (
        "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie and "Domain" not in set_cookie
    )
    # Plus the Lax hint that only shows the card (a popup opened by the merchant's page).
    assert "bb_saved_card_hint=" in set_cookie and "SameSite=Lax" in set_cookie
    session = fake_stripe.session(shop.only_order().provider_session_id)
    customer = URLSafeTimedSerializer(list(TEST_KEYS), salt="buybutton.saved-card").loads(
        browser.cookies[COOKIE]
    )["customer"]
    assert customer == session.customer and customer.startswith("cus_")
    # The card the shopper saved is the customer's now.
    intent = PaymentIntent._api_retrieve(session.payment_intent)
    assert PaymentMethod._api_retrieve(intent.payment_method).customer == customer


def test_saved_card_cookie_goes_only_to_the_browser_that_consented(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    landing = save_card_and_pay(shop, browser, token)
    assert COOKIE in browser.cookies
    # Someone else opening the shopper's order link learns nothing and gets no cookie.
    stranger = requests.Session()
    page = stranger.get(landing.url)
    assert page.status_code == 200 and "Thank you! Your order is paid." in page.text
    assert COOKIE not in stranger.cookies and "Set-Cookie" not in page.headers
    assert "cus_" not in page.text


def test_saved_card_cookie_is_set_even_when_the_webhook_came_first(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    redirect = hosted_checkout(browser, shop, token, save_card=True)
    back = browser.post(
        redirect.headers["Location"], data={"card": "4242424242424242"}, allow_redirects=False
    )
    order = shop.only_order()
    wait_for(lambda: shop.order(order.id).status == "paid")  # the webhook paid it
    assert "•••" not in browser.get(f"{shop.url}/buy/{token}").text
    browser.get(back.headers["Location"])
    assert COOKIE in browser.cookies
    assert "Pay €12.00 with Visa •••4242" in browser.get(f"{shop.url}/buy/{token}").text


def test_returning_shopper_pays_in_one_click(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    save_card_and_pay(shop, browser, token)
    first = shop.only_order()

    page = browser.get(f"{shop.url}/buy/{token}")
    assert "Pay €12.00 with Visa •••4242" in page.text
    assert "Forget my card" in page.text
    fields = form_fields(page.text, "one-click")
    clicked = browser.post(f"{shop.url}/buy/{token}/one-click", data=fields, allow_redirects=False)
    assert clicked.status_code == 303 and "checkout=success" in clicked.headers["Location"]

    with shop.store.read() as conn:
        found, _ = orders.list_orders(conn, shop.merchant.id)
    second = next(o for o in found if o.id != first.id)
    assert (second.status, second.amount_paid) == ("paid", 1200)
    intent = PaymentIntent._api_retrieve(second.payment_id)
    assert intent.metadata["order_id"] == second.id and intent.status == "succeeded"
    assert (
        browser.get(clicked.headers["Location"]).text.count("Thank you! Your order is paid.") == 1
    )

    # A double submit of the same form charges nothing more.
    again = browser.post(f"{shop.url}/buy/{token}/one-click", data=fields, allow_redirects=False)
    assert again.status_code == 303
    with shop.store.read() as conn:
        assert len(orders.list_orders(conn, shop.merchant.id)[0]) == 2
    # Its payment_intent.succeeded webhook arrives later and changes nothing.
    wait_for(lambda: shop.paid_events() == 2)


def test_forget_my_card_detaches_it_and_clears_the_cookie(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    save_card_and_pay(shop, browser, token)
    page = browser.get(f"{shop.url}/buy/{token}")
    assert "•••4242" in page.text
    forgot = browser.post(
        f"{shop.url}/buy/{token}/forget-card",
        data=form_fields(page.text, "forget-card"),
        allow_redirects=False,
    )
    assert forgot.status_code == 303
    assert f"{COOKIE}=;" in forgot.headers["Set-Cookie"]
    assert COOKIE not in browser.cookies
    page = browser.get(f"{shop.url}/buy/{token}")
    assert "•••" not in page.text and "Continue to payment" in page.text
    customer = fake_stripe.session(shop.only_order().provider_session_id).customer
    assert [
        pm
        for pm in PaymentMethod._api_list_all(
            "/v1/payment_methods", customer=customer, type="card"
        )._list
    ] == []


def test_one_click_needing_authentication_falls_back_to_hosted_checkout(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    save_card_and_pay(
        shop, browser, token, card="4000002500003155"
    )  # 3-D Secure passed on Stripe's page
    assert shop.only_order().status == "paid"

    page = browser.get(f"{shop.url}/buy/{token}")
    assert "•••3155" in page.text
    clicked = browser.post(
        f"{shop.url}/buy/{token}/one-click",
        data=form_fields(page.text, "one-click"),
        allow_redirects=False,
    )
    assert clicked.status_code == 303
    assert clicked.headers["Location"].startswith(f"{fake_stripe.base_url}/_config/checkout/")
    with shop.store.read() as conn:
        pending = orders.list_orders(conn, shop.merchant.id, status="pending")[0][0]
    session = fake_stripe.session(pending.provider_session_id)
    first_customer = URLSafeTimedSerializer(list(TEST_KEYS), salt="buybutton.saved-card").loads(
        browser.cookies[COOKIE]
    )["customer"]
    assert session.customer == first_customer
    # The one-click attempt was canceled: it can never be charged behind the shopper's back.
    attempts = [
        pi
        for pi in fake_stripe.payment_intents()
        if pi.metadata.get("order_id") == pending.id and pi.id != session.payment_intent
    ]
    assert [pi.status for pi in attempts] == ["canceled"]
    landing = pay_on_hosted_page(browser, clicked.headers["Location"], "4000002500003155")
    assert "Thank you! Your order is paid." in landing.text
    assert shop.order(pending.id).status == "paid"


def test_declined_saved_card_shows_clear_message_and_nothing_is_paid(shop, fake_stripe):
    token = shop.offer()
    customer = Customer()
    card = PaymentMethod._api_retrieve("pm_card_chargeCustomerFail")
    PaymentMethod._api_attach(card.id, customer=customer.id)
    browser = requests.Session()
    cookie = URLSafeTimedSerializer(list(TEST_KEYS), salt="buybutton.saved-card").dumps(
        {"customer": customer.id}
    )
    browser.cookies.set(COOKIE, cookie, domain="127.0.0.1", path="/")
    page = browser.get(f"{shop.url}/buy/{token}")
    assert "Pay €12.00 with Visa •••0341" in page.text
    declined = browser.post(
        f"{shop.url}/buy/{token}/one-click", data=form_fields(page.text, "one-click")
    )
    assert declined.status_code == 402
    assert "Your card was declined." in declined.text
    assert "Pay with another card" in declined.text
    order = shop.only_order()
    assert (order.status, order.flag, order.payment_id) == ("pending", "payment_failed", None)
    # "Another card" resumes this same order on the hosted page.
    resumed = browser.post(
        f"{shop.url}/buy/{token}",
        data=form_fields(declined.text, "checkout"),
        allow_redirects=False,
    )
    assert resumed.status_code == 303 and shop.only_order().provider_session_id.startswith(
        "cs_test_"
    )


def test_forged_cookie_is_ignored(shop, fake_stripe):
    token = shop.offer()
    customer = Customer()
    PaymentMethod._api_attach(PaymentMethod._api_retrieve("pm_card_visa").id, customer=customer.id)
    browser = requests.Session()
    forged = URLSafeTimedSerializer(["not-our-key"], salt="buybutton.saved-card").dumps(
        {"customer": customer.id}
    )
    browser.cookies.set(COOKIE, forged, domain="127.0.0.1", path="/")
    page = browser.get(f"{shop.url}/buy/{token}")
    assert "•••" not in page.text
    response = browser.post(
        f"{shop.url}/buy/{token}/one-click",
        data=form_fields(page.text, "checkout"),
        allow_redirects=False,
    )
    assert response.status_code == 303 and "/buy/" in response.headers["Location"]
    assert fake_stripe.payment_intents() == []


def test_refund_through_merchant_api_refunds_on_stripe(shop, fake_stripe):
    token = shop.offer()
    browser = requests.Session()
    pay_on_hosted_page(browser, hosted_checkout(browser, shop, token).headers["Location"])
    order = shop.only_order()
    assert order.status == "paid"
    refunded = requests.post(
        f"{shop.url}/v1/orders/{order.id}/refund",
        headers={"Authorization": f"Bearer {shop.merchant.api_key}"},
    )
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded"
    again = requests.post(
        f"{shop.url}/v1/orders/{order.id}/refund",
        headers={"Authorization": f"Bearer {shop.merchant.api_key}"},
    )
    assert again.status_code == 200 and again.json()["status"] == "refunded"
    from localstripe.resources import store as ls_store

    refunds = [v for k, v in ls_store.items() if k.startswith("refund:")]
    assert [(r.payment_intent, r.amount) for r in refunds] == [(order.payment_id, 1200)]


def test_expired_checkout_session_expires_the_order(shop, fake_stripe):
    token = shop.offer(stock=1)
    browser = requests.Session()
    hosted_checkout(browser, shop, token)
    order = shop.only_order()
    provider = make_provider(shop.settings, shop.store)
    provider.client.v1.checkout.sessions.expire(order.provider_session_id)
    wait_for(lambda: shop.order(order.id).status == "expired")
    assert "Continue to payment" in browser.get(f"{shop.url}/buy/{token}").text  # stock is back


def test_reconcile_recovers_a_paid_order_whose_webhook_was_lost(shop, fake_stripe):
    fake_stripe.reset()  # Stripe's webhooks never reach us
    token = shop.offer()
    browser = requests.Session()
    redirect = hosted_checkout(browser, shop, token)
    browser.post(
        redirect.headers["Location"], data={"card": "4242424242424242"}, allow_redirects=False
    )  # paid on Stripe, tab closed: we never heard of it
    order = shop.only_order()
    assert order.status == "pending"
    provider = make_provider(shop.settings, shop.store)
    assert reconcile_pending_orders(shop.store, provider, stale_after=600).checked == 0  # too fresh
    report = reconcile_pending_orders(shop.store, provider, stale_after=0)
    assert (report.checked, report.paid, report.failed) == (1, 1, 0)
    assert shop.order(order.id).status == "paid"
    assert reconcile_pending_orders(shop.store, provider, stale_after=0).checked == 0


def test_stripe_checkout_of_goods_that_ship_stores_buyer_address_and_shipping(shop, fake_stripe):
    token = shop.offer(
        shipping={
            "countries": ["FR", "BE"],
            "rates": [
                {"id": "colissimo", "name": "Colissimo", "amount": 490},
                {
                    "id": "express",
                    "name": "Chronopost",
                    "amount": 1290,
                    "delivery_estimate": {"min_days": 1, "max_days": 2},
                },
            ],
        }
    )
    browser = requests.Session()
    redirect = hosted_checkout(browser, shop, token)
    order = shop.only_order()
    session = fake_stripe.session(order.provider_session_id)
    assert session._allowed_countries == ["FR", "BE"]
    assert [o["name"] for o in session._shipping_options] == ["Colissimo", "Chronopost"]
    # Stripe's page refuses a country the shop does not ship to; nothing is paid.
    refused = browser.post(
        redirect.headers["Location"], data={"country": "DE"}, allow_redirects=False
    )
    assert refused.status_code == 400 and shop.order(order.id).status == "pending"
    browser.post(
        redirect.headers["Location"],
        data={
            "email": "camille@example.fr",
            "name": "Camille Martin",
            "line1": "8 rue de la Paix",
            "city": "Paris",
            "postal_code": "75002",
            "country": "FR",
            "shipping_option": "1",
        },
        allow_redirects=False,
    )
    wait_for(lambda: shop.order(order.id).status == "paid")
    paid = shop.order(order.id)
    assert (paid.amount_subtotal, paid.amount_shipping, paid.amount_paid) == (1200, 1290, 2490)
    assert paid.customer.email == "camille@example.fr"
    assert (paid.shipping.name, paid.shipping.address.postal_code) == ("Camille Martin", "75002")
    # Stripe reports its own rate id: the order names the product's rate of that cost.
    assert (paid.shipping.rate_id, paid.shipping.rate_name) == ("express", "Chronopost")
    assert paid.fulfillment.status == "unfulfilled" and paid.flag is None


SHIPS = {
    "countries": ["FR", "BE"],
    "rates": [
        {"id": "colissimo", "name": "Colissimo", "amount": 490},
        {"id": "express", "name": "Chronopost", "amount": 1290},
    ],
}
ADDRESS_FORM = {
    "email": "camille@example.fr",
    "name": "Camille Martin",
    "line1": "8 rue de la Paix",
    "city": "Paris",
    "postal_code": "75002",
    "country": "FR",
}


def test_one_click_ships_to_the_saved_address_the_shopper_confirmed(shop, fake_stripe):
    token = shop.offer(shipping=SHIPS)
    browser = requests.Session()
    redirect = hosted_checkout(browser, shop, token, save_card=True)
    landing = browser.post(
        redirect.headers["Location"], data={**ADDRESS_FORM, "card": "4242424242424242"}
    )
    assert landing.status_code == 200 and COOKIE in browser.cookies
    first = shop.only_order()

    # The buy page shows the saved address and the rates; the click confirms both.
    page = browser.get(f"{shop.url}/buy/{token}")
    assert (
        "Ships to" in page.text and "8 rue de la Paix" in page.text and "75002 PARIS" in page.text
    )
    assert "Pay €12.00 + shipping with Visa •••4242" in page.text
    fields = {**form_fields(page.text, "one-click"), "shipping_rate": "express"}
    assert fields["ship_to"] == "saved"
    clicked = browser.post(f"{shop.url}/buy/{token}/one-click", data=fields, allow_redirects=False)
    assert clicked.status_code == 303 and "checkout=success" in clicked.headers["Location"]
    with shop.store.read() as conn:
        found, _ = orders.list_orders(conn, shop.merchant.id)
    second = next(o for o in found if o.id != first.id)
    assert (second.status, second.amount_shipping, second.amount_paid) == ("paid", 1290, 2490)
    assert (second.shipping.rate_name, second.shipping.address.city) == ("Chronopost", "Paris")
    intent = PaymentIntent._api_retrieve(second.payment_id)
    assert intent.amount == 2490 and intent.shipping["address"]["postal_code"] == "75002"
    # Its payment_intent.succeeded webhook agrees with the order: nothing is flagged.
    wait_for(lambda: shop.paid_events() == 2)
    assert shop.order(second.id).flag is None

    # A confirmation of another address (the saved one changed since) charges nothing.
    Customer._api_retrieve(first_customer(browser)).shipping = {
        "name": "Someone Else",
        "address": {"line1": "1 place X", "city": "Lyon", "postal_code": "69001", "country": "FR"},
    }
    stale = browser.post(
        f"{shop.url}/buy/{token}/one-click",
        data={**fields, "checkout_key": "another-click"},
        allow_redirects=False,
    )
    assert stale.status_code == 403 and "confirmation_mismatch" in stale.text
    assert len(orders_of(shop)) == 2


def test_one_click_of_goods_that_ship_without_a_saved_address_goes_to_checkout(shop, fake_stripe):
    plain = shop.offer()
    browser = requests.Session()
    save_card_and_pay(shop, browser, plain)  # a card saved buying goods that do not ship
    token = shop.offer(shipping=SHIPS)
    page = browser.get(f"{shop.url}/buy/{token}")
    assert "•••4242" not in page.text  # no address to ship to: no one click offered
    # One click without an address (an old page's form) opens the hosted page instead, which
    # asks for one: nothing is charged without an address.
    runtime = shop.app.extensions["buybutton"]
    order = one_click_checkout(
        runtime.store,
        runtime.signer,
        runtime.provider,
        token,
        1,
        first_customer(browser),
        return_urls=lambda o: (f"{shop.url}/ok", f"{shop.url}/back"),
        ttl_seconds=1800,
    )
    assert order.status == "pending" and order.checkout_url.startswith(fake_stripe.base_url)
    session = fake_stripe.session(order.provider_session_id)
    assert session._allowed_countries == ["FR", "BE"] and session.customer


def first_customer(browser) -> str:
    return URLSafeTimedSerializer(list(TEST_KEYS), salt="buybutton.saved-card").loads(
        browser.cookies[COOKIE]
    )["customer"]


def orders_of(shop):
    with shop.store.read() as conn:
        return orders.list_orders(conn, shop.merchant.id)[0]
