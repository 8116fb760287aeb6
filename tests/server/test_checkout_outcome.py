"""GET /v1/checkouts/<checkout_id>: how the checkout a widget's click opened stands, told in four
words (pending, paid, canceled, expired) and nothing else, whatever path started it."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest

from buybutton_server import create_app
from tests.support.api_errors import assert_error
from tests.support.forms import form_fields, submit_form

PAID_CARD = {"email": "shopper@example.com", "card_number": "4242 4242 4242 4242"}


def new_checkout_id() -> str:
    return secrets.token_hex(16)  # what the widget makes: 16 random bytes in lowercase hex


def outcome(client, checkout_id: str) -> str:
    response = client.get(f"/v1/checkouts/{checkout_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == {"object": "checkout_outcome", "status": response.json["status"]}
    return response.json["status"]


def start(client, token: str, checkout_id: str, key: str | None = None):
    response = client.post(
        "/v1/checkout",
        json={"token": token, "checkout_id": checkout_id},
        headers={"Idempotency-Key": key or secrets.token_urlsafe(16)},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def test_outcome_is_public_never_cached_and_tells_the_status_alone(client, offer):
    _, token = offer()
    checkout_id = new_checkout_id()
    start(client, token["token"], checkout_id)
    response = client.get(f"/v1/checkouts/{checkout_id}")
    assert response.status_code == 200
    assert response.json == {"object": "checkout_outcome", "status": "pending"}  # no more
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers


def test_an_id_no_order_carries_yet_is_pending(client):
    # The buy page may not have started the checkout yet; an id never seen looks the same.
    assert outcome(client, new_checkout_id()) == "pending"


def test_a_paid_checkout_is_paid_and_stays_paid_once_refunded(client, api, offer):
    _, token = offer()
    checkout_id = new_checkout_id()
    started = start(client, token["token"], checkout_id)
    paid = submit_form(
        client,
        started["checkout_url"],
        PAID_CARD,
        form_class="card-form",
    )
    assert paid.status_code == 303
    assert outcome(client, checkout_id) == "paid"
    assert api.post(f"/v1/orders/{started['order_id']}/refund").status_code == 200
    assert outcome(client, checkout_id) == "paid"


def test_a_canceled_checkout_is_canceled_until_try_again_starts_a_new_order(client, offer):
    _, token = offer()
    checkout_id = new_checkout_id()
    started = start(client, token["token"], checkout_id)
    back = submit_form(client, started["checkout_url"], form_class="cancel")
    assert back.status_code == 303
    assert outcome(client, checkout_id) == "canceled"
    again = start(client, token["token"], checkout_id)  # "Try again": the same click, a new order
    assert again["order_id"] != started["order_id"]
    assert outcome(client, checkout_id) == "pending"


def test_a_checkout_past_its_hold_is_expired_before_any_sweep(client, offer, set_clock):
    _, token = offer(hold_seconds=600)
    checkout_id = new_checkout_id()
    set_clock(1_900_000_000)
    start(client, token["token"], checkout_id)
    set_clock(1_900_000_000 + 601)
    assert outcome(client, checkout_id) == "expired"


def test_other_clicks_learn_nothing_of_this_one(client, offer):
    _, token = offer()
    mine, other = new_checkout_id(), new_checkout_id()
    started = start(client, token["token"], mine)
    submit_form(client, started["checkout_url"], form_class="cancel")
    assert (outcome(client, mine), outcome(client, other)) == ("canceled", "pending")


@pytest.mark.parametrize("bad", ["short", "A" * 32, "g" * 32, "0" * 33, "0" * 31, "0" * 31 + "-"])
def test_a_malformed_checkout_id_is_a_400_naming_it(client, bad):
    assert_error(client.get(f"/v1/checkouts/{bad}"), 400, "invalid_request", "checkout_id")


def test_checkout_refuses_a_malformed_checkout_id(client, offer):
    _, token = offer()
    response = client.post("/v1/checkout", json={"token": token["token"], "checkout_id": "x"})
    assert_error(response, 400, "invalid_request", "checkout_id")
    response = client.post("/v1/checkout", json={"token": token["token"], "checkout_id": 7})
    assert_error(response, 400, "invalid_request", "checkout_id")


def test_the_buy_page_carries_the_widgets_checkout_id_through_the_no_script_form(client, offer):
    _, token = offer()
    checkout_id = new_checkout_id()
    page_url = f"/buy/{token['token']}?checkout_id={checkout_id}"
    page = client.get(page_url)
    assert f'data-checkout-id="{checkout_id}"' in page.get_data(as_text=True)
    assert form_fields(page.get_data(as_text=True), "checkout")["checkout_id"] == checkout_id
    started = submit_form(client, page_url, form_class="checkout")
    assert started.status_code == 303
    pay = submit_form(client, started.location, PAID_CARD, form_class="card-form")
    assert pay.status_code == 303
    assert outcome(client, checkout_id) == "paid"


def test_the_buy_page_drops_a_malformed_checkout_id_quietly(client, offer):
    _, token = offer()
    page = client.get(f"/buy/{token['token']}?checkout_id=not-an-id").get_data(as_text=True)
    assert 'data-checkout-id=""' in page
    assert "checkout_id" not in form_fields(page, "checkout")


def test_outcome_is_rate_limited_per_client(settings):
    app = create_app(replace(settings, checkout_outcome_rate_limit="2/minute"))
    client = app.test_client()
    checkout_id = new_checkout_id()
    for _ in range(2):
        assert client.get(f"/v1/checkouts/{checkout_id}").status_code == 200
    assert_error(client.get(f"/v1/checkouts/{checkout_id}"), 429, "rate_limited")
    other = client.get(f"/v1/checkouts/{checkout_id}", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 200  # another shopper is not throttled


def test_the_popups_words_on_the_order_page_follow_the_shoppers_language(client, offer):
    _, token = offer()
    started = start(client, token["token"], new_checkout_id())
    back = submit_form(client, started["checkout_url"], form_class="cancel")
    french = client.get(back.location + "&locale=fr").get_data(as_text=True)
    assert 'data-try-again-label="Réessayer"' in french
    assert 'data-can-close-label="Vous pouvez fermer cette fenêtre."' in french
    english = client.get(back.location + "&locale=en").get_data(as_text=True)
    assert 'data-try-again-label="Try again"' in english
