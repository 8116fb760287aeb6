"""The demo shop ``buybutton demo`` seeds and serves: this module owns its state file.

``BUYBUTTON_HOME/demo.json`` (0600) holds ``{"merchant_id", "api_key", "product_ids",
"dashboard_email", "dashboard_password"}``: :func:`seed_demo` writes it once (later runs reuse
the merchant, its dashboard sign-in and its products), and ``GET /demo`` reads it to show the
products, each with a buy button.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from flask import Blueprint, abort, render_template

from buybutton import accounts, catalog, merchants
from buybutton.config import Settings
from buybutton.offers import OfferLinks, issue_offer
from buybutton.store import Store
from buybutton.tokens import TokenSigner

from ..links import request_links
from ..offers import shopper_locale
from ..runtime import runtime

bp = Blueprint("demo", __name__)

STATE_FILE = "demo.json"
#: The demo merchant's dashboard sign-in (its password is random, kept in the state file).
DEMO_EMAIL = "demo@example.com"
DEMO_PRODUCTS = [
    {
        "name": "Ceramic mug",
        "description": "A 350 ml stoneware mug, glazed by hand.",
        "image_url": "/static/demo/mug.svg",
        "amount": 1200,
        "currency": "eur",
        "stock": 25,
        "in_feed": True,
    },
    {
        "name": "Canvas tote bag",
        "description": "Heavy organic cotton, printed in Lyon.",
        "image_url": "/static/demo/tote.svg",
        "amount": 1900,
        "currency": "eur",
        "stock": None,
        "in_feed": True,
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


def read_state(home: Path) -> dict | None:
    """The demo's state in ``home``, or ``None`` before the first :func:`seed_demo`."""
    path = _state_file(home)
    return json.loads(path.read_text()) if path.exists() else None


def _write_state(home: Path, state: dict) -> None:
    fd = os.open(_state_file(home), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f)


def seed_demo(store: Store, settings: Settings, links: OfferLinks) -> dict:
    """Create (once) the demo merchant and its three products in ``store`` (migrated); later runs
    reuse them. Returns the merchant id and key and an offer (links by ``links``) per product."""
    state = read_state(settings.home)
    with store.transaction() as conn:
        if state is None or merchants.get_merchant(conn, state["merchant_id"]) is None:
            merchant, api_key = merchants.create_merchant(conn, "Demo Shop")
            product_ids = [catalog.create_product(conn, merchant.id, p).id for p in DEMO_PRODUCTS]
            state = {"merchant_id": merchant.id, "api_key": api_key, "product_ids": product_ids}
        if "dashboard_email" not in state or accounts.find_account(conn, DEMO_EMAIL) is None:
            # A demo seeded before the dashboard existed gets its sign-in now.
            password = secrets.token_urlsafe(12)
            if accounts.find_account(conn, DEMO_EMAIL) is None:
                accounts.create_account(conn, state["merchant_id"], DEMO_EMAIL, password)
            else:
                accounts.set_password(conn, DEMO_EMAIL, password)
            state = {**state, "dashboard_email": DEMO_EMAIL, "dashboard_password": password}
            _write_state(settings.home, state)
        products = [catalog.get_product(conn, pid) for pid in state["product_ids"]]
    signer = TokenSigner(settings.secret_keys)
    state["offers"] = [issue_offer(signer, p, links=links, ref="demo") for p in products]
    return state


@bp.get("/demo")
def demo_shop():
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
