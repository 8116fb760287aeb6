"""Idempotency-Key on the merchant API, on SQLite and PostgreSQL."""

import pytest

from buybutton import idempotency
from tests.support.accounts import create_account

PRODUCT = {"name": "Mug", "amount": 1200, "currency": "eur"}


def post(client, merchant, path, body, key):
    return client.post(path, json=body, headers={**merchant.headers, "Idempotency-Key": key})


def product_count(client, merchant) -> int:
    return len(client.get("/v1/products?limit=100", headers=merchant.headers).json["data"])


def test_retried_create_replays_the_first_response(client, merchant):
    first = post(client, merchant, "/v1/products", PRODUCT, "key-1")
    again = post(client, merchant, "/v1/products", PRODUCT, "key-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert product_count(client, merchant) == 1


def test_same_key_with_another_body_is_409_reused(client, merchant):
    post(client, merchant, "/v1/products", PRODUCT, "key-1")
    reused = post(client, merchant, "/v1/products", {**PRODUCT, "amount": 1300}, "key-1")
    assert reused.status_code == 409
    assert reused.json["error"]["code"] == "idempotency_key_reused"
    assert product_count(client, merchant) == 1


def test_same_key_on_another_path_is_409_reused(client, merchant):
    product = post(client, merchant, "/v1/products", PRODUCT, "key-1").json
    other = post(client, merchant, f"/v1/products/{product['id']}/revoke_tokens", {}, "key-1")
    assert other.json["error"]["code"] == "idempotency_key_reused"


def test_request_while_first_in_flight_is_409_in_use(app, client, merchant):
    fingerprint = idempotency.request_fingerprint(
        "POST", "/v1/products", b'{"name":"Mug","amount":1200,"currency":"eur"}'
    )
    idempotency.claim(app.extensions["buybutton"].store, merchant.id, "busy", fingerprint)
    busy = post(client, merchant, "/v1/products", PRODUCT, "busy")
    assert busy.status_code == 409
    assert busy.json["error"] == {
        "type": "invalid_request_error",
        "code": "idempotency_key_in_use",
        "message": busy.json["error"]["message"],
        "param": "Idempotency-Key",
    }
    assert product_count(client, merchant) == 0


def test_client_error_is_stored_and_replayed(client, merchant):
    bad = post(client, merchant, "/v1/products", {"name": "Mug"}, "key-bad")
    again = post(client, merchant, "/v1/products", {"name": "Mug"}, "key-bad")
    assert (bad.status_code, again.status_code) == (400, 400)
    assert again.json == bad.json and again.headers["Idempotent-Replayed"] == "true"


def test_server_error_is_not_stored(app, client, merchant, monkeypatch):
    from buybutton import catalog

    real = catalog.create_product
    monkeypatch.setattr(
        catalog,
        "create_product",
        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("database fell over")),
    )
    failed = post(client, merchant, "/v1/products", PRODUCT, "key-5xx")
    assert failed.status_code == 500
    monkeypatch.setattr(catalog, "create_product", real)
    retried = post(client, merchant, "/v1/products", PRODUCT, "key-5xx")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert product_count(client, merchant) == 1


def test_patch_and_delete_honor_the_key(client, merchant):
    product = post(client, merchant, "/v1/products", PRODUCT, "create").json
    headers = {**merchant.headers, "Idempotency-Key": "patch"}
    first = client.patch(f"/v1/products/{product['id']}", json={"amount": 1500}, headers=headers)
    again = client.patch(f"/v1/products/{product['id']}", json={"amount": 1500}, headers=headers)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert again.json["token_generation"] == 2  # the price change bumped it once, not twice
    headers["Idempotency-Key"] = "delete"
    gone = client.delete(f"/v1/products/{product['id']}", headers=headers)
    replay = client.delete(f"/v1/products/{product['id']}", headers=headers)
    assert gone.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_keys_are_scoped_to_the_merchant(client, merchant, store):
    other = create_account(store, "Other Shop")
    post(client, merchant, "/v1/products", PRODUCT, "shared-key")
    theirs = post(client, other, "/v1/products", {**PRODUCT, "name": "Cup"}, "shared-key")
    assert theirs.status_code == 201 and theirs.json["name"] == "Cup"


def test_requests_without_a_key_are_not_deduplicated(client, merchant):
    client.post("/v1/products", json=PRODUCT, headers=merchant.headers)
    client.post("/v1/products", json=PRODUCT, headers=merchant.headers)
    assert product_count(client, merchant) == 2


def test_invalid_key_is_400_naming_the_header(client, merchant):
    bad = post(client, merchant, "/v1/products", PRODUCT, "x" * 300)
    assert bad.status_code == 400
    assert bad.json["error"]["param"] == "Idempotency-Key"


def test_unauthenticated_request_claims_no_key(client, merchant):
    anonymous = client.post("/v1/products", json=PRODUCT, headers={"Idempotency-Key": "k"})
    assert anonymous.status_code == 401
    assert post(client, merchant, "/v1/products", PRODUCT, "k").status_code == 201


def test_every_response_carries_a_request_id(client, merchant):
    first = client.get("/v1/products", headers=merchant.headers)
    second = client.get("/v1/products")
    assert first.headers["X-Request-Id"].startswith("req_")
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]
    assert client.get("/healthz").headers["X-Request-Id"]


def test_concurrent_request_with_the_same_key_is_409_in_use(app, merchant, monkeypatch):
    """Two real concurrent requests: the second arrives while the first is still running."""
    import threading

    from buybutton_server.api import products as api

    entered, release = threading.Event(), threading.Event()
    real_issue_offer = api.issue_offer

    def slow_issue_offer(*args, **kwargs):
        entered.set()
        assert release.wait(10)
        return real_issue_offer(*args, **kwargs)

    monkeypatch.setattr(api, "issue_offer", slow_issue_offer)
    product = post(app.test_client(), merchant, "/v1/products", PRODUCT, "p").json
    path = f"/v1/products/{product['id']}/tokens"
    results = {}
    first = threading.Thread(
        target=lambda: results.setdefault(
            "first", post(app.test_client(), merchant, path, {"ref": "r"}, "race")
        )
    )
    first.start()
    assert entered.wait(10)
    second = post(app.test_client(), merchant, path, {"ref": "r"}, "race")
    release.set()
    first.join(10)
    assert second.status_code == 409
    assert second.json["error"]["code"] == "idempotency_key_in_use"
    assert results["first"].status_code == 201
    replay = post(app.test_client(), merchant, path, {"ref": "r"}, "race")
    assert replay.json == results["first"].json
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_unhandled_error_is_logged_with_the_request_id(client, merchant, monkeypatch, caplog):
    from buybutton import catalog

    monkeypatch.setattr(
        catalog, "get_product", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
    )
    failed = client.get("/v1/products/prod_x", headers=merchant.headers)
    assert failed.status_code == 500
    assert failed.headers["X-Request-Id"] in caplog.text


# One rule for the header, on the merchant API and on the shopper's checkout alike.
KEYS = [
    ("x", True),
    ("k" * 255, True),
    ("5f0c1c9e-3f0e-4d8e-9a7b-0c6d2f1e8a44", True),
    ("order 42/refund?#~!", True),
    ("", False),
    ("   ", False),
    ("x" * 256, False),
    ("tab\tkey", False),
    ("del\x7fkey", False),
    ("caf\u00e9", False),
]


@pytest.mark.parametrize("key, valid", KEYS)
def test_checkout_and_the_merchant_api_apply_the_same_idempotency_key_rule(
    client, merchant, offer, key, valid
):
    _, token = offer()
    answers = [
        post(client, merchant, "/v1/products", PRODUCT, key),
        client.post(
            "/v1/checkout",
            json={"token": token["token"], "quantity": 1},
            headers={"Idempotency-Key": key},
        ),
    ]
    if valid:
        assert [a.status_code for a in answers] == [201, 201]
        return
    assert [
        (a.status_code, a.json["error"]["code"], a.json["error"]["param"]) for a in answers
    ] == [(400, "invalid_idempotency_key", "Idempotency-Key")] * 2
