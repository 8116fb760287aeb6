"""Every SDK method sends the request the merchant API expects, and types the answer."""

from __future__ import annotations

import io
import json
import platform
from datetime import date

import pytest
import responses
from responses import matchers

import buybutton_sdk
from buybutton_sdk import DeletedObject, Order, Product, Token, WebhookEndpoint
from tests.support.sdk_client import API_KEY, BASE

PRODUCT = {
    "id": "prod_1",
    "object": "product",
    "merchant_id": "mch_1",
    "name": "Mug",
    "description": "",
    "image_url": None,
    "amount": 1200,
    "currency": "eur",
    "stock": 50,
    "active": True,
    "allow_promotion_codes": False,
    "in_feed": False,
    "token_generation": 1,
    "created_at": 1_700_000_000,
    "updated_at": 1_700_000_000,
}
ORDER = {
    "id": "ord_1",
    "object": "order",
    "merchant_id": "mch_1",
    "product_id": "prod_1",
    "quantity": 1,
    "unit_amount": 1200,
    "amount": 1200,
    "currency": "eur",
    "status": "paid",
    "ref": "insta-post-42",
    "provider": "sandbox",
    "payment_id": "pay_1",
    "amount_paid": 1200,
    "flag": None,
    "created_at": 1,
    "updated_at": 2,
    "paid_at": 2,
    "expires_at": 3,
}
TOKEN = {
    "object": "token",
    "token": "tok.sig",
    "product_id": "prod_1",
    "amount": 1200,
    "currency": "eur",
    "ref": "insta-post-42",
    "expires_at": 1_700_604_800,
    "snippet": '<script async src="https://buy.test/widget.js"></script>\n'
    '<buy-button token="tok.sig"></buy-button>',
    "share_url": "https://buy.test/p/tok.sig",
    "buy_url": "https://buy.test/buy/tok.sig",
    "qr_url": "https://buy.test/p/tok.sig/qr.svg",
}
ENDPOINT = {
    "id": "we_1",
    "object": "webhook_endpoint",
    "url": "https://shop.example/hook",
    "events": ["order.paid"],
    "enabled": True,
    "created_at": 1,
    "secret": "whsec_abc",
}


def sent(index: int = -1):
    return responses.calls[index].request


def sent_json(index: int = -1):
    return json.loads(sent(index).body)


@responses.activate
def test_products_create_posts_json_with_key_auth_and_user_agent(bb):
    responses.post(f"{BASE}/v1/products", json=PRODUCT, status=201)
    product = bb.products.create(
        name="Mug", amount=1200, currency="eur", stock=50, image_url="https://cdn.example/mug.jpg"
    )
    assert isinstance(product, Product)
    assert (product.id, product.amount, product.currency, product.stock) == (
        "prod_1",
        1200,
        "eur",
        50,
    )
    request = sent()
    assert sent_json() == {
        "name": "Mug",
        "amount": 1200,
        "currency": "eur",
        "stock": 50,
        "image_url": "https://cdn.example/mug.jpg",
    }
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == (
        f"buybutton-sdk/{buybutton_sdk.__version__} python/{platform.python_version()}"
    )
    assert request.headers["Idempotency-Key"].startswith("bbsdk-")


@responses.activate
def test_each_post_gets_its_own_generated_idempotency_key(bb):
    responses.post(f"{BASE}/v1/products", json=PRODUCT, status=201)
    bb.products.create(name="Mug", amount=1200, currency="eur")
    bb.products.create(name="Mug", amount=1200, currency="eur")
    keys = {call.request.headers["Idempotency-Key"] for call in responses.calls}
    assert len(keys) == 2


@responses.activate
def test_caller_given_idempotency_key_is_sent(bb):
    responses.post(
        f"{BASE}/v1/products",
        json=PRODUCT,
        status=201,
        match=[matchers.header_matcher({"Idempotency-Key": "my-record-7"})],
    )
    bb.products.create(name="Mug", amount=1200, currency="eur", idempotency_key="my-record-7")


@responses.activate
def test_products_create_omits_unset_fields_but_sends_explicit_none(bb):
    responses.post(f"{BASE}/v1/products", json=PRODUCT, status=201)
    bb.products.create(name="Mug", amount=1200, currency="eur", stock=None)
    assert sent_json() == {"name": "Mug", "amount": 1200, "currency": "eur", "stock": None}


@responses.activate
def test_products_retrieve_gets_by_escaped_id_without_idempotency_key(bb):
    responses.get(f"{BASE}/v1/products/prod_1%2F..", json=PRODUCT)
    bb.products.retrieve("prod_1/..")
    assert sent().method == "GET"
    assert "Idempotency-Key" not in sent().headers
    assert sent().body is None


@responses.activate
def test_products_update_patches_only_given_fields(bb):
    responses.patch(f"{BASE}/v1/products/prod_1", json={**PRODUCT, "stock": None})
    product = bb.products.update("prod_1", stock=None, name="Big mug", idempotency_key="u1")
    assert sent_json() == {"stock": None, "name": "Big mug"}
    assert sent().headers["Idempotency-Key"] == "u1"
    assert product.stock is None


@responses.activate
def test_products_in_feed_is_sent_and_read(bb):
    responses.post(f"{BASE}/v1/products", json={**PRODUCT, "in_feed": True}, status=201)
    responses.patch(f"{BASE}/v1/products/prod_1", json=PRODUCT)
    assert bb.products.create(name="Mug", amount=1200, currency="eur", in_feed=True).in_feed is True
    assert sent_json()["in_feed"] is True
    assert bb.products.update("prod_1", in_feed=False).in_feed is False
    assert sent_json() == {"in_feed": False}


@responses.activate
def test_products_delete_returns_deleted_object(bb):
    responses.delete(
        f"{BASE}/v1/products/prod_1", json={"id": "prod_1", "object": "product", "deleted": True}
    )
    deleted = bb.products.delete("prod_1")
    assert isinstance(deleted, DeletedObject) and deleted.deleted and deleted.id == "prod_1"
    assert sent().headers["Idempotency-Key"]


@responses.activate
def test_products_list_sends_filters_as_query(bb):
    responses.get(
        f"{BASE}/v1/products",
        json={"object": "list", "data": [PRODUCT], "has_more": False, "url": "/v1/products"},
        match=[matchers.query_param_matcher({"active": "true", "limit": "10"})],
    )
    assert [p.id for p in bb.products.list(active=True, limit=10)] == ["prod_1"]


@responses.activate
def test_products_revoke_tokens_posts(bb):
    responses.post(
        f"{BASE}/v1/products/prod_1/revoke_tokens", json={**PRODUCT, "token_generation": 2}
    )
    assert bb.products.revoke_tokens("prod_1").token_generation == 2
    assert sent().headers["Idempotency-Key"]


@responses.activate
def test_tokens_create_posts_ref_and_expiry(bb):
    responses.post(f"{BASE}/v1/products/prod_1/tokens", json=TOKEN, status=201)
    token = bb.tokens.create("prod_1", ref="insta-post-42", expires_in=7 * 86400)
    assert sent_json() == {"ref": "insta-post-42", "expires_in": 604800}
    assert isinstance(token, Token)
    assert token.share_url == "https://buy.test/p/tok.sig"
    assert token.buy_url.endswith("/buy/tok.sig") and token.qr_url.endswith("/qr.svg")
    assert '<buy-button token="tok.sig">' in token.snippet


@responses.activate
def test_orders_list_filters(bb):
    responses.get(
        f"{BASE}/v1/orders",
        json={"object": "list", "data": [ORDER], "has_more": False, "url": "/v1/orders"},
        match=[
            matchers.query_param_matcher(
                {"status": "paid", "ref": "insta-post-42", "product_id": "prod_1"}
            )
        ],
    )
    orders = list(bb.orders.list(status="paid", ref="insta-post-42", product_id="prod_1"))
    assert [type(o) for o in orders] == [Order] and orders[0].amount_paid == 1200


@responses.activate
def test_orders_list_by_creation_time(bb):
    responses.get(
        f"{BASE}/v1/orders",
        json={"object": "list", "data": [ORDER], "has_more": False, "url": "/v1/orders"},
        match=[matchers.query_param_matcher({"created[gte]": "1000", "created[lt]": "2000"})],
    )
    assert len(list(bb.orders.list(created_gte=1000, created_lt=2000))) == 1


@responses.activate
def test_orders_retrieve_and_refund(bb):
    responses.get(f"{BASE}/v1/orders/ord_1", json=ORDER)
    responses.post(f"{BASE}/v1/orders/ord_1/refund", json={**ORDER, "status": "refunded"})
    assert bb.orders.retrieve("ord_1").status == "paid"
    refunded = bb.orders.refund("ord_1", idempotency_key="refund-ord_1")
    assert refunded.status == "refunded"
    assert sent().headers["Idempotency-Key"] == "refund-ord_1"


@responses.activate
def test_webhook_endpoints_create_list_retrieve_delete(bb):
    responses.post(f"{BASE}/v1/webhook_endpoints", json=ENDPOINT, status=201)
    without_secret = {k: v for k, v in ENDPOINT.items() if k != "secret"}
    responses.get(
        f"{BASE}/v1/webhook_endpoints",
        json={
            "object": "list",
            "data": [without_secret],
            "has_more": False,
            "url": "/v1/webhook_endpoints",
        },
    )
    responses.get(f"{BASE}/v1/webhook_endpoints/we_1", json=without_secret)
    responses.delete(
        f"{BASE}/v1/webhook_endpoints/we_1",
        json={"id": "we_1", "object": "webhook_endpoint", "deleted": True},
    )

    endpoint = bb.webhook_endpoints.create(url="https://shop.example/hook", events=("order.paid",))
    assert sent_json() == {"url": "https://shop.example/hook", "events": ["order.paid"]}
    assert sent().headers["Idempotency-Key"]
    assert isinstance(endpoint, WebhookEndpoint) and endpoint.secret == "whsec_abc"
    assert endpoint.events == ["order.paid"] and endpoint.enabled is True
    listed = list(bb.webhook_endpoints.list())
    assert [e.id for e in listed] == ["we_1"] and listed[0].secret is None
    assert bb.webhook_endpoints.retrieve("we_1").url == "https://shop.example/hook"
    assert bb.webhook_endpoints.delete("we_1").deleted is True
    assert [c.request.method for c in responses.calls] == ["POST", "GET", "GET", "DELETE"]


def test_results_keep_unknown_fields_and_round_trip():
    product = Product.from_dict({**PRODUCT, "variants": [{"name": "Blue"}], "tax_code": "txr"})
    assert product.extra == {"variants": [{"name": "Blue"}], "tax_code": "txr"}
    assert product.to_dict() == {**PRODUCT, "variants": [{"name": "Blue"}], "tax_code": "txr"}
    copy = product.to_dict()
    copy["variants"].append("x")  # to_dict is a copy: the object stays as it was
    assert product.to_dict()["variants"] == [{"name": "Blue"}]


def test_missing_fields_are_none():
    order = Order.from_dict({"id": "ord_2", "object": "order"})
    assert (order.id, order.status, order.amount) == ("ord_2", None, None)


def test_client_requires_a_base_url_and_a_positive_timeout():
    with pytest.raises(ValueError):
        buybutton_sdk.Client(api_key="bb_sk_x", base_url="buy.example.com")
    with pytest.raises(ValueError):
        buybutton_sdk.Client(api_key="bb_sk_x", base_url="https://buy.test", timeout=0)
    with pytest.raises(ValueError):
        buybutton_sdk.Client(api_key="", base_url="https://buy.test")


@responses.activate
def test_one_session_is_reused_and_a_timeout_is_always_passed(sleeps):
    import requests

    seen = []

    class RecordingSession(requests.Session):
        def request(self, method, url, **kwargs):
            seen.append(kwargs["timeout"])
            return super().request(method, url, **kwargs)

    session = RecordingSession()
    responses.get(f"{BASE}/v1/orders/ord_1", json=ORDER)
    with buybutton_sdk.Client(
        api_key=API_KEY, base_url=BASE + "/", timeout=3.5, session=session
    ) as client:
        client.orders.retrieve("ord_1")
        client.orders.retrieve("ord_1")
    assert seen == [3.5, 3.5]
    assert responses.calls[0].request.url == f"{BASE}/v1/orders/ord_1"


@responses.activate
def test_last_response_tells_request_id_key_and_replay(bb):
    responses.post(
        f"{BASE}/v1/products",
        json=PRODUCT,
        status=201,
        headers={"X-Request-Id": "req_1", "Idempotent-Replayed": "true"},
    )
    product = bb.products.create(name="Mug", amount=1200, currency="eur", idempotency_key="k9")
    response = product.last_response
    assert (response.status, response.request_id, response.idempotency_key) == (201, "req_1", "k9")
    assert response.idempotent_replayed is True
    assert Product.from_dict(PRODUCT).last_response is None
    assert "last_response" not in product.to_dict() and product.extra == {}


@responses.activate
def test_answer_that_is_not_an_object_is_api_error(bb):
    responses.get(f"{BASE}/v1/orders/ord_1", json=[1, 2])
    responses.get(f"{BASE}/v1/orders", json=["not", "a", "list object"])
    with pytest.raises(buybutton_sdk.APIError):
        bb.orders.retrieve("ord_1")
    with pytest.raises(buybutton_sdk.APIError):
        list(bb.orders.list())


@responses.activate
def test_stats_retrieve_and_rankings_follow_the_cursor(bb):
    from buybutton_sdk import Stats

    responses.get(
        f"{BASE}/v1/stats",
        json={
            "object": "stats",
            "from": "2026-12-01",
            "to": None,
            "sort": "orders",
            "totals": {"orders": 3},
            "by_ref": [],
            "by_ref_next": None,
            "by_product": [],
            "by_product_next": None,
        },
        match=[matchers.query_param_matcher({"from": "2026-12-01", "limit": "5"})],
    )
    stats = bb.stats.retrieve(from_=date(2026, 12, 1), limit=5)
    assert isinstance(stats, Stats) and stats.from_ == "2026-12-01" and stats.totals["orders"] == 3
    responses.get(
        f"{BASE}/v1/stats/refs",
        json={
            "object": "list",
            "url": "/v1/stats/refs",
            "data": [{"ref": "a"}],
            "has_more": True,
            "next_cursor": "c1",
        },
        match=[matchers.query_param_matcher({"sort": "clicks"})],
    )
    responses.get(
        f"{BASE}/v1/stats/refs",
        json={
            "object": "list",
            "url": "/v1/stats/refs",
            "data": [{"ref": None}],
            "has_more": False,
            "next_cursor": None,
        },
        match=[matchers.query_param_matcher({"sort": "clicks", "starting_after": "c1"})],
    )
    assert [row["ref"] for row in bb.stats.by_ref(sort="clicks")] == ["a", None]


FILE = {
    "name": "guide.pdf",
    "size": 3,
    "type": "application/pdf",
    "sha256": "0" * 64,
    "uploaded_at": 1_800_000_000,
}


def _multipart(request) -> tuple[str, bytes]:
    """The boundary-free content of a streamed upload: its part headers and its bytes."""
    body = request.body.read() if hasattr(request.body, "read") else request.body
    boundary = request.headers["Content-Type"].split("boundary=", 1)[1].encode()
    assert int(request.headers["Content-Length"]) == len(body)
    part = body.split(b"--" + boundary)[1]
    head, _, data = part.partition(b"\r\n\r\n")
    return head.decode(), data.removesuffix(b"\r\n")


@responses.activate
def test_products_upload_file_streams_a_multipart_part_and_types_the_file(bb, tmp_path):
    seen = []

    def answer(request):
        seen.append(_multipart(request))
        return 200, {}, json.dumps({**PRODUCT, "license_keys": False, "file": FILE})

    responses.add_callback(
        "POST",
        f"{BASE}/v1/products/prod_1/file",
        callback=answer,
        content_type="application/json",
    )
    path = tmp_path / 'Guide "1".pdf'
    path.write_bytes(b"PDF")
    product = bb.products.upload_file("prod_1", path)
    assert isinstance(product.file, buybutton_sdk.ProductFile)
    assert (product.file.name, product.file.size, product.file.type) == (
        "guide.pdf",
        3,
        "application/pdf",
    )
    head, data = seen[0]
    assert 'name="file"; filename="Guide %221%22.pdf"' in head and data == b"PDF"
    assert sent().headers["Idempotency-Key"]


@responses.activate
def test_an_upload_is_sent_again_whole_when_retried(bb, sleeps):
    bodies = []

    def answer(request):
        bodies.append(_multipart(request))
        if len(bodies) == 1:
            return (
                503,
                {},
                json.dumps(
                    {
                        "error": {
                            "type": "api_error",
                            "code": "service_unavailable",
                            "message": "busy",
                            "param": None,
                        }
                    }
                ),
            )
        return 200, {}, json.dumps({**PRODUCT, "file": FILE})

    responses.add_callback(
        "POST",
        f"{BASE}/v1/products/prod_1/file",
        callback=answer,
        content_type="application/json",
    )
    bb.products.upload_file("prod_1", io.BytesIO(b"abc"), filename="a.txt")
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert bodies[1][1] == b"abc"


@responses.activate
def test_licenses_retrieve_gets_the_escaped_key(bb):
    responses.get(
        f"{BASE}/v1/licenses/ABCDE-FGHJK-MNPQR-STVWX-YZ012",
        json={
            "object": "license",
            "key": "ABCDE-FGHJK-MNPQR-STVWX-YZ012",
            "valid": True,
            "status": "paid",
            "order_id": "ord_1",
            "product_id": "prod_1",
            "created_at": 1_800_000_000,
        },
    )
    license = bb.licenses.retrieve("ABCDE-FGHJK-MNPQR-STVWX-YZ012")
    assert isinstance(license, buybutton_sdk.License)
    assert (license.valid, license.order_id) == (True, "ord_1")
    assert "Idempotency-Key" not in sent().headers
