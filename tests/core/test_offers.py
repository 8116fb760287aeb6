"""The typed offer: one verified token and what it offers, with links from the builder given."""

from __future__ import annotations

import dataclasses

import pytest

from buybutton.errors import InvalidToken
from buybutton.money import Money
from buybutton.offers import Offer, issue_offer, load_offer


class PathLinks:
    """Links on a made-up route layout: the core must use whatever the builder says."""

    def share_url(self, token):
        return f"https://s.example/share/{token}"

    def buy_url(self, token):
        return f"https://s.example/checkout/{token}"

    def qr_url(self, token):
        return f"https://s.example/qr/{token}"

    def widget_script_url(self):
        return "https://cdn.example/bb.js"

    def absolute(self, url):
        return "https://s.example" + url if url and url.startswith("/") else url


def test_load_offer_types_the_token_product_merchant_price_and_links(store, signer, make_product):
    product = make_product(image_url="/static/demo/mug.svg", stock=3)
    token = issue_offer(signer, product, links=PathLinks(), ref="poster")["token"]
    with store.read() as conn:
        offer = load_offer(conn, signer, token, PathLinks(), locale="fr_FR")
    assert isinstance(offer, Offer) and offer.product.id == product.id
    assert offer.price == Money(1200, "eur") and offer.ref == "poster"
    assert offer.merchant_name and offer.available and not offer.sold_out
    assert offer.availability.schema_org == "https://schema.org/InStock"
    assert offer.price_formatted == Money(1200, "eur").format("fr_FR")
    assert (offer.image_url, offer.buy_url, offer.share_url) == (
        "https://s.example/static/demo/mug.svg",
        f"https://s.example/checkout/{token}",
        f"https://s.example/share/{token}",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        offer.token = "other"  # type: ignore[misc]


def test_embed_json_keeps_the_widget_card_shape(store, signer, make_product):
    product = make_product(stock=0)
    token = issue_offer(signer, product, links=PathLinks())["token"]
    with store.read() as conn:
        card = load_offer(conn, signer, token, PathLinks()).embed_json()
    assert list(card) == [
        "object",
        "token",
        "product",
        "amount",
        "currency",
        "price_formatted",
        "locale",
        "available",
        "sold_out",
        "stock",
        "max_per_order",
        "ref",
        "buy_url",
    ]
    assert card["product"] == {
        "id": product.id,
        "name": "Mug",
        "description": "",
        "image_url": None,
    }
    assert (card["amount"], card["currency"], card["sold_out"], card["available"]) == (
        1200,
        "eur",
        True,
        False,
    )


def test_issued_offer_links_come_from_the_builder(signer, make_product):
    offer = issue_offer(signer, make_product(), links=PathLinks())
    token = offer["token"]
    assert offer["snippet"] == (
        f'<script async src="https://cdn.example/bb.js"></script>\n'
        f'<buy-button token="{token}"></buy-button>'
    )
    assert (offer["share_url"], offer["buy_url"], offer["qr_url"]) == (
        f"https://s.example/share/{token}",
        f"https://s.example/checkout/{token}",
        f"https://s.example/qr/{token}",
    )


def test_load_offer_refuses_a_forged_token(store, signer):
    with store.read() as conn, pytest.raises(InvalidToken):
        load_offer(conn, signer, "forged", PathLinks())
