import pytest

from tests.support.accounts import create_account
from tests.support.api_errors import assert_error


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer bb_sk_wrong"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
    ],
)
def test_merchant_api_requires_a_valid_key(client, headers):
    error = assert_error(client.get("/v1/products", headers=headers), 401, "invalid_api_key")
    assert error["type"] == "authentication_error"


def test_create_and_retrieve_a_product(api):
    created = api.post(
        "/v1/products",
        json={"name": "Mug", "amount": 1200, "currency": "EUR", "stock": 5, "description": "Blue"},
    )
    assert created.status_code == 201
    body = created.json
    assert (body["object"], body["currency"], body["stock"], body["active"]) == (
        "product",
        "eur",
        5,
        True,
    )
    assert api.get(f"/v1/products/{body['id']}").json == body


@pytest.mark.parametrize(
    "payload, param",
    [
        ({"amount": 1200, "currency": "eur"}, "name"),
        ({"name": "Mug", "amount": "12.00", "currency": "eur"}, "amount"),
        ({"name": "Mug", "amount": 12.5, "currency": "eur"}, "amount"),
        ({"name": "Mug", "amount": -1200, "currency": "eur"}, "amount"),
        ({"name": "Mug", "amount": 10**40, "currency": "eur"}, "amount"),
        ({"name": "Mug", "amount": 1200, "currency": "bitcoin"}, "currency"),
        ({"name": "Mug", "amount": 1200, "currency": "eur", "stock": -3}, "stock"),
        ({"name": ["Mug"], "amount": 1200, "currency": "eur"}, "name"),
        ({"name": "Mug", "amount": 1200, "currency": "eur", "in_feed": "yes"}, "in_feed"),
        ({"name": "Mug", "amount": 1200, "currency": "eur", "price": 5}, "price"),
    ],
)
def test_create_product_validation_errors_name_the_field(api, payload, param):
    code = {"currency": "invalid_currency", "amount": "invalid_amount"}.get(
        param, "invalid_request"
    )
    assert_error(api.post("/v1/products", json=payload), 400, code, param)


@pytest.mark.parametrize(
    "data, content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
        ("name=Mug", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_bodies_are_400_not_500(api, data, content_type):
    assert_error(
        api.post("/v1/products", data=data, content_type=content_type), 400, "invalid_json"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/v1/products/prod_%00",
        "/v1/orders/ord_%00",
        "/v1/webhook_endpoints/we_%00",
        "/v1/products?starting_after=prod_%00",
        "/v1/orders?ref=%00",
        "/v1/orders?product_id=%00",
    ],
)
def test_nul_in_url_is_400_not_500(api, path):
    # PostgreSQL text cannot hold NUL: without the check these reach a query and fail there.
    assert_error(api.get(path), 400, "invalid_request")


@pytest.mark.parametrize(
    "payload, param",
    [
        ({"name": "Mug\x00", "amount": 1200, "currency": "eur"}, "name"),
        (
            {"name": "Mug", "description": "Blue\x00", "amount": 1200, "currency": "eur"},
            "description",
        ),
    ],
)
def test_nul_in_json_body_is_400_naming_the_field(api, payload, param):
    assert_error(api.post("/v1/products", json=payload), 400, "invalid_request", param)
    assert api.get("/v1/products").json["data"] == []


@pytest.mark.parametrize(
    "body, param",
    [
        ('{"name": "Mug\\ud800", "amount": 1200, "currency": "eur"}', "name"),
        (
            '{"name": "Mug", "description": "\\udfff", "amount": 1200, "currency": "eur"}',
            "description",
        ),
        ('{"name": "Mug", "amount": 1200, "currency": "eur", "\\ud83d": 1}', ""),
        ('{"name": "Mug", "amount": 1200, "currency": "eur", "x": [{"y": ["\\udc00"]}]}', "x"),
    ],
)
def test_lone_surrogate_in_json_body_is_400_naming_the_field(api, body, param):
    # JSON can spell a lone UTF-16 surrogate; UTF-8 cannot encode it, so no database stores it.
    response = api.post("/v1/products", data=body, content_type="application/json")
    assert_error(response, 400, "invalid_request", param)
    assert api.get("/v1/products").json["data"] == []


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/checkout", '{"token": "\\ud800"}'),
        ("/v1/events", '{"type": "click", "token": "\\ud800"}'),
        ("/v1/webhook_endpoints", '{"url": "https://hooks.example.com/\\ud800", "events": ["*"]}'),
    ],
)
def test_lone_surrogate_in_any_json_endpoint_is_400(api, path, body):
    assert_error(api.post(path, data=body, content_type="application/json"), 400, "invalid_request")


@pytest.mark.parametrize("depth", [500, 100_000])
def test_deeply_nested_bodies_are_400_not_500(api, depth):
    # 100 000 deep is past the JSON parser's recursion limit; 500 deep parses, and the checks
    # that walk the body must not recurse into it either.
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    response = api.post("/v1/products", data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    assert set(response.json["error"]) == {"type", "code", "message", "param"}


def test_oversized_body_is_413(api):
    assert_error(
        api.post("/v1/products", data="x" * (1024 * 1024 + 10), content_type="application/json"),
        413,
        "request_too_large",
    )


def test_products_stay_out_of_the_catalog_feed_until_opted_in(api, merchant):
    created = api.post("/v1/products", json={"name": "Mug", "amount": 1200, "currency": "eur"}).json
    assert created["in_feed"] is False
    assert created["id"] not in api.get(f"/v1/feeds/{merchant.id}.csv").get_data(as_text=True)
    listed = api.post(
        "/v1/products", json={"name": "Tote", "amount": 1900, "currency": "eur", "in_feed": True}
    ).json
    assert listed["in_feed"] is True
    opted = api.patch(f"/v1/products/{created['id']}", json={"in_feed": True})
    assert opted.status_code == 200 and opted.json["in_feed"] is True
    feed = api.get(f"/v1/feeds/{merchant.id}.csv").get_data(as_text=True)
    assert created["id"] in feed and listed["id"] in feed
    assert (
        api.patch(f"/v1/products/{listed['id']}", json={"in_feed": False}).json["in_feed"] is False
    )
    assert listed["id"] not in api.get(f"/v1/feeds/{merchant.id}.csv").get_data(as_text=True)


def test_update_product_changes_fields(api, offer):
    product, _ = offer()
    updated = api.patch(f"/v1/products/{product['id']}", json={"name": "Big mug", "stock": None})
    assert updated.status_code == 200
    assert (updated.json["name"], updated.json["stock"]) == ("Big mug", None)
    assert_error(
        api.patch(f"/v1/products/{product['id']}", json={"amount": 0}),
        400,
        "invalid_amount",
        "amount",
    )


def test_products_of_other_merchants_are_not_found(api, client, store):
    other = create_account(store, "Other")
    theirs = client.post(
        "/v1/products", headers=other.headers, json={"name": "X", "amount": 100, "currency": "usd"}
    ).json
    for method in ("get", "patch", "delete"):
        assert_error(
            getattr(api, method)(f"/v1/products/{theirs['id']}", json={}), 404, "product_not_found"
        )


def test_delete_product_hides_it_and_stops_its_tokens(api, client, offer):
    product, token = offer()
    deleted = api.delete(f"/v1/products/{product['id']}")
    assert deleted.json == {"id": product["id"], "object": "product", "deleted": True}
    assert_error(api.get(f"/v1/products/{product['id']}"), 404, "product_not_found")
    assert_error(client.get(f"/v1/embed/{token['token']}"), 410, "product_unavailable")


def test_list_products_paginates_and_filters(api):
    ids = [
        api.post(
            "/v1/products",
            json={"name": f"P{i}", "amount": 100, "currency": "eur", "active": i % 2 == 0},
        ).json["id"]
        for i in range(5)
    ]
    page = api.get("/v1/products?limit=2").json
    assert (page["object"], page["has_more"], [p["id"] for p in page["data"]]) == (
        "list",
        True,
        ids[::-1][:2],
    )
    rest = api.get(f"/v1/products?limit=10&starting_after={page['data'][-1]['id']}").json
    assert [p["id"] for p in rest["data"]] == ids[::-1][2:] and rest["has_more"] is False
    active = api.get("/v1/products?active=true").json["data"]
    assert sorted(p["name"] for p in active) == ["P0", "P2", "P4"]


@pytest.mark.parametrize(
    "query, param",
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("active=maybe", "active"),
    ],
)
def test_list_parameters_are_validated(api, query, param):
    assert_error(api.get(f"/v1/products?{query}"), 400, "invalid_request", param)


def test_token_response_has_everything_to_paste(api, offer):
    product, token = offer(ref="insta-42")
    assert token["object"] == "token" and token["ref"] == "insta-42"
    assert (token["amount"], token["currency"], token["product_id"]) == (1200, "eur", product["id"])
    assert token["snippet"] == (
        '<script async src="http://shop.test/widget.js"></script>\n'
        f'<buy-button token="{token["token"]}"></buy-button>'
    )
    assert token["share_url"] == f"http://shop.test/p/{token['token']}"
    assert token["buy_url"] == f"http://shop.test/buy/{token['token']}"
    assert token["qr_url"] == f"http://shop.test/p/{token['token']}/qr.svg"


def test_token_with_expiry(api, offer):
    product, _ = offer()
    token = api.post(f"/v1/products/{product['id']}/tokens", json={"expires_in": 3600}).json
    assert token["expires_at"] > 0


@pytest.mark.parametrize(
    "body, param",
    [
        ({"expires_in": 5}, "expires_in"),
        ({"expires_in": "1h"}, "expires_in"),
        ({"expires_at": 1}, "expires_at"),
        ({"expires_in": 3600, "expires_at": 2**40}, "expires_in"),
        ({"ref": "x" * 65}, "ref"),
        ({"ref": 7}, "ref"),
    ],
)
def test_token_options_are_validated(api, offer, body, param):
    product, _ = offer()
    assert_error(
        api.post(f"/v1/products/{product['id']}/tokens", json=body), 400, "invalid_request", param
    )


def test_inactive_product_cannot_be_offered(api, offer):
    product, _ = offer(active=False)
    assert_error(
        api.post(f"/v1/products/{product['id']}/tokens", json={}), 410, "product_unavailable"
    )


def test_revoke_tokens_stops_old_links(api, client, offer):
    product, token = offer()
    assert api.post(f"/v1/products/{product['id']}/revoke_tokens").json["token_generation"] == 2
    assert_error(client.get(f"/v1/embed/{token['token']}"), 410, "token_revoked")


def test_unknown_api_route_is_json_404(api):
    assert_error(api.get("/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_json_405(client):
    response = client.get("/v1/checkout")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
