"""The SDK picks its exception by the error body's ``code`` and ``type`` (as stripe-python does),
against the real server on 127.0.0.1; each specific class stays a subclass of the one its HTTP
status chose before, so existing ``except`` clauses catch what they caught."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import responses

from buybutton import catalog
from buybutton_sdk import (
    APIError,
    AuthenticationError,
    BuyButtonError,
    CardError,
    Client,
    ConflictError,
    GoneError,
    IdempotencyError,
    InvalidRequestError,
    InvalidTokenError,
    NotFoundError,
    PaymentProviderError,
    ProductUnavailableError,
    RateLimitError,
    SoldOutError,
    TokenExpiredError,
    TokenRevokedError,
)
from tests.support.loopback import LoopbackServer
from tests.support.sdk_client import BASE


def test_expired_token_is_token_expired_error(live_client, store, signer):
    product = live_client.products.create(name="Mug", amount=1200, currency="eur")
    with store.read() as conn:
        claims = catalog.offer_claims(
            catalog.get_product(conn, product.id), expires_at=int(time.time()) - 1
        )
    with pytest.raises(TokenExpiredError) as caught:
        live_client.raw_request("GET", f"/v1/embed/{signer.issue_token(claims)}")
    error = caught.value
    assert isinstance(error, GoneError) and isinstance(error, InvalidRequestError)
    assert (error.http_status, error.code, error.param) == (410, "token_expired", "token")
    assert error.request_id.startswith("req_")


def test_revoked_token_is_token_revoked_error(live_client):
    product = live_client.products.create(name="Mug", amount=1200, currency="eur")
    token = live_client.tokens.create(product.id)
    assert live_client.raw_request("GET", f"/v1/embed/{token.token}").body["object"] == "embed"
    live_client.products.revoke_tokens(product.id)
    with pytest.raises(TokenRevokedError) as caught:
        live_client.raw_request("GET", f"/v1/embed/{token.token}")
    assert isinstance(caught.value, InvalidRequestError) and caught.value.http_status == 410


def test_forged_token_is_invalid_token_error(live_client):
    with pytest.raises(InvalidTokenError) as caught:
        live_client.raw_request("GET", "/v1/embed/forged.token")
    assert isinstance(caught.value, InvalidRequestError)
    assert (caught.value.http_status, caught.value.code) == (400, "invalid_token")


def test_token_of_an_inactive_product_is_product_unavailable_error(live_client):
    product = live_client.products.create(name="Mug", amount=1200, currency="eur", active=False)
    with pytest.raises(ProductUnavailableError) as caught:
        live_client.tokens.create(product.id)
    assert isinstance(caught.value, InvalidRequestError)
    assert (caught.value.http_status, caught.value.code) == (410, "product_unavailable")


def test_checkout_beyond_the_stock_is_sold_out_error(live_client):
    product = live_client.products.create(name="Mug", amount=1200, currency="eur", stock=1)
    token = live_client.tokens.create(product.id)
    with pytest.raises(SoldOutError) as caught:
        live_client.raw_request("POST", "/v1/checkout", json={"token": token.token, "quantity": 2})
    assert isinstance(caught.value, ConflictError)
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        409,
        "sold_out",
        "quantity",
    )


def test_reused_idempotency_key_is_idempotency_error(live_client):
    live_client.products.create(name="Mug", amount=1200, currency="eur", idempotency_key="k-42")
    with pytest.raises(IdempotencyError) as caught:
        live_client.products.create(name="Cup", amount=900, currency="eur", idempotency_key="k-42")
    assert isinstance(caught.value, ConflictError) and caught.value.code == "idempotency_key_reused"


def test_rate_limited_checkout_is_rate_limit_error(settings, merchant):
    from buybutton_server import create_app

    app = create_app(replace(settings, public_url=None, checkout_rate_limit="1/minute"))
    server = LoopbackServer(app)
    try:
        with Client(api_key=merchant.api_key, base_url=server.url, max_retries=0) as bb:
            token = bb.tokens.create(
                bb.products.create(name="Mug", amount=1200, currency="eur").id
            ).token
            bb.raw_request("POST", "/v1/checkout", json={"token": token})
            with pytest.raises(RateLimitError) as caught:
                bb.raw_request("POST", "/v1/checkout", json={"token": token})
    finally:
        server.stop()
        app.extensions["buybutton"].store.dispose()
    assert (caught.value.http_status, caught.value.type, caught.value.code) == (
        429,
        "rate_limit_error",
        "rate_limited",
    )
    assert caught.value.headers.get("Retry-After")


def test_wrong_key_and_missing_product_keep_their_classes(live_client, live_server):
    with pytest.raises(AuthenticationError) as wrong:
        Client(
            api_key="bb_sk_wrong", base_url=live_server, max_retries=0
        ).products.list().first_page()
    assert wrong.value.type == "authentication_error"
    with pytest.raises(NotFoundError):
        live_client.products.retrieve("prod_missing")


# -- answers the JSON API does not give on its own (a declined card, a failed provider) ----------


def _body(type_: str, code: str) -> dict:
    return {"error": {"type": type_, "code": code, "message": "Nope.", "param": None}}


@pytest.mark.parametrize(
    "status, type_, code, cls, caught_by",
    [
        (402, "card_error", "insufficient_funds", CardError, InvalidRequestError),
        (402, "card_error", "some_new_decline_code", CardError, InvalidRequestError),
        (502, "api_error", "payment_provider_error", PaymentProviderError, APIError),
        (503, "api_error", "payment_provider_unavailable", PaymentProviderError, APIError),
        (410, "invalid_request_error", "session_expired", GoneError, InvalidRequestError),
        (409, "invalid_request_error", "idempotency_key_in_use", IdempotencyError, ConflictError),
        # a code whose class does not fit the status (a proxy's answer): the status decides
        (404, "invalid_request_error", "sold_out", NotFoundError, NotFoundError),
        (503, "rate_limit_error", "rate_limited", APIError, APIError),
    ],
)
@responses.activate
def test_class_follows_code_then_type_then_status(status, type_, code, cls, caught_by):
    responses.post(f"{BASE}/v1/orders/ord_1/refund", status=status, json=_body(type_, code))
    with pytest.raises(caught_by) as caught:
        Client(api_key="bb_sk_k", base_url=BASE, max_retries=0).orders.refund("ord_1")
    assert type(caught.value) is cls and isinstance(caught.value, BuyButtonError)
    assert (caught.value.http_status, caught.value.code, caught.value.type) == (status, code, type_)
