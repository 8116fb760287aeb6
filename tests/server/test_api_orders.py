from tests.support.accounts import create_account
from tests.support.api_errors import assert_error
from tests.support.forms import submit_form


def buy(client, token, card="4242 4242 4242 4242"):
    started = client.post("/v1/checkout", json={"token": token}).json
    submit_form(
        client,
        started["checkout_url"],
        {"email": "shopper@example.com", "card_number": card},
        form_class="card-form",
    )
    return started["order_id"]


def test_orders_are_listed_and_filtered(client, api, offer):
    _, insta = offer(ref="insta")
    _, tiktok = offer(ref="tiktok")
    paid = buy(client, insta["token"])
    pending = client.post("/v1/checkout", json={"token": tiktok["token"]}).json["order_id"]
    assert [o["id"] for o in api.get("/v1/orders").json["data"]] == [pending, paid]
    assert [o["id"] for o in api.get("/v1/orders?status=paid").json["data"]] == [paid]
    assert [o["id"] for o in api.get("/v1/orders?ref=tiktok").json["data"]] == [pending]
    assert_error(api.get("/v1/orders?status=shipped"), 400, "invalid_request", "status")


def test_order_shows_what_was_paid(client, api, offer):
    _, token = offer()
    order = api.get(f"/v1/orders/{buy(client, token['token'])}").json
    assert order["object"] == "order"
    assert (order["status"], order["amount"], order["amount_paid"], order["currency"]) == (
        "paid",
        1200,
        1200,
        "eur",
    )
    assert order["paid_at"] and order["payment_id"].startswith("pi_sbx_")
    assert "checkout_url" not in order and "provider_session_id" not in order


def test_refund_a_paid_order(client, api, offer):
    _, token = offer()
    order_id = buy(client, token["token"])
    refunded = api.post(f"/v1/orders/{order_id}/refund")
    assert refunded.status_code == 200 and refunded.json["status"] == "refunded"
    assert api.post(f"/v1/orders/{order_id}/refund").json["status"] == "refunded"  # idempotent


def test_refund_of_an_unpaid_order_is_409(client, api, offer):
    _, token = offer()
    order_id = client.post("/v1/checkout", json={"token": token["token"]}).json["order_id"]
    assert_error(api.post(f"/v1/orders/{order_id}/refund"), 409, "order_not_refundable")


def test_unknown_order_is_404(api):
    assert_error(api.get("/v1/orders/ord_nope"), 404, "order_not_found")
    assert_error(api.post("/v1/orders/ord_nope/refund"), 404, "order_not_found")


def test_orders_of_other_merchants_are_not_found(client, api, offer, store):
    _, token = offer()
    order_id = buy(client, token["token"])
    other = create_account(store, "Other")
    assert_error(
        client.get(f"/v1/orders/{order_id}", headers=other.headers), 404, "order_not_found"
    )


def test_orders_are_filtered_by_creation_time(client, api, offer):
    _, token = offer()
    order_id = client.post("/v1/checkout", json={"token": token["token"]}).json["order_id"]
    created = api.get(f"/v1/orders/{order_id}").json["created_at"]
    ids = lambda query: [o["id"] for o in api.get(f"/v1/orders?{query}").json["data"]]  # noqa: E731
    assert ids(f"created[gte]={created}") == [order_id]
    assert ids(f"created[gte]={created + 1}") == []
    assert ids(f"created[lt]={created + 1}&created[gte]={created}") == [order_id]
    assert ids(f"created[lt]={created}") == []
    assert_error(
        api.get("/v1/orders?created[gte]=yesterday"), 400, "invalid_request", "created[gte]"
    )
