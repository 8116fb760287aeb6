"""Checkout, one click and reconciliation with Stripe failing in every way it can (answers fed by
``responses`` to the real stripe library): clear 502/503 errors, the order stays pending and a
retry resumes it without a second session."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import pytest
import requests
import responses
import stripe
from itsdangerous import URLSafeTimedSerializer

from buybutton import cli, orders
from buybutton.config import Settings
from buybutton.payments.providers import make_provider
from buybutton.reconcile import reconcile_pending_orders, sync_order
from buybutton.store import schema
from tests.support.accounts import TEST_KEYS, create_account
from tests.support.forms import form_fields, submit_form

API = "https://api.stripe.com"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    # The library's retry backoff is real time; tests need none of it.
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0)


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=database_url,
        secret_keys=TEST_KEYS,
        public_url="http://shop.test",
        stripe_secret_key="sk_test_checkout",
        stripe_webhook_secret="whsec_x",
    )


@pytest.fixture
def api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def session_json(order_id: str, **changes) -> dict:
    body = {
        "id": "cs_test_c1",
        "object": "checkout.session",
        "status": "open",
        "payment_status": "unpaid",
        "amount_total": 1200,
        "currency": "eur",
        "client_reference_id": order_id,
        "metadata": {"order_id": order_id},
        "payment_intent": None,
        "customer": None,
        "url": "https://checkout.stripe.test/c1",
    }
    body.update(changes)
    return body


def echo_session(request):
    """A Stripe that answers with a session for whatever order it was asked about."""
    order_id = parse_qs(request.body)["client_reference_id"][0]
    return 200, {}, json.dumps(session_json(order_id))


def test_stripe_failure_is_502_order_stays_pending_and_retry_resumes_it(
    client, store, api, make_product, make_token
):
    token = make_token(make_product(stock=3))
    api.post(
        f"{API}/v1/checkout/sessions",
        status=500,
        json={"error": {"type": "api_error", "message": "An unknown error occurred"}},
    )
    failed = client.post(
        "/v1/checkout", json={"token": token}, headers={"Idempotency-Key": "shopper-key-123"}
    )
    assert failed.status_code == 502
    assert failed.json["error"]["code"] == "payment_provider_error"
    assert failed.json["error"]["type"] == "api_error"
    assert "nothing was charged" in failed.json["error"]["message"].lower()
    with store.read() as conn:
        order = orders.get_order(conn, _only_id(store))
    assert (order.status, order.provider_session_id) == ("pending", None)
    assert len(api.calls) == 3  # the library retried twice, as configured

    api.replace(responses.POST, f"{API}/v1/checkout/sessions", json=session_json(order.id))
    resumed = client.post(
        "/v1/checkout", json={"token": token}, headers={"Idempotency-Key": "shopper-key-123"}
    )
    assert resumed.status_code == 201 and resumed.json["order_id"] == order.id
    assert resumed.json["checkout_url"] == "https://checkout.stripe.test/c1"
    assert {call.request.headers["Idempotency-Key"] for call in api.calls} == {
        f"buybutton-checkout-{order.id}"
    }
    assert _only_id(store) == order.id  # still one order


def test_retry_a_while_later_sends_stripe_the_same_parameters(
    app, client, store, api, make_product, make_token
):
    # Stripe answers a reused idempotency key with other parameters by refusing it: the
    # shopper's "try again" must repeat the first request exactly, expiry included.
    token = make_token(make_product())
    api.post(f"{API}/v1/checkout/sessions", body=requests.ConnectionError("read timed out"))
    failed = client.post(
        "/v1/checkout", json={"token": token}, headers={"Idempotency-Key": "shopper-key-456"}
    )
    assert failed.status_code == 503
    provider = app.extensions["buybutton"].provider
    provider._clock = lambda: time.time() + 45
    api.remove(responses.POST, f"{API}/v1/checkout/sessions")
    api.add_callback(responses.POST, f"{API}/v1/checkout/sessions", callback=echo_session)
    resumed = client.post(
        "/v1/checkout", json={"token": token}, headers={"Idempotency-Key": "shopper-key-456"}
    )
    assert resumed.status_code == 201
    bodies = {call.request.body for call in api.calls}
    assert len(api.calls) == 4 and len(bodies) == 1  # three tries, then the shopper's retry


def _only_id(store) -> str:
    from sqlalchemy import select

    from buybutton.store.schema import orders as table

    with store.read() as conn:
        (order_id,) = conn.execute(select(table.c.id)).scalars().all()
    return order_id


def test_unreachable_stripe_is_503(client, api, make_product, make_token):
    api.post(f"{API}/v1/checkout/sessions", body=requests.ConnectionError("connection refused"))
    response = client.post("/v1/checkout", json={"token": make_token(make_product())})
    assert response.status_code == 503
    assert response.json["error"]["code"] == "payment_provider_unavailable"


def test_invalid_currency_is_a_clear_502(client, api, make_product, make_token):
    api.post(
        f"{API}/v1/checkout/sessions",
        status=400,
        json={
            "error": {
                "type": "invalid_request_error",
                "param": "line_items[0][price_data][currency]",
                "message": "Invalid currency: eur. Stripe currently supports these currencies: usd",
            }
        },
    )
    response = client.post("/v1/checkout", json={"token": make_token(make_product())})
    assert response.status_code == 502
    assert "Invalid currency" in response.json["error"]["message"]


def test_checkout_with_consent_asks_stripe_to_save_the_card(client, api, make_product, make_token):
    api.add_callback(responses.POST, f"{API}/v1/checkout/sessions", callback=echo_session)
    token = make_token(make_product())
    csrf = form_fields(client.get(f"/buy/{token}").text, "checkout")["csrf_token"]
    response = client.post(
        "/v1/checkout", json={"token": token, "save_card": True}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 201
    sent = parse_qs(api.calls[0].request.body)
    assert sent["payment_intent_data[setup_future_usage]"] == ["on_session"]
    assert sent["customer_creation"] == ["always"] and sent["metadata[save_card]"] == ["true"]
    # This browser's consent, for the success page to honor (and nobody else's browser).
    consent = response.headers["Set-Cookie"]
    assert consent.startswith("bb_save_card_consent=") and "HttpOnly" in consent


def test_checkout_without_consent_sets_no_cookie(client, api, make_product, make_token):
    api.add_callback(responses.POST, f"{API}/v1/checkout/sessions", callback=echo_session)
    response = client.post("/v1/checkout", json={"token": make_token(make_product())})
    assert response.status_code == 201 and "Set-Cookie" not in response.headers


def test_checkout_rejects_non_boolean_save_card(client, make_product, make_token):
    response = client.post(
        "/v1/checkout", json={"token": make_token(make_product()), "save_card": "yes"}
    )
    assert response.status_code == 400 and response.json["error"]["param"] == "save_card"


def test_buy_page_asks_consent_to_save_the_card(client, make_product, make_token):
    page = client.get(f"/buy/{make_token(make_product())}")
    assert page.status_code == 200
    assert b'name="save_card"' in page.data and b'class="one-click"' not in page.data


def test_buy_page_with_sandbox_offers_no_card_saving(tmp_path, sqlite_url, signer):
    from buybutton_server import create_app

    app = create_app(Settings(home=tmp_path, database_url=sqlite_url, secret_keys=TEST_KEYS))
    store = app.extensions["buybutton"].store
    merchant = create_account(store)
    from buybutton import catalog
    from buybutton.offers import issue_offer
    from buybutton_server.routes import offline_links

    with store.transaction() as conn:
        product = catalog.create_product(
            conn, merchant.id, {"name": "Mug", "amount": 1200, "currency": "eur"}
        )
    token = issue_offer(signer, product, links=offline_links("http://shop.test"))["token"]
    page = app.test_client().get(f"/buy/{token}")
    assert page.status_code == 200 and b"save_card" not in page.data
    store.dispose()


def saved_card_cookie(client, customer="cus_saved"):
    value = URLSafeTimedSerializer(list(TEST_KEYS), salt="buybutton.saved-card").dumps(
        {"customer": customer}
    )
    client.set_cookie("bb_saved_card", value, domain="localhost")


def test_buy_page_still_works_when_stripe_cannot_list_saved_cards(
    client, api, make_product, make_token
):
    api.get(f"{API}/v1/payment_methods", body=requests.ConnectionError("down"))
    saved_card_cookie(client)
    page = client.get(f"/buy/{make_token(make_product())}")
    assert page.status_code == 200
    assert b"Continue to payment" in page.data and "•••".encode() not in page.data


def test_one_click_without_cookie_goes_back_to_buy_page(client, make_product, make_token):
    token = make_token(make_product())
    fields = form_fields(client.get(f"/buy/{token}").text, "checkout")
    response = client.post(f"/buy/{token}/one-click", data=fields)
    assert response.status_code == 303 and f"/buy/{token}" in response.location


def test_one_click_with_stripe_down_is_503_and_order_stays_pending(
    client, store, api, make_product, make_token
):
    api.get(
        f"{API}/v1/payment_methods",
        json={
            "object": "list",
            "data": [
                {
                    "id": "pm_1",
                    "object": "payment_method",
                    "type": "card",
                    "card": {"brand": "visa", "last4": "4242"},
                }
            ],
        },
    )
    api.post(f"{API}/v1/payment_intents", body=requests.ConnectionError("down"))
    saved_card_cookie(client)
    response = submit_form(client, f"/buy/{make_token(make_product())}", form_class="one-click")
    assert response.status_code == 503
    assert b"cannot be reached" in response.data
    with store.read() as conn:
        order = orders.get_order(conn, _only_id(store))
    assert (order.status, order.payment_id) == ("pending", None)
    assert {
        c.request.headers.get("Idempotency-Key") for c in api.calls if c.request.method == "POST"
    } == {f"buybutton-oneclick-{order.id}"}


def test_order_page_survives_stripe_being_down(
    client, store, api, make_product, make_token, signer
):
    api.add_callback(responses.POST, f"{API}/v1/checkout/sessions", callback=echo_session)
    started = client.post("/v1/checkout", json={"token": make_token(make_product())})
    api.get(f"{API}/v1/checkout/sessions/cs_test_c1", body=requests.ConnectionError("down"))
    ref = signer.sign_order_ref(started.json["order_id"])
    page = client.get(f"/orders/{ref}?checkout=success")
    assert page.status_code == 200 and b"confirming" in page.data
    assert "bb_saved_card" not in page.headers.get("Set-Cookie", "")


# -- reconciliation ----------------------------------------------------------------------------


@pytest.fixture
def stale_orders(store, signer, make_product, make_token):
    """Three pending Stripe orders with sessions, opened 20 minutes ago."""
    product = make_product()
    made = []
    then = time.time() - 1200
    for n in range(3):
        with store.transaction() as conn:
            order = orders.create_order(
                conn,
                signer.verify_token(make_token(product)),
                1,
                provider="stripe",
                ttl_seconds=1800,
                now=then,
            )
            made.append(orders.attach_session(conn, order.id, f"cs_test_r{n}", None, now=then))
    return made


def test_reconcile_applies_what_stripe_knows_and_counts_failures(
    settings, store, api, stale_orders
):
    paid, expired, unknown = stale_orders
    api.get(
        f"{API}/v1/checkout/sessions/cs_test_r0",
        json=session_json(
            paid.id,
            id="cs_test_r0",
            status="complete",
            payment_status="paid",
            payment_intent="pi_r0",
        ),
    )
    api.get(
        f"{API}/v1/checkout/sessions/cs_test_r1",
        json=session_json(expired.id, id="cs_test_r1", status="expired"),
    )
    api.get(
        f"{API}/v1/checkout/sessions/cs_test_r2",
        status=500,
        json={"error": {"type": "api_error", "message": "boom"}},
    )
    report = reconcile_pending_orders(store, make_provider(settings, store))
    assert (report.checked, report.paid, report.expired, report.failed) == (3, 1, 1, 1)
    with store.read() as conn:
        states = [orders.get_order(conn, o.id) for o in stale_orders]
    assert [o.status for o in states] == ["paid", "expired", "pending"]
    assert states[0].payment_id == "pi_r0"


def test_reconcile_after_webhook_changes_nothing_twice(settings, store, api, stale_orders):
    order = stale_orders[0]
    api.get(
        f"{API}/v1/checkout/sessions/cs_test_r0",
        json=session_json(
            order.id,
            id="cs_test_r0",
            status="complete",
            payment_status="paid",
            payment_intent="pi_r0",
        ),
    )
    provider = make_provider(settings, store)
    with store.read() as conn:
        current = orders.get_order(conn, order.id)
    first, _ = sync_order(store, provider, current)
    second, _ = sync_order(store, provider, first)
    assert first.status == second.status == "paid" and first.paid_at == second.paid_at


def test_cli_orders_reconcile(settings, store, api, stale_orders, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BUYBUTTON_SECRET_KEYS", ",".join(TEST_KEYS))
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_cli")
    monkeypatch.setenv("STRIPE_API_BASE", "http://stripe.test")
    for n, order in enumerate(stale_orders):
        api.get(
            f"http://stripe.test/v1/checkout/sessions/cs_test_r{n}",
            json=session_json(
                order.id,
                id=f"cs_test_r{n}",
                status="complete",
                payment_status="paid",
                payment_intent=f"pi_{n}",
            ),
        )
    assert cli.main(["orders", "reconcile", "--stale-after", "60"]) == 0
    assert "3 paid" in capsys.readouterr().out
    with store.read() as conn:
        assert {orders.get_order(conn, o.id).status for o in stale_orders} == {"paid"}


def test_success_page_reloads_ask_stripe_at_most_once_per_interval(
    client, store, api, make_product, make_token, signer
):
    api.add_callback(responses.POST, f"{API}/v1/checkout/sessions", callback=echo_session)
    order_id = client.post("/v1/checkout", json={"token": make_token(make_product())}).json[
        "order_id"
    ]
    unpaid = api.get(f"{API}/v1/checkout/sessions/cs_test_c1", json=session_json(order_id))
    url = f"/orders/{signer.sign_order_ref(order_id)}?checkout=success"
    for _ in range(60):  # anonymous reloads by anyone holding the link
        assert client.get(url).status_code == 200
    assert unpaid.call_count == 1

    # The interval passes (here: the claim is set back) and Stripe now says paid.
    api.replace(
        responses.GET,
        f"{API}/v1/checkout/sessions/cs_test_c1",
        json=session_json(
            order_id, status="complete", payment_status="paid", payment_intent="pi_1"
        ),
    )
    with store.transaction() as conn:
        conn.execute(
            schema.orders.update()
            .where(schema.orders.c.id == order_id)
            .values(provider_checked_at=int(time.time()) - 11)
        )
    for _ in range(60):
        assert b"Thank you! Your order is paid." in client.get(url).data
    reads = [
        c for c in api.calls if c.request.method == "GET" and "/checkout/sessions/" in c.request.url
    ]
    assert len(reads) == 2
    with store.read() as conn:
        assert orders.get_order(conn, order_id).status == "paid"


def test_order_sync_interval_is_configurable_and_validated():
    from buybutton.config import ConfigError, load_settings

    env = {"BUYBUTTON_SECRET_KEYS": "k", "BUYBUTTON_ORDER_SYNC_INTERVAL_SECONDS": "30"}
    assert load_settings(env).order_sync_interval_seconds == 30
    for bad in ("0", "abc", "99999"):
        with pytest.raises(ConfigError, match="BUYBUTTON_ORDER_SYNC_INTERVAL_SECONDS"):
            load_settings({**env, "BUYBUTTON_ORDER_SYNC_INTERVAL_SECONDS": bad})
