"""``POST /webhooks/stripe``: payloads signed exactly as Stripe signs them, posted to the app.
Valid, bad signature, too old, duplicated, out of order, unknown types."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from buybutton import orders
from buybutton.config import Settings
from buybutton.store.schema import events, provider_events
from tests.support.accounts import TEST_KEYS
from tests.support.stripe_fake import sign_payload, stripe_event

WHSEC = "whsec_webhook_test"


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=database_url,
        secret_keys=TEST_KEYS,
        public_url="http://shop.test",
        stripe_secret_key="sk_test_webhooks",
        stripe_webhook_secret=WHSEC,
    )


@pytest.fixture
def pending_order(store, signer, make_product, make_token):
    """A pending €12.00 order with a Checkout Session, as POST /v1/checkout leaves it."""
    product = make_product(stock=5)
    with store.transaction() as conn:
        order = orders.create_order(
            conn, signer.verify_token(make_token(product)), 1, provider="stripe", ttl_seconds=1800
        )
        return orders.attach_session(conn, order.id, "cs_test_hook", "https://checkout.test/x")


def session_obj(order, **changes) -> dict:
    body = {
        "id": "cs_test_hook",
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": order.amount,
        "currency": order.currency,
        "client_reference_id": order.id,
        "metadata": {"order_id": order.id, "merchant_id": order.merchant_id},
        "payment_intent": "pi_hook",
        "customer": None,
    }
    body.update(changes)
    return body


def post_event(
    client,
    event: dict,
    *,
    secret: str = WHSEC,
    timestamp: int | None = None,
    signature: str | None = None,
):
    payload = json.dumps(event).encode()
    header = signature if signature is not None else sign_payload(payload, secret, timestamp)
    return client.post(
        "/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def order_now(store, order_id):
    with store.read() as conn:
        return orders.get_order(conn, order_id)


def count(store, table, **where):
    with store.read() as conn:
        query = select(func.count()).select_from(table)
        for name, value in where.items():
            query = query.where(table.c[name] == value)
        return conn.execute(query).scalar()


def completed(order, event_id="evt_completed", **changes):
    return stripe_event(
        "checkout.session.completed", session_obj(order, **changes), event_id=event_id
    )


def test_completed_checkout_pays_the_order(client, store, pending_order):
    response = post_event(client, completed(pending_order))
    assert response.status_code == 200 and response.json == {"received": True, "applied": True}
    order = order_now(store, pending_order.id)
    assert (order.status, order.amount_paid, order.payment_id) == ("paid", 1200, "pi_hook")
    assert count(store, events, type="order.paid") == 1


def test_bad_signature_is_400_and_changes_nothing(client, store, pending_order):
    response = post_event(client, completed(pending_order), secret="whsec_not_ours")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_signature"
    assert response.json["error"]["type"] == "invalid_request_error"
    assert order_now(store, pending_order.id).status == "pending"
    assert count(store, provider_events) == 0


def test_missing_signature_is_400(client, pending_order):
    response = client.post(
        "/webhooks/stripe",
        data=json.dumps(completed(pending_order)),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_signature"


def test_signature_older_than_tolerance_is_rejected(client, store, pending_order):
    response = post_event(client, completed(pending_order), timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert order_now(store, pending_order.id).status == "pending"


def test_signature_within_tolerance_is_accepted(client, store, pending_order):
    response = post_event(client, completed(pending_order), timestamp=int(time.time()) - 240)
    assert response.status_code == 200
    assert order_now(store, pending_order.id).status == "paid"


def test_rotated_secret_header_with_several_signatures_is_accepted(client, store, pending_order):
    payload = json.dumps(completed(pending_order)).encode()
    stamp = int(time.time())
    old = sign_payload(payload, "whsec_old", stamp).split(",v1=")[1]
    header = sign_payload(payload, WHSEC, stamp) + f",v1={old}"
    response = client.post("/webhooks/stripe", data=payload, headers={"Stripe-Signature": header})
    assert response.status_code == 200


def test_signed_garbage_body_is_400(client):
    payload = b"not json"
    response = client.post(
        "/webhooks/stripe", data=payload, headers={"Stripe-Signature": sign_payload(payload, WHSEC)}
    )
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_payload"


def test_same_event_five_times_pays_once(client, store, pending_order):
    event = completed(pending_order)
    for _ in range(5):
        assert post_event(client, event).status_code == 200
    assert order_now(store, pending_order.id).status == "paid"
    assert count(store, events, type="order.paid") == 1
    assert count(store, provider_events) == 1


def test_completed_and_payment_intent_succeeded_both_arriving_pay_once(
    client, store, pending_order
):
    intent = {
        "id": "pi_hook",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 1200,
        "amount_received": 1200,
        "currency": "eur",
        "metadata": {"order_id": pending_order.id},
    }
    post_event(client, stripe_event("payment_intent.succeeded", intent, event_id="evt_pi"))
    post_event(client, completed(pending_order))
    assert order_now(store, pending_order.id).status == "paid"
    assert count(store, events, type="order.paid") == 1


def test_expired_after_completed_stays_paid(client, store, pending_order):
    post_event(client, completed(pending_order))
    expired = stripe_event(
        "checkout.session.expired",
        session_obj(pending_order, status="expired", payment_status="unpaid"),
        event_id="evt_expired",
    )
    assert post_event(client, expired).status_code == 200
    assert order_now(store, pending_order.id).status == "paid"


def test_expired_checkout_expires_the_order_and_gives_stock_back(client, store, pending_order):
    expired = stripe_event(
        "checkout.session.expired",
        session_obj(pending_order, status="expired", payment_status="unpaid", payment_intent=None),
        event_id="evt_expired",
    )
    post_event(client, expired)
    assert order_now(store, pending_order.id).status == "expired"
    assert count(store, events, type="order.expired") == 1


def charge_refunded(order, *, with_metadata=True, event_id="evt_refund"):
    charge = {
        "id": "ch_hook",
        "object": "charge",
        "payment_intent": "pi_hook",
        "refunded": True,
        "amount": 1200,
        "amount_refunded": 1200,
        "currency": "eur",
        "metadata": {"order_id": order.id} if with_metadata else {},
    }
    return stripe_event("charge.refunded", charge, event_id=event_id)


def test_refunded_before_completed_ends_refunded(client, store, pending_order):
    post_event(client, charge_refunded(pending_order))
    post_event(client, completed(pending_order))
    assert order_now(store, pending_order.id).status == "refunded"


def test_refund_without_order_metadata_finds_the_order_by_payment(client, store, pending_order):
    post_event(client, completed(pending_order))
    post_event(client, charge_refunded(pending_order, with_metadata=False))
    assert order_now(store, pending_order.id).status == "refunded"


def test_partial_refund_leaves_order_paid(client, store, pending_order):
    post_event(client, completed(pending_order))
    partial = charge_refunded(pending_order)
    partial["data"]["object"].update(refunded=False, amount_refunded=200)
    assert post_event(client, partial).json == {"received": True, "applied": False}
    assert order_now(store, pending_order.id).status == "paid"


def test_unpaid_completion_then_async_success_pays(client, store, pending_order):
    post_event(client, completed(pending_order, payment_status="unpaid"))
    assert order_now(store, pending_order.id).status == "pending"
    succeeded = stripe_event(
        "checkout.session.async_payment_succeeded",
        session_obj(pending_order),
        event_id="evt_async_ok",
    )
    post_event(client, succeeded)
    assert order_now(store, pending_order.id).status == "paid"


def test_async_payment_failure_flags_the_pending_order(client, store, pending_order):
    failed = stripe_event(
        "checkout.session.async_payment_failed",
        session_obj(pending_order, payment_status="unpaid"),
        event_id="evt_async_ko",
    )
    post_event(client, failed)
    order = order_now(store, pending_order.id)
    assert (order.status, order.flag) == ("pending", "payment_failed")


def test_payment_failed_flags_the_pending_order(client, store, pending_order):
    intent = {
        "id": "pi_hook",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "amount": 1200,
        "currency": "eur",
        "metadata": {"order_id": pending_order.id},
    }
    post_event(client, stripe_event("payment_intent.payment_failed", intent, event_id="evt_pf"))
    order = order_now(store, pending_order.id)
    assert (order.status, order.flag) == ("pending", "payment_failed")


def test_wrong_amount_flags_instead_of_paying(client, store, pending_order):
    post_event(client, completed(pending_order, amount_total=1))
    order = order_now(store, pending_order.id)
    assert (order.status, order.flag, order.amount_paid) == ("pending", "amount_mismatch", 1)


def test_promotion_code_discount_still_pays_with_the_amount_actually_paid(
    client, store, pending_order
):
    post_event(
        client,
        completed(
            pending_order, amount_total=900, total_details={"amount_discount": 300, "amount_tax": 0}
        ),
    )
    order = order_now(store, pending_order.id)
    assert (order.status, order.amount_paid, order.flag) == ("paid", 900, None)


def test_discount_not_matching_the_amount_paid_flags_the_order(client, store, pending_order):
    post_event(
        client,
        completed(
            pending_order, amount_total=500, total_details={"amount_discount": 300, "amount_tax": 0}
        ),
    )
    assert order_now(store, pending_order.id).flag == "amount_mismatch"


def test_unknown_event_type_is_acknowledged_and_ignored(client, store, pending_order):
    response = post_event(
        client, stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    )
    assert response.status_code == 200 and response.json == {"received": True, "applied": False}
    assert count(store, provider_events) == 0


def test_event_for_an_unknown_order_is_acknowledged(client, store, pending_order):
    other = completed(
        pending_order, client_reference_id="ord_elsewhere", metadata={"order_id": "ord_elsewhere"}
    )
    assert post_event(client, other).status_code == 200
    assert order_now(store, pending_order.id).status == "pending"


def test_webhook_route_is_404_with_the_sandbox(tmp_path, sqlite_url):
    from buybutton_server import create_app

    app = create_app(Settings(home=tmp_path, database_url=sqlite_url, secret_keys=TEST_KEYS))
    response = app.test_client().post(
        "/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=x"}
    )
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    app.extensions["buybutton"].store.dispose()


def test_webhook_without_configured_secret_is_503(tmp_path, sqlite_url):
    from buybutton_server import create_app

    app = create_app(
        Settings(
            home=tmp_path,
            database_url=sqlite_url,
            secret_keys=TEST_KEYS,
            stripe_secret_key="sk_test_x",
        )
    )
    response = app.test_client().post(
        "/webhooks/stripe", data=b"{}", headers={"Stripe-Signature": "t=1,v1=x"}
    )
    assert response.status_code == 503
    assert response.json["error"]["code"] == "webhook_not_configured"
    app.extensions["buybutton"].store.dispose()
