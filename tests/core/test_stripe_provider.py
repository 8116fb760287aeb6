"""The Stripe provider's requests, as the real stripe library sends them (intercepted by
``responses``), and its translation of Stripe's answers, errors and events."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest
import requests
import responses
import stripe
from responses import matchers

from buybutton import catalog
from buybutton.buyers import Customer
from buybutton.config import Settings
from buybutton.errors import InvalidRequest, PaymentDeclined, ProviderError
from buybutton.payments import CheckoutRequest, SavedCard, SavedCardProvider
from buybutton.payments.providers import make_provider
from buybutton.payments.stripe import ProviderUnavailable, StripeProvider, event_to_provider_event
from tests.support.stripe_fake import sign_payload, stripe_event

API = "https://api.stripe.com"
WHSEC = "whsec_unit_test"


def make_provider_for_test(retries: int = 0, base: str | None = None) -> StripeProvider:
    options = {"base_addresses": {"api": base}} if base else {}
    client = stripe.StripeClient(
        "sk_test_unit",
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=5),
        **options,
    )
    return StripeProvider(client, webhook_secret=WHSEC)


@pytest.fixture
def provider() -> StripeProvider:
    return make_provider_for_test()


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def checkout_request(**changes) -> CheckoutRequest:
    fields = dict(
        order_id="ord_abc",
        merchant_id="mch_m1",
        product_id="prod_p1",
        product_name="Ceramic mug",
        product_image_url="https://cdn.test/mug.png",
        unit_amount=1200,
        quantity=2,
        currency="eur",
        success_url="https://shop.test/orders/REF?checkout=success",
        cancel_url="https://shop.test/orders/REF?checkout=canceled",
        expires_at=1_900_000_000,
    )
    fields.update(changes)
    return CheckoutRequest(**fields)


def session_json(**changes) -> dict:
    body = {
        "id": "cs_test_a1",
        "object": "checkout.session",
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "amount_subtotal": 2400,
        "amount_total": 2400,
        "currency": "eur",
        "client_reference_id": "ord_abc",
        "customer": None,
        "metadata": {"order_id": "ord_abc", "merchant_id": "mch_m1", "product_id": "prod_p1"},
        "payment_intent": None,
        "url": "https://checkout.stripe.com/c/pay/cs_test_a1",
        "expires_at": 1_900_000_000,
        "livemode": False,
    }
    body.update(changes)
    return body


def error_json(type_: str, message: str, **fields) -> dict:
    return {"error": {"type": type_, "message": message, **fields}}


BASE_FORM = {
    "mode": "payment",
    "line_items[0][price_data][currency]": "eur",
    "line_items[0][price_data][unit_amount]": "1200",
    "line_items[0][price_data][product_data][name]": "Ceramic mug",
    "line_items[0][price_data][product_data][metadata][product_id]": "prod_p1",
    "line_items[0][price_data][product_data][images][0]": "https://cdn.test/mug.png",
    "line_items[0][quantity]": "2",
    "client_reference_id": "ord_abc",
    "metadata[order_id]": "ord_abc",
    "metadata[merchant_id]": "mch_m1",
    "metadata[product_id]": "prod_p1",
    "payment_intent_data[metadata][order_id]": "ord_abc",
    "payment_intent_data[metadata][merchant_id]": "mch_m1",
    "payment_intent_data[metadata][buybutton_flow]": "checkout",
    "success_url": "https://shop.test/orders/REF?checkout=success",
    "cancel_url": "https://shop.test/orders/REF?checkout=canceled",
    "expires_at": "1900000000",
}


# -- Checkout Sessions ---------------------------------------------------------------------------


def test_create_session_sends_order_as_checkout_session_with_idempotency_key(provider, api):
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[
            matchers.urlencoded_params_matcher(BASE_FORM),
            matchers.header_matcher(
                {
                    "Idempotency-Key": "buybutton-checkout-ord_abc",
                    "Authorization": "Bearer sk_test_unit",
                }
            ),
        ],
    )
    session = provider.create_session(checkout_request())
    assert (session.id, session.url, session.status, session.paid, session.order_id) == (
        "cs_test_a1",
        "https://checkout.stripe.com/c/pay/cs_test_a1",
        "open",
        False,
        "ord_abc",
    )
    assert session.customer_id is None


def test_create_session_allows_promotion_codes_only_when_product_does(provider, api):
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[matchers.urlencoded_params_matcher({**BASE_FORM, "allow_promotion_codes": "true"})],
    )
    provider.create_session(checkout_request(allow_promotion_codes=True))


def test_create_session_makes_image_path_absolute_on_our_server(provider, api):
    form = {
        **BASE_FORM,
        "line_items[0][price_data][product_data][images][0]": "https://shop.test/static/demo/mug.svg",
    }  # success_url is https://shop.test/…
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[matchers.urlencoded_params_matcher(form)],
    )
    provider.create_session(checkout_request(product_image_url="/static/demo/mug.svg"))


def test_create_session_with_image_not_on_https_sends_no_image(provider, api):
    form = {k: v for k, v in BASE_FORM.items() if "images" not in k}
    form["success_url"] = "http://127.0.0.1:8000/orders/R"
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[matchers.urlencoded_params_matcher(form)],
    )
    provider.create_session(
        checkout_request(
            product_image_url="/static/demo/mug.svg", success_url="http://127.0.0.1:8000/orders/R"
        )
    )


def test_create_session_keeps_expiry_at_least_thirty_minutes_ahead(api):
    client = stripe.StripeClient("sk_test_unit", max_network_retries=0)
    provider = StripeProvider(client, clock=lambda: 1_800_000_000.5)
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[
            matchers.urlencoded_params_matcher(
                {**BASE_FORM, "expires_at": str(1_800_000_000 + 1860)}
            )
        ],
    )
    # The order was created a while ago (a retry): its expiry is now too close for Stripe.
    provider.create_session(checkout_request(expires_at=1_800_000_000 + 1500))


def test_retried_create_session_repeats_the_first_request_exactly(api):
    # Stripe refuses an idempotency key reused with other parameters: a shopper's "try again"
    # after a timeout that Stripe did see must send the same expires_at, whatever the clock says.
    now = [1_800_000_001.0]
    client = stripe.StripeClient("sk_test_unit", max_network_retries=0)
    provider = StripeProvider(client, clock=lambda: now[0])
    api.post(f"{API}/v1/checkout/sessions", json=session_json())
    request = checkout_request(created_at=1_800_000_000, expires_at=1_800_000_000 + 1800)
    provider.create_session(request)
    now[0] += 45
    provider.create_session(request)
    first, retry = (parse_qs(call.request.body) for call in api.calls)
    assert first == retry
    assert first["expires_at"] == [str(1_800_000_000 + 1860)]


def test_late_retry_of_create_session_still_gives_stripe_thirty_minutes(api):
    client = stripe.StripeClient("sk_test_unit", max_network_retries=0)
    provider = StripeProvider(client, clock=lambda: 1_800_000_600.0)
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[
            matchers.urlencoded_params_matcher(
                {**BASE_FORM, "expires_at": str(1_800_000_600 + 1860)}
            )
        ],
    )
    provider.create_session(
        checkout_request(created_at=1_800_000_000, expires_at=1_800_000_000 + 1800)
    )


def test_create_session_with_consent_saves_card_on_new_customer(provider, api):
    form = {
        **BASE_FORM,
        "payment_intent_data[setup_future_usage]": "on_session",
        "metadata[save_card]": "true",
        "customer_creation": "always",
    }
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[matchers.urlencoded_params_matcher(form)],
    )
    provider.create_session(checkout_request(options={"save_card": True, "customer": None}))


def test_create_session_for_returning_shopper_reuses_their_customer(provider, api):
    form = {
        **BASE_FORM,
        "customer": "cus_known",
        "payment_intent_data[setup_future_usage]": "on_session",
        "metadata[save_card]": "true",
    }
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[matchers.urlencoded_params_matcher(form)],
    )
    provider.create_session(checkout_request(options={"save_card": True, "customer": "cus_known"}))


def test_create_session_without_consent_saves_nothing(provider, api):
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[matchers.urlencoded_params_matcher(BASE_FORM)],
    )
    provider.create_session(checkout_request(options={"save_card": False, "customer": None}))


def test_invalid_currency_becomes_provider_error_naming_stripes_reason(provider, api):
    api.post(
        f"{API}/v1/checkout/sessions",
        status=400,
        json=error_json(
            "invalid_request_error",
            "Invalid currency: xxx. Stripe currently supports these currencies: eur, usd",
            param="line_items[0][price_data][currency]",
        ),
    )
    with pytest.raises(ProviderError) as caught:
        provider.create_session(checkout_request(currency="xxx"))
    error = caught.value
    assert (error.status, error.code) == (502, "payment_provider_error")
    assert "Invalid currency: xxx" in error.message and "Nothing was charged" in error.message
    assert error.param == "line_items[0][price_data][currency]"


def test_stripe_server_error_becomes_502(provider, api):
    api.post(
        f"{API}/v1/checkout/sessions",
        status=500,
        json=error_json("api_error", "An unknown error occurred"),
    )
    with pytest.raises(ProviderError) as caught:
        provider.create_session(checkout_request())
    assert (caught.value.status, caught.value.code) == (502, "payment_provider_error")


@pytest.mark.parametrize(
    "failure", [requests.ConnectionError("refused"), requests.Timeout("read timed out")]
)
def test_unreachable_stripe_becomes_503(provider, api, failure):
    api.post(f"{API}/v1/checkout/sessions", body=failure)
    with pytest.raises(ProviderUnavailable) as caught:
        provider.create_session(checkout_request())
    assert (caught.value.status, caught.value.code) == (503, "payment_provider_unavailable")


def test_rate_limit_becomes_503(provider, api):
    api.post(
        f"{API}/v1/checkout/sessions",
        status=429,
        json=error_json("invalid_request_error", "Too many requests", code="rate_limit"),
    )
    with pytest.raises(ProviderUnavailable):
        provider.create_session(checkout_request())


def test_bad_api_key_becomes_misconfigured_error(provider, api):
    api.post(
        f"{API}/v1/checkout/sessions",
        status=401,
        json=error_json("invalid_request_error", "Invalid API Key provided: sk_test_****unit"),
    )
    with pytest.raises(ProviderError) as caught:
        provider.create_session(checkout_request())
    assert caught.value.code == "payment_provider_misconfigured"
    assert "sk_test" not in caught.value.message


def test_library_retries_a_5xx_with_the_same_idempotency_key(api, monkeypatch):
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0)  # no real backoff
    provider = make_provider_for_test(retries=2)
    api.post(
        f"{API}/v1/checkout/sessions",
        status=500,
        json=error_json("api_error", "An unknown error occurred"),
    )
    api.post(f"{API}/v1/checkout/sessions", json=session_json())
    session = provider.create_session(checkout_request())
    assert session.id == "cs_test_a1"
    keys = [call.request.headers["Idempotency-Key"] for call in api.calls]
    assert keys == ["buybutton-checkout-ord_abc"] * 2


def test_retrieve_session_reports_payment_and_consented_customer(provider, api):
    api.get(
        f"{API}/v1/checkout/sessions/cs_test_a1",
        json=session_json(
            status="complete",
            payment_status="paid",
            payment_intent="pi_1",
            customer="cus_9",
            metadata={"order_id": "ord_abc", "save_card": "true"},
        ),
    )
    session = provider.retrieve_session("cs_test_a1")
    assert (
        session.status,
        session.paid,
        session.payment_id,
        session.amount_total,
        session.currency,
        session.customer_id,
    ) == ("complete", True, "pi_1", 2400, "eur", "cus_9")


def test_retrieve_session_without_consent_names_no_customer(provider, api):
    api.get(
        f"{API}/v1/checkout/sessions/cs_test_a1",
        json=session_json(
            status="complete", payment_status="paid", payment_intent="pi_1", customer="cus_9"
        ),
    )
    assert provider.retrieve_session("cs_test_a1").customer_id is None


def test_retrieve_one_click_payment_intent_as_a_session(provider, api):
    api.get(
        f"{API}/v1/payment_intents/pi_7",
        json={
            "id": "pi_7",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": 1200,
            "amount_received": 1200,
            "currency": "eur",
            "metadata": {"order_id": "ord_abc"},
        },
    )
    session = provider.retrieve_session("pi_7")
    assert (session.status, session.paid, session.order_id, session.payment_id) == (
        "complete",
        True,
        "ord_abc",
        "pi_7",
    )


def test_retrieve_unknown_session_is_a_provider_error(provider, api):
    api.get(
        f"{API}/v1/checkout/sessions/cs_nope",
        status=404,
        json=error_json(
            "invalid_request_error", "No such checkout.session: 'cs_nope'", code="resource_missing"
        ),
    )
    with pytest.raises(ProviderError):
        provider.retrieve_session("cs_nope")


# -- refunds -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stripe_status,ours", [("succeeded", "succeeded"), ("pending", "pending"), ("failed", "failed")]
)
def test_refund_sends_payment_and_amount_with_idempotency_key(provider, api, stripe_status, ours):
    api.post(
        f"{API}/v1/refunds",
        json={"id": "re_1", "object": "refund", "status": stripe_status},
        match=[
            matchers.urlencoded_params_matcher({"payment_intent": "pi_1", "amount": "2400"}),
            matchers.header_matcher({"Idempotency-Key": "buybutton-refund-ord_abc"}),
        ],
    )
    refund = provider.refund("pi_1", amount=2400, idempotency_key="buybutton-refund-ord_abc")
    assert (refund.id, refund.status) == ("re_1", ours)


# -- saved cards -------------------------------------------------------------------------------

CARD = SavedCard(customer_id="cus_9", payment_method_id="pm_1", brand="visa", last4="4242")


def intent_json(status: str, **changes) -> dict:
    body = {
        "id": "pi_oc",
        "object": "payment_intent",
        "status": status,
        "amount": 2400,
        "amount_received": 2400 if status == "succeeded" else 0,
        "currency": "eur",
        "customer": "cus_9",
        "payment_method": "pm_1",
        "metadata": {"order_id": "ord_abc"},
    }
    body.update(changes)
    return body


def test_provider_offers_saved_cards():
    assert isinstance(make_provider_for_test(), SavedCardProvider)


def test_saved_card_lists_the_customers_cards(provider, api):
    api.get(
        f"{API}/v1/payment_methods",
        json={
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": "pm_1",
                    "object": "payment_method",
                    "type": "card",
                    "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
                }
            ],
        },
        match=[matchers.query_param_matcher({"customer": "cus_9", "type": "card", "limit": "1"})],
    )
    card = provider.saved_card("cus_9")
    assert card == CARD and card.label == "Visa •••4242"


def test_saved_card_of_customer_without_cards_is_none(provider, api):
    api.get(f"{API}/v1/payment_methods", json={"object": "list", "has_more": False, "data": []})
    assert provider.saved_card("cus_9") is None


def test_saved_card_of_deleted_customer_is_none(provider, api):
    api.get(
        f"{API}/v1/payment_methods",
        status=404,
        json=error_json(
            "invalid_request_error", "No such customer: 'cus_9'", code="resource_missing"
        ),
    )
    assert provider.saved_card("cus_9") is None


def test_pay_with_saved_card_confirms_payment_intent_for_the_order(provider, api):
    api.post(
        f"{API}/v1/payment_intents",
        json=intent_json("succeeded"),
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "amount": "2400",
                    "currency": "eur",
                    "customer": "cus_9",
                    "payment_method": "pm_1",
                    "payment_method_types[0]": "card",
                    "confirm": "true",
                    "metadata[order_id]": "ord_abc",
                    "metadata[merchant_id]": "mch_m1",
                }
            ),
            matchers.header_matcher({"Idempotency-Key": "buybutton-oneclick-ord_abc"}),
        ],
    )
    payment = provider.pay_with_saved_card(checkout_request(), CARD)
    assert (payment.id, payment.status, payment.amount, payment.currency) == (
        "pi_oc",
        "succeeded",
        2400,
        "eur",
    )


def test_pay_with_saved_card_needing_authentication_cancels_the_attempt(provider, api):
    api.post(
        f"{API}/v1/payment_intents",
        json=intent_json("requires_action", next_action={"type": "use_stripe_sdk"}),
    )
    api.post(f"{API}/v1/payment_intents/pi_oc/cancel", json=intent_json("canceled"))
    payment = provider.pay_with_saved_card(checkout_request(), CARD)
    assert payment.status == "requires_action"


def test_declined_saved_card_raises_payment_declined_with_banks_reason(provider, api):
    api.post(
        f"{API}/v1/payment_intents",
        status=402,
        json=error_json(
            "card_error",
            "Your card has insufficient funds.",
            code="card_declined",
            decline_code="insufficient_funds",
            param="payment_method",
        ),
    )
    with pytest.raises(PaymentDeclined) as caught:
        provider.pay_with_saved_card(checkout_request(), CARD)
    error = caught.value
    assert (error.status, error.type, error.code, error.message) == (
        402,
        "card_error",
        "insufficient_funds",
        "Your card has insufficient funds.",
    )


def test_forget_card_detaches_it(provider, api):
    api.post(
        f"{API}/v1/payment_methods/pm_1/detach",
        json={"id": "pm_1", "object": "payment_method", "customer": None},
    )
    provider.forget_card(CARD)


# -- webhooks ----------------------------------------------------------------------------------


def signed(event: dict, **options) -> tuple[bytes, dict]:
    payload = json.dumps(event).encode()
    return payload, {"Stripe-Signature": sign_payload(payload, WHSEC, **options)}


def completed_event(**session) -> dict:
    fields = {"status": "complete", "payment_status": "paid", "payment_intent": "pi_1", **session}
    return stripe_event("checkout.session.completed", session_json(**fields), event_id="evt_done")


def test_parse_webhook_translates_paid_checkout(provider):
    event = provider.parse_webhook(*signed(completed_event()))
    assert (
        event.id,
        event.kind,
        event.type,
        event.order_id,
        event.session_id,
        event.amount,
        event.currency,
        event.payment_id,
    ) == (
        "evt_done",
        "paid",
        "checkout.session.completed",
        "ord_abc",
        "cs_test_a1",
        2400,
        "eur",
        "pi_1",
    )


def test_parse_webhook_accepts_lowercase_header_names(provider):
    payload, headers = signed(completed_event())
    assert provider.parse_webhook(payload, {"stripe-signature": headers["Stripe-Signature"]})


@pytest.mark.parametrize(
    "headers",
    [
        {"Stripe-Signature": "t=1,v1=deadbeef"},
        {"Stripe-Signature": sign_payload(b"{}", "whsec_someone_else")},
        {},
    ],
)
def test_parse_webhook_rejects_bad_signature(provider, headers):
    payload, _ = signed(completed_event())
    with pytest.raises(InvalidRequest) as caught:
        provider.parse_webhook(payload, headers)
    assert caught.value.code == "invalid_signature"


def test_parse_webhook_rejects_signature_older_than_five_minutes(provider):
    payload, headers = signed(completed_event(), timestamp=int(time.time()) - 301)
    with pytest.raises(InvalidRequest):
        provider.parse_webhook(payload, headers)


def test_parse_webhook_rejects_a_tampered_body(provider):
    payload, headers = signed(completed_event())
    with pytest.raises(InvalidRequest):
        provider.parse_webhook(payload.replace(b"2400", b"1"), headers)


def test_parse_webhook_without_configured_secret_is_unavailable():
    provider = StripeProvider(stripe.StripeClient("sk_test_unit"), webhook_secret=None)
    with pytest.raises(ProviderUnavailable):
        provider.parse_webhook(*signed(completed_event()))


def test_unpaid_completed_checkout_waits_for_async_payment():
    event = completed_event(payment_status="unpaid")
    assert event_to_provider_event(event) is None
    succeeded = {**event, "type": "checkout.session.async_payment_succeeded"}
    assert event_to_provider_event(succeeded).kind == "paid"
    failed = {**event, "type": "checkout.session.async_payment_failed"}
    assert event_to_provider_event(failed).kind == "payment_failed"


def test_expired_checkout_event():
    event = event_to_provider_event(
        stripe_event("checkout.session.expired", session_json(status="expired"))
    )
    assert (event.kind, event.order_id) == ("expired", "ord_abc")


def test_payment_intent_events_name_order_from_metadata():
    succeeded = event_to_provider_event(
        stripe_event("payment_intent.succeeded", intent_json("succeeded"))
    )
    assert (succeeded.kind, succeeded.order_id, succeeded.amount, succeeded.payment_id) == (
        "paid",
        "ord_abc",
        2400,
        "pi_oc",
    )
    failed = event_to_provider_event(
        stripe_event("payment_intent.payment_failed", intent_json("requires_payment_method"))
    )
    assert (failed.kind, failed.order_id) == ("payment_failed", "ord_abc")


def test_checkout_payment_intent_success_is_left_to_the_session_events():
    intent = intent_json(
        "succeeded",
        metadata={"order_id": "ord_abc", "buybutton_flow": "checkout"},
        amount=2000,
        amount_received=2000,
    )  # a promotion code took 400 off
    assert event_to_provider_event(stripe_event("payment_intent.succeeded", intent)) is None


def test_completed_checkout_reports_promotion_code_discount():
    event = event_to_provider_event(
        completed_event(amount_total=2000, total_details={"amount_discount": 400, "amount_tax": 0})
    )
    assert (event.amount, event.amount_discount) == (2000, 400)


def test_full_refund_refunds_and_partial_refund_is_ignored():
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_1",
        "refunded": True,
        "amount_refunded": 2400,
        "metadata": {"order_id": "ord_abc"},
    }
    event = event_to_provider_event(stripe_event("charge.refunded", charge))
    assert (event.kind, event.order_id, event.payment_id) == ("refunded", "ord_abc", "pi_1")
    partial = {**charge, "refunded": False, "amount_refunded": 100}
    assert event_to_provider_event(stripe_event("charge.refunded", partial)) is None


def test_unknown_event_types_are_ignored():
    assert event_to_provider_event(stripe_event("customer.created", {"id": "cus_1"})) is None


# -- configuration -----------------------------------------------------------------------------


def test_make_provider_picks_stripe_pointed_at_stripe_api_base(tmp_path, api):
    settings = Settings(
        home=tmp_path,
        database_url="sqlite://",
        secret_keys=("k",),
        stripe_secret_key="sk_test_cfg",
        stripe_webhook_secret=WHSEC,
        stripe_api_base="http://127.0.0.1:12345/",
    )
    provider = make_provider(settings, store=None)
    assert isinstance(provider, StripeProvider) and provider.name == "stripe"
    api.get(
        "http://127.0.0.1:12345/v1/checkout/sessions/cs_test_a1",
        json=session_json(),
        match=[matchers.header_matcher({"Authorization": "Bearer sk_test_cfg"})],
    )
    assert provider.retrieve_session("cs_test_a1").id == "cs_test_a1"


# -- shipping ------------------------------------------------------------------------------------

SHIPPING_OPTIONS = catalog.validate_shipping(
    {
        "countries": ["FR", "BE"],
        "rates": [
            {
                "id": "colissimo",
                "name": "Colissimo",
                "amount": 490,
                "delivery_estimate": {"min_days": 2, "max_days": 4},
            },
            {"id": "express", "name": "Chronopost", "amount": 1290},
        ],
    }
)


def test_create_session_for_goods_that_ship_collects_the_address_and_offers_the_rates(
    provider, api
):
    form = {
        **BASE_FORM,
        "shipping_address_collection[allowed_countries][0]": "FR",
        "shipping_address_collection[allowed_countries][1]": "BE",
        "shipping_options[0][shipping_rate_data][type]": "fixed_amount",
        "shipping_options[0][shipping_rate_data][display_name]": "Colissimo",
        "shipping_options[0][shipping_rate_data][fixed_amount][amount]": "490",
        "shipping_options[0][shipping_rate_data][fixed_amount][currency]": "eur",
        "shipping_options[0][shipping_rate_data][metadata][rate_id]": "colissimo",
        "shipping_options[0][shipping_rate_data][delivery_estimate][minimum][unit]": "business_day",
        "shipping_options[0][shipping_rate_data][delivery_estimate][minimum][value]": "2",
        "shipping_options[0][shipping_rate_data][delivery_estimate][maximum][unit]": "business_day",
        "shipping_options[0][shipping_rate_data][delivery_estimate][maximum][value]": "4",
        "shipping_options[1][shipping_rate_data][type]": "fixed_amount",
        "shipping_options[1][shipping_rate_data][display_name]": "Chronopost",
        "shipping_options[1][shipping_rate_data][fixed_amount][amount]": "1290",
        "shipping_options[1][shipping_rate_data][fixed_amount][currency]": "eur",
        "shipping_options[1][shipping_rate_data][metadata][rate_id]": "express",
        # A Customer keeps the address for the shopper's next one-click purchase.
        "customer_creation": "always",
        "customer_email": "camille@example.fr",
    }
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[matchers.urlencoded_params_matcher(form)],
    )
    provider.create_session(
        checkout_request(shipping=SHIPPING_OPTIONS, customer_email="camille@example.fr")
    )


COMPLETED_WITH_SHIPPING = session_json(
    status="complete",
    payment_status="paid",
    amount_total=3690,
    payment_intent="pi_1",
    customer_details={
        "email": "camille@example.fr",
        "name": "Camille Martin",
        "phone": "+33 6 12 34 56 78",
        "address": {"country": "FR"},
    },
    shipping_cost={
        "amount_subtotal": 1290,
        "amount_tax": 0,
        "amount_total": 1290,
        "shipping_rate": "shr_1",
    },
)
ADDRESS = {
    "line1": "8 rue de la Paix",
    "line2": None,
    "city": "Paris",
    "postal_code": "75002",
    "state": None,
    "country": "FR",
}


@pytest.mark.parametrize(
    "where",
    [
        # API versions from 2025-03-31, and the older field.
        {"collected_information": {"shipping_details": {"name": "C. Martin", "address": ADDRESS}}},
        {"shipping_details": {"name": "C. Martin", "address": ADDRESS}},
    ],
)
def test_completed_session_event_carries_buyer_address_and_shipping_cost(where):
    event = event_to_provider_event(
        stripe_event("checkout.session.completed", {**COMPLETED_WITH_SHIPPING, **where})
    )
    assert event.customer.email == "camille@example.fr"
    assert event.customer.phone == "+33 6 12 34 56 78"
    assert (event.shipping.name, event.shipping.amount, event.amount) == ("C. Martin", 1290, 3690)
    assert event.shipping.address.line1 == "8 rue de la Paix"
    assert (event.shipping.address.line2, event.shipping.address.country) == ("", "FR")
    assert event.shipping.rate_id is None  # Stripe names only its own shr_ id


def test_retrieved_session_reads_the_same_buyer_details(provider, api):
    body = {
        **COMPLETED_WITH_SHIPPING,
        "collected_information": {"shipping_details": {"name": "C. Martin", "address": ADDRESS}},
    }
    api.get(f"{API}/v1/checkout/sessions/cs_test_a1", json=body)
    session = provider.retrieve_session("cs_test_a1")
    assert (session.customer.name, session.shipping.address.city) == ("Camille Martin", "Paris")


def test_session_without_shipping_has_customer_only():
    event = event_to_provider_event(
        stripe_event(
            "checkout.session.completed",
            session_json(
                status="complete",
                payment_status="paid",
                customer_details={"email": "a@example.com", "name": None, "phone": None},
            ),
        )
    )
    assert (event.customer.email, event.shipping) == ("a@example.com", None)


def test_one_click_for_goods_that_ship_charges_shipping_and_sends_the_address(provider, api):
    from buybutton.addresses import PostalAddress
    from buybutton.buyers import Shipping

    ship_to = Shipping(
        name="Camille Martin",
        address=PostalAddress("8 rue de la Paix", "", "Paris", "75002", "", "FR"),
        rate_id="express",
        rate_name="Chronopost",
        amount=1290,
    )
    api.post(
        f"{API}/v1/payment_intents",
        json=intent_json("succeeded"),
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "amount": "3690",
                    "currency": "eur",
                    "customer": "cus_9",
                    "payment_method": "pm_1",
                    "payment_method_types[0]": "card",
                    "confirm": "true",
                    "metadata[order_id]": "ord_abc",
                    "metadata[merchant_id]": "mch_m1",
                    "shipping[name]": "Camille Martin",
                    "shipping[address][line1]": "8 rue de la Paix",
                    "shipping[address][city]": "Paris",
                    "shipping[address][postal_code]": "75002",
                    "shipping[address][country]": "FR",
                }
            )
        ],
    )
    provider.pay_with_saved_card(checkout_request(ship_to=ship_to), CARD)


def test_saved_recipient_is_the_customers_shipping(provider, api):
    api.get(
        f"{API}/v1/customers/cus_9",
        json={
            "id": "cus_9",
            "object": "customer",
            "shipping": {"name": "C. M.", "address": ADDRESS},
        },
    )
    recipient = provider.saved_recipient("cus_9")
    assert (recipient.name, recipient.address.postal_code) == ("C. M.", "75002")


def test_saved_recipient_of_a_customer_without_shipping_is_none(provider, api):
    api.get(
        f"{API}/v1/customers/cus_9", json={"id": "cus_9", "object": "customer", "shipping": None}
    )
    assert provider.saved_recipient("cus_9") is None


def test_returning_customer_session_keeps_the_new_address(provider, api):
    form = {
        **BASE_FORM,
        "customer": "cus_9",
        "customer_update[shipping]": "auto",
        "shipping_address_collection[allowed_countries][0]": "FR",
        "shipping_address_collection[allowed_countries][1]": "BE",
    }
    for index, (name, amount, rate_id) in enumerate(
        [("Colissimo", "490", "colissimo"), ("Chronopost", "1290", "express")]
    ):
        data = f"shipping_options[{index}][shipping_rate_data]"
        form.update(
            {
                f"{data}[type]": "fixed_amount",
                f"{data}[display_name]": name,
                f"{data}[fixed_amount][amount]": amount,
                f"{data}[fixed_amount][currency]": "eur",
                f"{data}[metadata][rate_id]": rate_id,
            }
        )
    form.update(
        {
            "shipping_options[0][shipping_rate_data][delivery_estimate][minimum][unit]": "business_day",
            "shipping_options[0][shipping_rate_data][delivery_estimate][minimum][value]": "2",
            "shipping_options[0][shipping_rate_data][delivery_estimate][maximum][unit]": "business_day",
            "shipping_options[0][shipping_rate_data][delivery_estimate][maximum][value]": "4",
        }
    )
    api.post(
        f"{API}/v1/checkout/sessions",
        json=session_json(),
        match=[matchers.urlencoded_params_matcher(form)],
    )
    provider.create_session(
        checkout_request(shipping=SHIPPING_OPTIONS, options={"customer": "cus_9"})
    )


def test_saved_customer_is_the_stripe_customers_email_name_and_phone(provider, api):
    api.get(
        f"{API}/v1/customers/cus_9",
        json={"id": "cus_9", "object": "customer", "email": "camille@example.fr", "name": "C. M."},
    )
    assert provider.saved_customer("cus_9") == Customer(email="camille@example.fr", name="C. M.")


def test_saved_customer_of_a_deleted_or_anonymous_customer_is_none(provider, api):
    api.get(f"{API}/v1/customers/cus_9", json={"id": "cus_9", "object": "customer"})
    api.get(
        f"{API}/v1/customers/cus_gone",
        status=404,
        json={"error": {"type": "invalid_request_error", "message": "No such customer"}},
    )
    assert provider.saved_customer("cus_9") is None
    assert provider.saved_customer("cus_gone") is None
