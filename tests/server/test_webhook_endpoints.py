"""The merchant API for webhook endpoints, and a sandbox purchase reaching a real receiver."""

from __future__ import annotations

import json

import pytest

from buybutton.webhooks import Deliverer
from buybutton_sdk import construct_event
from tests.support.accounts import TEST_KEYS, create_account
from tests.support.embedded_addresses import ALLOWED, REFUSED
from tests.support.forms import submit_form


@pytest.fixture
def settings(settings):
    """Webhook targets on loopback are allowed here, as in the demo (the receiver is local)."""
    return settings.with_overrides(webhook_allow_private=True)


def create(client, merchant, body, **kwargs):
    return client.post("/v1/webhook_endpoints", headers=merchant.headers, json=body, **kwargs)


def test_create_returns_the_endpoint_with_its_secret_once(client, merchant):
    created = create(
        client,
        merchant,
        {"url": "https://shop.example/hooks", "events": ["order.paid", "order.refunded"]},
    )
    assert created.status_code == 201
    body = created.json
    assert body["id"].startswith("we_") and body["object"] == "webhook_endpoint"
    assert (body["url"], body["events"], body["enabled"]) == (
        "https://shop.example/hooks",
        ["order.paid", "order.refunded"],
        True,
    )
    assert isinstance(body["created_at"], int) and body["secret"].startswith("whsec_")

    fetched = client.get(f"/v1/webhook_endpoints/{body['id']}", headers=merchant.headers)
    assert fetched.status_code == 200
    assert fetched.json == {k: v for k, v in body.items() if k != "secret"}


def test_list_pages_newest_first_like_products(client, merchant):
    ids = [
        create(client, merchant, {"url": f"http://127.0.0.1:9/{n}", "events": ["*"]}).json["id"]
        for n in range(3)
    ]
    page = client.get("/v1/webhook_endpoints?limit=2", headers=merchant.headers).json
    assert (page["object"], page["url"], page["has_more"]) == (
        "list",
        "/v1/webhook_endpoints",
        True,
    )
    assert [e["id"] for e in page["data"]] == ids[::-1][:2]
    assert all("secret" not in e for e in page["data"])
    rest = client.get(
        f"/v1/webhook_endpoints?limit=2&starting_after={ids[1]}", headers=merchant.headers
    ).json
    assert ([e["id"] for e in rest["data"]], rest["has_more"]) == ([ids[0]], False)


def test_delete_removes_the_endpoint(client, merchant):
    endpoint_id = create(client, merchant, {"url": "http://127.0.0.1:9/", "events": ["*"]}).json[
        "id"
    ]
    deleted = client.delete(f"/v1/webhook_endpoints/{endpoint_id}", headers=merchant.headers)
    assert (deleted.status_code, deleted.json) == (
        200,
        {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True},
    )
    assert (
        client.get(f"/v1/webhook_endpoints/{endpoint_id}", headers=merchant.headers).status_code
        == 404
    )
    assert (
        client.delete(f"/v1/webhook_endpoints/{endpoint_id}", headers=merchant.headers).status_code
        == 404
    )
    assert client.get("/v1/webhook_endpoints", headers=merchant.headers).json["data"] == []


def test_unknown_or_other_merchants_endpoint_is_404(client, merchant, store):
    endpoint_id = create(client, merchant, {"url": "http://127.0.0.1:9/", "events": ["*"]}).json[
        "id"
    ]
    other = create_account(store, "Other Shop")
    for method in ("get", "delete"):
        for path in (f"/v1/webhook_endpoints/{endpoint_id}", "/v1/webhook_endpoints/we_nope"):
            response = getattr(client, method)(path, headers=other.headers)
            assert response.status_code == 404
            assert response.json["error"]["code"] == "webhook_endpoint_not_found"
            assert response.json["error"]["param"] == "id"
    assert (
        client.get(f"/v1/webhook_endpoints/{endpoint_id}", headers=merchant.headers).status_code
        == 200
    )


def test_endpoints_need_the_merchant_key(client):
    response = client.get("/v1/webhook_endpoints")
    assert response.status_code == 401
    assert response.json["error"]["type"] == "authentication_error"


@pytest.mark.parametrize(
    "body, param",
    [
        ({"events": ["*"]}, "url"),
        ({"url": 42, "events": ["*"]}, "url"),
        ({"url": "ftp://shop.example/hooks", "events": ["*"]}, "url"),
        ({"url": "shop.example/hooks", "events": ["*"]}, "url"),
        ({"url": "https://user:pw@shop.example/", "events": ["*"]}, "url"),
        ({"url": "https://shop.example/a b", "events": ["*"]}, "url"),
        ({"url": "https://shop.example:99999/", "events": ["*"]}, "url"),
        ({"url": "https://shop.example/" + "x" * 2048, "events": ["*"]}, "url"),
        ({"url": "https://shop.example/hooks"}, "events"),
        ({"url": "https://shop.example/hooks", "events": []}, "events"),
        ({"url": "https://shop.example/hooks", "events": "order.paid"}, "events"),
        ({"url": "https://shop.example/hooks", "events": ["order.teleported"]}, "events"),
        ({"url": "https://shop.example/hooks", "events": [["order.paid"]]}, "events"),
        ({"url": "https://shop.example/hooks", "events": ["*"], "enabled": False}, "enabled"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(client, merchant, body, param):
    response = create(client, merchant, body)
    assert response.status_code == 400
    error = response.json["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)
    assert client.get("/v1/webhook_endpoints", headers=merchant.headers).json["data"] == []


def test_create_rejects_a_body_that_is_not_json(client, merchant):
    response = client.post(
        "/v1/webhook_endpoints",
        headers=merchant.headers,
        data="url=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert (response.status_code, response.json["error"]["code"]) == (400, "invalid_json")


def test_private_address_is_refused_unless_allowed(tmp_path, database_url, merchant):
    from buybutton.config import Settings
    from buybutton_server import create_app

    strict = create_app(Settings(home=tmp_path, database_url=database_url, secret_keys=TEST_KEYS))
    try:
        response = create(
            strict.test_client(), merchant, {"url": "http://127.0.0.1:8080/hooks", "events": ["*"]}
        )
    finally:
        strict.extensions["buybutton"].store.dispose()
    assert response.status_code == 400
    assert (response.json["error"]["code"], response.json["error"]["param"]) == (
        "url_not_allowed",
        "url",
    )


def test_sandbox_purchase_sends_signed_order_paid_to_the_receiver(app, client, merchant, receiver):
    secret = create(client, merchant, {"url": receiver.url, "events": ["order.paid"]}).json[
        "secret"
    ]
    product = client.post(
        "/v1/products",
        headers=merchant.headers,
        json={"name": "Mug", "amount": 1200, "currency": "eur"},
    ).json
    token = client.post(
        f"/v1/products/{product['id']}/tokens", headers=merchant.headers, json={}
    ).json["token"]
    started = client.post("/v1/checkout", json={"token": token, "quantity": 1}).json
    assert (
        submit_form(
            client,
            started["checkout_url"],
            {"email": "shopper@example.com", "card_number": "4242 4242 4242 4242"},
            form_class="card-form",
        ).status_code
        == 303
    )

    deliverer = Deliverer(app.extensions["buybutton"].store, allow_private=True)
    assert deliverer.deliver_all_due().succeeded == 1

    [hit] = receiver.received
    event = construct_event(hit.body, hit.headers["BuyButton-Signature"], secret).to_dict()
    assert event["type"] == "order.paid"
    assert event["data"]["object"]["id"] == started["order_id"]
    assert event["data"]["object"]["amount_paid"] == 1200
    assert json.loads(hit.body) == event


@pytest.fixture
def strict_client(tmp_path, sqlite_url):
    """An app on SQLite that refuses private targets, as a public server does."""
    from buybutton.config import Settings
    from buybutton_server import create_app

    app = create_app(Settings(home=tmp_path, database_url=sqlite_url, secret_keys=TEST_KEYS))
    yield app.test_client(), create_account(app.extensions["buybutton"].store)
    app.extensions["buybutton"].store.dispose()


@pytest.mark.parametrize(
    "address, verdict", [(a, "refused") for a, _ in REFUSED] + [(a, "allowed") for a, _ in ALLOWED]
)
def test_ipv6_forms_embedding_ipv4_are_judged_by_the_embedded_address(
    strict_client, address, verdict
):
    client, merchant = strict_client
    response = create(
        client, merchant, {"url": f"https://[{address}]:8443/hooks", "events": ["order.paid"]}
    )
    if verdict == "allowed":
        assert response.status_code == 201, response.json
        return
    assert response.status_code == 400
    error = response.json["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "url_not_allowed",
        "url",
    )
    assert address in error["message"]
    assert client.get("/v1/webhook_endpoints", headers=merchant.headers).json["data"] == []
