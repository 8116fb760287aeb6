"""The dashboard's Developers page: API keys and webhook endpoints."""

from __future__ import annotations

from bs4 import BeautifulSoup

from buybutton import catalog, merchants, orders, webhooks
from tests.support.dashboard import make_login, post_form


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def test_api_keys_are_listed_by_their_last_four_characters(dashboard, store, login):
    with store.read() as conn:
        [key] = merchants.list_api_keys(conn, login.merchant_id)
    page = soup(dashboard.get("/dashboard/developers"))
    assert page.find("code", string=f"bb_sk_…{key.last4}")
    assert "bb_sk_" not in str(page.find(id="new-key"))  # no key shown on a plain visit


def test_a_new_key_is_shown_once_and_works(dashboard, client, store, login):
    response = post_form(dashboard, "/dashboard/developers/api_keys")
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    secret = soup(response).find(id="new-key")["value"]
    assert secret.startswith("bb_sk_")
    assert (
        client.get("/v1/products", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    again = dashboard.get("/dashboard/developers").get_data(as_text=True)
    assert secret not in again and f"bb_sk_…{secret[-4:]}" in again


def test_a_revoked_key_is_refused_by_the_api(dashboard, client, store, login):
    secret = soup(post_form(dashboard, "/dashboard/developers/api_keys")).find(id="new-key")[
        "value"
    ]
    with store.read() as conn:
        newest = merchants.list_api_keys(conn, login.merchant_id)[0]
    response = post_form(dashboard, f"/dashboard/developers/api_keys/{newest.id}/revoke")
    assert response.status_code == 303
    assert (
        client.get("/v1/products", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )
    assert "Revoked" in dashboard.get("/dashboard/developers").get_data(as_text=True)


def test_another_merchants_key_cannot_be_revoked(dashboard, store):
    other = make_login(store, "Other", "other@shop.test")
    with store.read() as conn:
        [theirs] = merchants.list_api_keys(conn, other.merchant_id)
    assert (
        post_form(dashboard, f"/dashboard/developers/api_keys/{theirs.id}/revoke").status_code
        == 404
    )
    with store.read() as conn:
        assert merchants.list_api_keys(conn, other.merchant_id)[0].revoked_at is None


def test_a_webhook_endpoint_is_created_with_its_secret_shown_once(app, dashboard, store, login):
    app.extensions["buybutton"].settings = app.extensions["buybutton"].settings.with_overrides(
        webhook_allow_private=True
    )
    response = post_form(
        dashboard,
        "/dashboard/developers/webhook_endpoints",
        {"url": "http://127.0.0.1:9/hook", "events": ["order.paid", "order.refunded"]},
    )
    assert response.status_code == 201
    secret = soup(response).find(id="new-secret")["value"]
    assert secret.startswith("whsec_")
    page = dashboard.get("/dashboard/developers").get_data(as_text=True)
    assert "http://127.0.0.1:9/hook" in page and "order.paid, order.refunded" in page
    assert secret not in page


def test_a_bad_endpoint_is_an_error_next_to_the_url_keeping_the_input(dashboard):
    response = post_form(
        dashboard, "/dashboard/developers/webhook_endpoints", {"url": "http://10.0.0.1/x"}
    )
    assert response.status_code == 400
    page = soup(response)
    assert (
        page.find(id="e-url").get_text() and page.find(id="f-url")["value"] == "http://10.0.0.1/x"
    )


def _paid_order(store, merchant_id: str) -> None:
    with store.transaction() as conn:
        product = catalog.create_product(
            conn, merchant_id, {"name": "Mug", "amount": 1200, "currency": "eur"}
        )
        order = orders.create_order(
            conn, catalog.offer_claims(product), 1, provider="sandbox", ttl_seconds=1800
        )
        orders.mark_paid(
            conn, order.id, amount=order.amount, currency=order.currency, payment_id="pay_1"
        )


def test_deliveries_are_listed_and_one_can_be_resent(dashboard, store, login):
    with store.transaction() as conn:
        endpoint = webhooks.create_endpoint(
            conn,
            login.merchant_id,
            {"url": "http://127.0.0.1:9/hook", "events": ["*"]},
            allow_private=True,
        )
    _paid_order(store, login.merchant_id)
    page = soup(dashboard.get("/dashboard/developers"))
    table = page.find(id="deliveries").find_next("table")
    cells = {td["data-label"]: td.get_text(strip=True) for td in table.tbody.tr.find_all("td")}
    assert cells["Event"] == "order.paid" and cells["Status"] == "pending"
    with store.read() as conn:
        [record] = webhooks.recent_deliveries(conn, login.merchant_id)
    response = post_form(dashboard, f"/dashboard/developers/deliveries/{record.id}/resend")
    assert response.status_code == 303
    assert "Delivery queued again." in dashboard.get("/dashboard/developers").get_data(as_text=True)
    # Deleted: its deliveries are canceled and cannot be resent.
    assert (
        post_form(
            dashboard, f"/dashboard/developers/webhook_endpoints/{endpoint.id}/delete"
        ).status_code
        == 303
    )
    post_form(dashboard, f"/dashboard/developers/deliveries/{record.id}/resend")
    page = dashboard.get("/dashboard/developers").get_data(as_text=True)
    assert "cannot be sent again" in page and "No webhook endpoints." in page


def test_another_merchants_endpoint_and_delivery_are_not_found(dashboard, store):
    other = make_login(store, "Other", "other@shop.test")
    with store.transaction() as conn:
        endpoint = webhooks.create_endpoint(
            conn,
            other.merchant_id,
            {"url": "http://127.0.0.1:9/x", "events": ["*"]},
            allow_private=True,
        )
    _paid_order(store, other.merchant_id)
    with store.read() as conn:
        [record] = webhooks.recent_deliveries(conn, other.merchant_id)
    assert (
        post_form(
            dashboard, f"/dashboard/developers/webhook_endpoints/{endpoint.id}/delete"
        ).status_code
        == 404
    )
    assert (
        post_form(dashboard, f"/dashboard/developers/deliveries/{record.id}/resend").status_code
        == 404
    )
    assert "127.0.0.1:9/x" not in dashboard.get("/dashboard/developers").get_data(as_text=True)


def test_every_developers_form_refuses_a_post_without_the_token(dashboard, store, login):
    with store.read() as conn:
        [key] = merchants.list_api_keys(conn, login.merchant_id)
    for path in (
        "/dashboard/developers/api_keys",
        f"/dashboard/developers/api_keys/{key.id}/revoke",
        "/dashboard/developers/webhook_endpoints",
        "/dashboard/developers/webhook_endpoints/we_x/delete",
        "/dashboard/developers/deliveries/1/resend",
    ):
        assert dashboard.post(path, data={"url": "http://127.0.0.1/"}).status_code == 403, path
    with store.read() as conn:
        assert len(merchants.list_api_keys(conn, login.merchant_id)) == 1


def test_the_developers_page_needs_a_sign_in(client):
    assert client.get("/dashboard/developers").status_code == 303
    assert client.post("/dashboard/developers/api_keys").status_code in (303, 403)
