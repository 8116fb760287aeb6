"""Hoarding limits over HTTP: the product's max per order, the per-client cap on held units (by
the address the server sees after its trusted proxies), and the product fields that set them."""

from dataclasses import replace

import pytest

from buybutton_server import create_app
from tests.support.api_errors import assert_error
from tests.support.forms import submit_form


def checkout(client, token, quantity, **kwargs):
    return client.post("/v1/checkout", json={"token": token, "quantity": quantity}, **kwargs)


@pytest.fixture
def capped_client(settings):
    def make(**changes):
        app = create_app(replace(settings, max_held_units_per_client=10, **changes))
        app.config["TESTING"] = True
        return app.test_client()

    return make


def test_quantity_over_the_product_max_is_400_naming_it(client, offer):
    _, token = offer(stock=100)
    error = assert_error(checkout(client, token["token"], 11), 400, "quantity_over_max", "quantity")
    assert "at most 10" in error["message"]
    _, small = offer(stock=100, max_per_order=3)
    error = assert_error(checkout(client, small["token"], 4), 400, "quantity_over_max", "quantity")
    assert "at most 3" in error["message"]
    assert checkout(client, small["token"], 3).status_code == 201


def test_client_over_the_held_units_cap_is_429(capped_client, api, offer):
    _, token = offer(stock=100)
    client = capped_client()
    assert checkout(client, token["token"], 6).status_code == 201
    error = assert_error(
        checkout(client, token["token"], 6), 429, "too_many_held_units", "quantity"
    )
    assert "at most 10" in error["message"]
    other = checkout(client, token["token"], 6, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 201  # another shopper is not blocked
    orders = api.get("/v1/orders").json["data"]
    assert sorted(o["quantity"] for o in orders) == [6, 6]
    assert all("client_key" not in o for o in orders)  # never shown to anyone


def test_held_units_follow_the_address_behind_trusted_proxies(capped_client, offer):
    _, token = offer(stock=100)
    untrusted = capped_client()
    assert (
        checkout(untrusted, token["token"], 10, headers={"X-Forwarded-For": "1.2.3.4"}).status_code
        == 201
    )
    # Without trusted proxies a forged X-Forwarded-For changes nothing: same socket address.
    assert_error(
        checkout(untrusted, token["token"], 1, headers={"X-Forwarded-For": "1.2.3.5"}),
        429,
        "too_many_held_units",
    )
    proxied = capped_client(trusted_proxies=1)
    for last in range(3):  # one proxy: each forwarded client has its own cap
        assert (
            checkout(
                proxied, token["token"], 10, headers={"X-Forwarded-For": f"5.6.7.{last}"}
            ).status_code
            == 201
        )
    assert_error(
        checkout(proxied, token["token"], 1, headers={"X-Forwarded-For": "5.6.7.0"}),
        429,
        "too_many_held_units",
    )


def test_products_api_sets_and_validates_the_limits(api):
    created = api.post("/v1/products", json={"name": "Mug", "amount": 1200, "currency": "eur"}).json
    assert (created["max_per_order"], created["hold_seconds"]) == (10, None)
    changed = api.patch(
        f"/v1/products/{created['id']}", json={"max_per_order": 2, "hold_seconds": 600}
    ).json
    assert (changed["max_per_order"], changed["hold_seconds"]) == (2, 600)
    assert api.get(f"/v1/products/{created['id']}").json["hold_seconds"] == 600
    assert_error(
        api.post(
            "/v1/products",
            json={"name": "Mug", "amount": 1200, "currency": "eur", "max_per_order": 0},
        ),
        400,
        "invalid_request",
        "max_per_order",
    )
    assert_error(
        api.patch(f"/v1/products/{created['id']}", json={"hold_seconds": 60}),
        400,
        "invalid_request",
        "hold_seconds",
    )


def test_order_holds_stock_for_the_product_hold(client, api, offer):
    _, token = offer(stock=5, hold_seconds=300)
    order = api.get(f"/v1/orders/{checkout(client, token['token'], 1).json['order_id']}").json
    assert order["expires_at"] - order["created_at"] == 300


def test_buy_page_quantity_follows_the_product_max(client, offer):
    _, token = offer(stock=100, max_per_order=4)
    card = client.get(f"/v1/embed/{token['token']}").json
    assert card["max_per_order"] == 4
    assert client.get(f"/buy/{token['token']}?quantity=4").status_code == 200
    page = client.get(f"/buy/{token['token']}?quantity=5")
    assert page.status_code == 400 and "at most 4" in page.get_data(as_text=True)
    no_script = submit_form(
        client, f"/buy/{token['token']}?quantity=4", {"quantity": "5"}, form_class="checkout"
    )
    assert no_script.status_code == 400 and "at most 4" in no_script.get_data(as_text=True)
