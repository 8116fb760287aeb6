"""The demo shop ``buybutton demo`` seeds and serves: this module owns its state file.

``BUYBUTTON_HOME/demo.json`` (0600) holds ``{"merchant_id", "api_key", "product_ids"}``:
:func:`seed_demo` writes it once (later runs reuse the merchant and its products), and
``GET /demo`` reads it to show the products, each with a buy button.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from buybutton import catalog, merchants
from buybutton.config import Settings
from buybutton.offers import OfferLinks, issue_offer
from buybutton.store import Store
from buybutton.tokens import TokenSigner

from ..links import request_links
from ..offers import shopper_locale
from ..runtime import runtime

bp = Blueprint("demo", __name__)

STATE_FILE = "demo.json"
# The demo's physical goods ship to a few countries, by post or express.
DEMO_SHIPPING = {
    "countries": ["FR", "BE", "DE", "ES", "IT", "NL", "CH", "GB", "US", "CA"],
    "rates": [
        {
            "id": "standard",
            "name": "Standard post",
            "amount": 490,
            "delivery_estimate": {"min_days": 3, "max_days": 5},
        },
        {
            "id": "express",
            "name": "Express",
            "amount": 1290,
            "delivery_estimate": {"min_days": 1, "max_days": 2},
        },
    ],
}
# Where its "new order" mail goes (.eml files under the home folder unless SMTP is set), the
# address shoppers write to, and its returns.
DEMO_MERCHANT_SETTINGS = {
    "email": "owner@demo-shop.example",
    "support_email": "help@demo-shop.example",
    "return_policy": {"days": 30, "text": "Return unused items within 30 days for a refund."},
}
DEMO_PRODUCTS = [
    {
        "name": "Ceramic mug",
        "description": "A 350 ml stoneware mug, glazed by hand.",
        "image_url": "/static/demo/mug.svg",
        "amount": 1200,
        "currency": "eur",
        "stock": 25,
        "in_feed": True,
        "sku": "MUG-350",
        "shipping": DEMO_SHIPPING,
    },
    {
        "name": "Canvas tote bag",
        "description": "Heavy organic cotton, printed in Lyon.",
        "image_url": "/static/demo/tote.svg",
        "amount": 1900,
        "currency": "eur",
        "stock": None,
        "in_feed": True,
        "sku": "TOTE-ORG",
        "shipping": DEMO_SHIPPING,
    },
    {
        "name": "Enamel pin",
        "description": "A limited run of 10, numbered.",
        "image_url": "/static/demo/pin.svg",
        "amount": 800,
        "currency": "eur",
        "stock": 10,
        "in_feed": True,
    },
]


def _state_file(home: Path) -> Path:
    return home / STATE_FILE


def read_state(home: Path) -> dict[str, Any] | None:
    """The demo's state in ``home``, or ``None`` before the first :func:`seed_demo`."""
    path = _state_file(home)
    return json.loads(path.read_text()) if path.exists() else None


def seed_demo(store: Store, settings: Settings, links: OfferLinks) -> dict[str, Any]:
    """Create (once) the demo merchant and its three products in ``store`` (migrated); later runs
    reuse them. Returns the merchant id and key and an offer (links by ``links``) per product."""
    state = read_state(settings.home)
    with store.transaction() as conn:
        if state is None or merchants.get_merchant(conn, state["merchant_id"]) is None:
            merchant, api_key = merchants.create_merchant(conn, "Demo Shop")
            merchants.update_merchant(conn, merchant.id, DEMO_MERCHANT_SETTINGS)
            product_ids = [catalog.create_product(conn, merchant.id, p).id for p in DEMO_PRODUCTS]
            state = {"merchant_id": merchant.id, "api_key": api_key, "product_ids": product_ids}
            fd = os.open(_state_file(settings.home), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(state, f)
        products = [catalog.get_product(conn, pid) for pid in state["product_ids"]]
    signer = TokenSigner(settings.secret_keys)
    state["offers"] = [issue_offer(signer, p, links=links, ref="demo") for p in products]
    return state


@bp.get("/demo")
def demo_shop() -> ResponseReturnValue:
    """The storefront ``buybutton demo`` seeds: its products, each with a buy button."""
    rt = runtime()
    state = read_state(rt.settings.home)
    if state is None:
        abort(404, "No demo shop here: run 'buybutton demo' to seed one.")
    locale, links = shopper_locale(), request_links()
    items = []
    with rt.store.read() as conn:
        for product_id in state["product_ids"]:
            product = catalog.get_product(conn, product_id, include_deleted=True)
            if not product.active or product.deleted_at is not None:
                continue
            offer = issue_offer(rt.signer, product, links=links, ref="demo")
            items.append(
                {
                    "product": product,
                    "offer": offer,
                    "image_url": links.absolute(product.image_url),
                    "price": product.price.format(locale),
                }
            )
    return render_template("demo/demo.html", items=items, widget_url=links.pinned_widget_url())
