"""The shopper's language is kept on the order at checkout (their mail is written in it): the
language the buy page was shown in (the widget's ``lang``, ``?locale=``), else the browser's."""

from __future__ import annotations

import pytest

from buybutton import orders
from tests.support.forms import form_fields


def order_locale(app, order_id: str) -> str | None:
    with app.extensions["buybutton"].store.read() as conn:
        return orders.get_order(conn, order_id).locale


@pytest.mark.parametrize(
    "body, headers, expected",
    [
        ({"locale": "fr"}, {}, "fr"),
        ({"locale": "pt-BR"}, {"Accept-Language": "fr"}, "pt_BR"),
        ({}, {"Accept-Language": "fr-CA,fr;q=0.9"}, "fr_CA"),
        ({"locale": "xx-nonsense"}, {"Accept-Language": "de"}, "de"),
        ({"locale": 42}, {}, "en"),
    ],
)
def test_checkout_keeps_the_shoppers_language_on_the_order(
    app, client, offer, body, headers, expected
):
    _, token = offer()
    response = client.post("/v1/checkout", json={"token": token["token"], **body}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert order_locale(app, response.json["order_id"]) == expected


def test_the_buy_page_posts_the_language_it_was_shown_in(app, client, offer, merchant):
    _, token = offer()
    page = client.get(f"/buy/{token['token']}?locale=fr")
    assert 'data-locale="fr"' in page.get_data(as_text=True)  # what buy.js posts
    fields = form_fields(page.get_data(as_text=True), "checkout")
    assert fields["locale"] == "fr"
    started = client.post(f"/buy/{token['token']}", data=fields)
    assert started.status_code == 303
    with app.extensions["buybutton"].store.read() as conn:
        [order], _ = orders.list_orders(conn, merchant.id)
    assert order.locale == "fr"
