"""Webhooks end to end: an endpoint registered through the SDK receives the signed `order.paid`
of a real sandbox purchase, and the SDK's `construct_event` verifies it."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests

from buybutton import webhooks
from buybutton.store import Store
from buybutton_sdk import NotFoundError, SignatureVerificationError
from tests.support.forms import submit_form


@pytest.fixture
def settings(settings):
    # The receiver listens on loopback, which a public server would refuse to post to.
    return replace(settings, webhook_allow_private=True)


def test_sdk_registers_an_endpoint_that_receives_a_verifiable_order_paid(
    live_client, live_server, receiver, settings
):
    bb = live_client
    endpoint = bb.webhook_endpoints.create(url=receiver.url, events=["order.paid"])
    assert endpoint.secret.startswith("whsec_") and endpoint.events == ["order.paid"]
    assert bb.webhook_endpoints.retrieve(endpoint.id).to_dict().get("secret") is None
    assert [e.id for e in bb.webhook_endpoints.list()] == [endpoint.id]

    product = bb.products.create(name="Mug", amount=1200, currency="eur")
    token = bb.tokens.create(product.id, ref="webhook-test")
    started = requests.post(
        f"{live_server}/v1/checkout", json={"token": token.token}, timeout=10
    ).json()
    paid = submit_form(
        requests.Session(),
        started["checkout_url"],
        {"email": "shopper@example.com", "card_number": "4242424242424242"},
        form_class="card-form",
        allow_redirects=False,
        timeout=10,
    )
    assert paid.status_code == 303

    store = Store(settings.database_url)
    try:
        report = webhooks.Deliverer(store, allow_private=True).deliver_all_due()
    finally:
        store.dispose()
    assert report.succeeded == 1
    [delivery] = receiver.received
    event = bb.webhooks.construct_event(
        delivery.body, delivery.headers["BuyButton-Signature"], endpoint.secret
    )
    assert event.type == "order.paid"
    assert (event.order.id, event.order.status, event.order.ref) == (
        started["order_id"],
        "paid",
        "webhook-test",
    )
    with pytest.raises(SignatureVerificationError):
        bb.webhooks.construct_event(
            delivery.body + b" ", delivery.headers["BuyButton-Signature"], endpoint.secret
        )

    bb.webhook_endpoints.delete(endpoint.id)
    with pytest.raises(NotFoundError):
        bb.webhook_endpoints.retrieve(endpoint.id)
