"""Error mapping and the retry policy (backoff, jitter, Retry-After), with no real sleeping."""

from __future__ import annotations

import pytest
import requests
import responses

from buybutton_sdk import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BuyButtonError,
    Client,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
)
from tests.support.sdk_client import BASE

PRODUCT = {"id": "prod_1", "object": "product", "name": "Mug", "amount": 1200, "currency": "eur"}


def error_body(code: str, type_: str = "invalid_request_error", param=None, message="Nope."):
    return {"error": {"type": type_, "code": code, "message": message, "param": param}}


@pytest.mark.parametrize(
    "status, code, cls",
    [
        (400, "invalid_request", InvalidRequestError),
        (401, "invalid_api_key", AuthenticationError),
        (403, "forbidden", AuthenticationError),
        (404, "product_not_found", NotFoundError),
        (409, "order_not_refundable", ConflictError),
        (410, "product_unavailable", InvalidRequestError),
        (422, "unprocessable", InvalidRequestError),
        (429, "rate_limited", RateLimitError),
        (500, "internal_error", APIError),
        (502, "payment_provider_error", APIError),
    ],
)
@responses.activate
def test_error_status_maps_to_its_class_with_details(status, code, cls):
    client = Client(api_key="bb_sk_k", base_url=BASE, max_retries=0)
    responses.get(
        f"{BASE}/v1/products/prod_1",
        status=status,
        json=error_body(code, param="amount", message="Bad amount."),
        headers={"X-Request-Id": "req_abc"},
    )
    with pytest.raises(cls) as caught:
        client.products.retrieve("prod_1")
    error = caught.value
    assert isinstance(error, BuyButtonError)
    assert (error.http_status, error.code, error.param, error.message, error.request_id) == (
        status,
        code,
        "amount",
        "Bad amount.",
        "req_abc",
    )
    assert error.type == "invalid_request_error"
    assert error.json_body == error_body(code, param="amount", message="Bad amount.")
    assert "req_abc" in str(error) and code in str(error)


@responses.activate
def test_invalid_request_error_carries_param(bb):
    responses.post(
        f"{BASE}/v1/products", status=400, json=error_body("invalid_request", param="currency")
    )
    with pytest.raises(InvalidRequestError) as caught:
        bb.products.create(name="Mug", amount=1200, currency="zzz")
    assert caught.value.param == "currency"


@responses.activate
def test_non_json_error_body_is_api_error_with_status(bb):
    responses.get(
        f"{BASE}/v1/orders/ord_1",
        status=502,
        body="<html>Bad Gateway</html>",
        content_type="text/html",
    )
    with pytest.raises(APIError) as caught:
        Client(api_key="bb_sk_k", base_url=BASE, max_retries=0).orders.retrieve("ord_1")
    assert caught.value.http_status == 502 and caught.value.code is None


@responses.activate
def test_non_json_success_body_is_api_error(bb):
    responses.get(f"{BASE}/v1/orders/ord_1", status=200, body="not json")
    with pytest.raises(APIError):
        bb.orders.retrieve("ord_1")


@responses.activate
def test_5xx_is_retried_with_the_same_idempotency_key_then_succeeds(bb, sleeps):
    url = f"{BASE}/v1/products"
    responses.post(url, status=503, json=error_body("unavailable", "api_error"))
    responses.post(url, status=500, json=error_body("internal_error", "api_error"))
    responses.post(url, status=201, json=PRODUCT)
    assert bb.products.create(name="Mug", amount=1200, currency="eur").id == "prod_1"
    keys = [call.request.headers["Idempotency-Key"] for call in responses.calls]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert sleeps == [0.5, 1.0]  # exponential: 0.5 s, then 1 s (jitter fixed at its maximum)


@responses.activate
def test_retries_stop_after_max_retries_and_raise_the_last_error(bb, sleeps):
    responses.get(
        f"{BASE}/v1/orders/ord_1", status=500, json=error_body("internal_error", "api_error")
    )
    with pytest.raises(APIError):
        bb.orders.retrieve("ord_1")
    assert len(responses.calls) == 3 and len(sleeps) == 2


@responses.activate
def test_jitter_keeps_the_delay_between_half_and_all_of_the_step(sleeps):
    client = Client(
        api_key="bb_sk_k", base_url=BASE, max_retries=3, sleep=sleeps.append, random=lambda: 0.0
    )
    responses.get(f"{BASE}/v1/orders/ord_1", status=500, json=error_body("x", "api_error"))
    with pytest.raises(APIError):
        client.orders.retrieve("ord_1")
    assert sleeps == [0.25, 0.5, 1.0]


def test_backoff_is_capped():
    from buybutton_sdk._http import MAX_RETRY_DELAY

    client = Client(api_key="bb_sk_k", base_url=BASE, random=lambda: 1.0)
    assert client._http._delay(20, None) == MAX_RETRY_DELAY


@responses.activate
def test_429_honors_retry_after_seconds(bb, sleeps):
    responses.get(
        f"{BASE}/v1/orders/ord_1",
        status=429,
        json=error_body("rate_limited"),
        headers={"Retry-After": "7"},
    )
    responses.get(f"{BASE}/v1/orders/ord_1", json={"id": "ord_1", "object": "order"})
    assert bb.orders.retrieve("ord_1").id == "ord_1"
    assert sleeps == [7.0]


@responses.activate
def test_429_honors_retry_after_http_date(bb, sleeps):
    # The bb fixture's clock reads 1 800 000 000 = Fri, 15 Jan 2027 08:00:00 GMT.
    responses.get(
        f"{BASE}/v1/orders/ord_1",
        status=429,
        json=error_body("rate_limited"),
        headers={"Retry-After": "Fri, 15 Jan 2027 08:00:03 GMT"},
    )
    responses.get(f"{BASE}/v1/orders/ord_1", json={"id": "ord_1", "object": "order"})
    bb.orders.retrieve("ord_1")
    assert sleeps == [3.0]


@responses.activate
def test_429_with_a_very_long_retry_after_is_not_waited_for(bb, sleeps):
    responses.get(
        f"{BASE}/v1/orders/ord_1",
        status=429,
        json=error_body("rate_limited"),
        headers={"Retry-After": "3600"},
    )
    with pytest.raises(RateLimitError):
        bb.orders.retrieve("ord_1")
    assert sleeps == [] and len(responses.calls) == 1


@pytest.mark.parametrize("retry_after", ["3600", "inf"])
@responses.activate
def test_503_with_a_very_long_retry_after_is_not_waited_for(bb, sleeps, retry_after):
    # A proxy's maintenance page: an hour's wait (or an endless one) is the caller's to choose.
    responses.get(
        f"{BASE}/v1/orders/ord_1",
        status=503,
        json=error_body("unavailable"),
        headers={"Retry-After": retry_after},
    )
    with pytest.raises(APIError):
        bb.orders.retrieve("ord_1")
    assert sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_connection_errors_are_retried_then_raised_as_api_connection_error(bb, sleeps):
    responses.get(f"{BASE}/v1/orders/ord_1", body=requests.ConnectionError("refused"))
    with pytest.raises(APIConnectionError) as caught:
        bb.orders.retrieve("ord_1")
    assert len(responses.calls) == 3 and sleeps == [0.5, 1.0]
    assert "refused" in str(caught.value)


@responses.activate
def test_timeout_then_success_keeps_the_idempotency_key(bb, sleeps):
    responses.post(f"{BASE}/v1/orders/ord_1/refund", body=requests.ReadTimeout("slow"))
    responses.post(
        f"{BASE}/v1/orders/ord_1/refund",
        json={"id": "ord_1", "object": "order", "status": "refunded"},
    )
    assert bb.orders.refund("ord_1").status == "refunded"
    first, second = (c.request.headers["Idempotency-Key"] for c in responses.calls)
    assert first == second


@responses.activate
def test_idempotency_key_in_use_is_retried(bb, sleeps):
    url = f"{BASE}/v1/products"
    responses.post(url, status=409, json=error_body("idempotency_key_in_use"))
    responses.post(url, status=201, json=PRODUCT)
    bb.products.create(name="Mug", amount=1200, currency="eur")
    assert len(responses.calls) == 2 and sleeps == [0.5]


@pytest.mark.parametrize(
    "status, code",
    [
        (400, "invalid_request"),
        (401, "invalid_api_key"),
        (404, "not_found"),
        (409, "idempotency_key_reused"),
        (409, "order_not_refundable"),
    ],
)
@responses.activate
def test_client_errors_are_not_retried(bb, sleeps, status, code):
    responses.post(f"{BASE}/v1/orders/ord_1/refund", status=status, json=error_body(code))
    with pytest.raises(BuyButtonError):
        bb.orders.refund("ord_1")
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_max_retries_zero_sends_once(sleeps):
    client = Client(api_key="bb_sk_k", base_url=BASE, max_retries=0, sleep=sleeps.append)
    responses.get(f"{BASE}/v1/orders/ord_1", status=503, json=error_body("x", "api_error"))
    with pytest.raises(APIError):
        client.orders.retrieve("ord_1")
    assert len(responses.calls) == 1 and sleeps == []


def test_unreachable_server_raises_api_connection_error(sleeps):
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Client(
        api_key="bb_sk_k",
        base_url=f"http://127.0.0.1:{port}",
        max_retries=1,
        timeout=2,
        sleep=sleeps.append,
    )
    with pytest.raises(APIConnectionError):
        client.orders.retrieve("ord_1")
    assert len(sleeps) == 1
