"""The public JSON: the embed card, checkout and its every error, health."""

import pytest

from tests.support.api_errors import assert_error


def checkout(client, token, quantity=1, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/v1/checkout", json={"token": token, "quantity": quantity}, headers=headers)


def test_embed_card_is_public_cacheable_and_localized(client, offer):
    product, token = offer(stock=3, description="Blue")
    response = client.get(f"/v1/embed/{token['token']}?locale=fr")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response.headers["Cache-Control"]
    card = response.json
    assert card["product"] == {
        "id": product["id"],
        "name": "Mug",
        "description": "Blue",
        "image_url": None,
    }
    assert (card["amount"], card["currency"], card["price_formatted"]) == (
        1200,
        "eur",
        "12,00\xa0€",
    )
    assert (card["available"], card["sold_out"], card["stock"]) == (True, False, 3)


def test_embed_uses_accept_language(client, offer):
    _, token = offer()
    card = client.get(
        f"/v1/embed/{token['token']}", headers={"Accept-Language": "fr-FR,fr;q=0.9"}
    ).json
    assert card["price_formatted"] == "12,00\xa0€"


def test_embed_shows_sold_out(client, offer):
    _, token = offer(stock=0)
    card = client.get(f"/v1/embed/{token['token']}").json
    assert (card["available"], card["sold_out"]) == (False, True)


def test_embed_errors_are_json_with_cors(client):
    response = client.get("/v1/embed/garbage")
    assert_error(response, 400, "invalid_token", "token")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_expired_token_is_410(client, api, offer, signer):
    from buybutton.tokens import TokenClaims

    product, _ = offer()
    expired = signer.issue_token(
        TokenClaims(product["merchant_id"], product["id"], 1200, "eur", 1, expires_at=1)
    )
    assert_error(client.get(f"/v1/embed/{expired}"), 410, "token_expired")
    assert_error(checkout(client, expired), 410, "token_expired")


def test_token_for_unknown_product_is_404(client, merchant, signer):
    from buybutton.tokens import TokenClaims

    token = signer.issue_token(TokenClaims(merchant.id, "prod_gone", 1200, "eur", 1))
    assert_error(checkout(client, token), 404, "product_not_found")


def test_checkout_creates_a_pending_order_with_a_payment_page(client, api, offer):
    _, token = offer(stock=2)
    response = checkout(client, token["token"], quantity=2)
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "pending"
    assert body["checkout_url"].startswith("http://shop.test/sandbox/checkout/cs_test_sbx_")
    assert body["status_url"].startswith("http://shop.test/orders/")
    order = api.get(f"/v1/orders/{body['order_id']}").json
    assert (order["status"], order["quantity"], order["amount"]) == ("pending", 2, 2400)
    assert_error(checkout(client, token["token"]), 409, "sold_out", "quantity")


def test_checkout_with_the_same_idempotency_key_returns_the_same_order(client, api, offer):
    _, token = offer(stock=5)
    first = checkout(client, token["token"], key="click-abcdef-1").json
    again = checkout(client, token["token"], key="click-abcdef-1").json
    assert first == again
    assert len(api.get("/v1/orders").json["data"]) == 1


@pytest.mark.parametrize(
    "body, code, param",
    [
        ({}, "invalid_token", "token"),
        ({"token": 12}, "invalid_token", "token"),
        ({"token": "abc.def"}, "invalid_token", "token"),
    ],
)
def test_checkout_rejects_missing_or_tampered_tokens(client, body, code, param):
    assert_error(client.post("/v1/checkout", json=body), 400, code, param)


def test_checkout_rejects_tampered_price(client, offer):
    import base64
    import json

    _, token = offer()
    body, signature = token["token"].rsplit(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["a"] = 1
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    assert_error(checkout(client, f"{forged}.{signature}"), 400, "invalid_token", "token")


@pytest.mark.parametrize("quantity", [0, -1, 101, 10**30, "2", 1.5, None, True, [1]])
def test_checkout_rejects_bad_quantities(client, api, offer, quantity):
    _, token = offer(stock=5)
    assert_error(
        checkout(client, token["token"], quantity=quantity), 400, "invalid_request", "quantity"
    )
    assert api.get("/v1/orders").json["data"] == []  # nothing half-written
    assert api.get(f"/v1/products/{token['product_id']}").json["stock"] == 5


@pytest.mark.parametrize("data", ["{oops", "[]", "null", "12"])
def test_checkout_rejects_malformed_json(client, data):
    assert_error(
        client.post("/v1/checkout", data=data, content_type="application/json"), 400, "invalid_json"
    )


def test_checkout_rejects_an_idempotency_key_over_255_characters(client, offer):
    _, token = offer()
    assert_error(
        checkout(client, token["token"], key="x" * 256),
        400,
        "invalid_idempotency_key",
        "Idempotency-Key",
    )


def test_checkout_of_an_inactive_product_is_410(client, api, offer):
    product, token = offer()
    api.patch(f"/v1/products/{product['id']}", json={"active": False})
    assert_error(checkout(client, token["token"]), 410, "product_unavailable")


def test_repriced_product_revokes_posted_tokens(client, api, offer):
    product, token = offer()
    api.patch(f"/v1/products/{product['id']}", json={"amount": 1500})
    assert_error(checkout(client, token["token"]), 410, "token_revoked")


def test_health_reports_database_and_provider(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "payment_provider": "sandbox"}


def test_health_is_503_when_the_database_is_down(tmp_path):
    from buybutton.config import Settings
    from buybutton_server import create_app

    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    missing.parent.mkdir()
    app = create_app(
        Settings(home=tmp_path, database_url=f"sqlite:///{missing}", secret_keys=("k",))
    )
    app.extensions["buybutton"].store.engine.dispose()
    (tmp_path / "no-such-dir").rmdir()
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}
