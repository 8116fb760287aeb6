"""The SDK against the real server on 127.0.0.1 (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from buybutton import digital
from buybutton_sdk import (
    AuthenticationError,
    Client,
    ConflictError,
    InvalidRequestError,
    Merchant,
    NotFoundError,
)
from tests.support.forms import submit_form

EXAMPLE = Path(__file__).resolve().parents[2] / "sdk" / "examples" / "post_product.py"


def buy(token: str, card: str = "4242 4242 4242 4242", expect: int = 303) -> str:
    """Buy through the sandbox as a shopper's browser does; returns the order id."""
    base = token_base[0]
    started = requests.post(f"{base}/v1/checkout", json={"token": token}, timeout=10)
    assert started.status_code == 201, started.text
    paid = submit_form(
        requests.Session(),
        started.json()["checkout_url"],
        {"email": "shopper@example.com", "card_number": card},
        form_class="card-form",
        allow_redirects=False,
        timeout=10,
    )
    assert paid.status_code == expect, paid.text
    return started.json()["order_id"]


token_base: list = []


@pytest.fixture(autouse=True)
def _base(live_server):
    token_base[:] = [live_server]


def test_product_token_purchase_and_refund_through_the_sdk(live_client, live_server):
    bb = live_client
    product = bb.products.create(name="Mug", amount=1200, currency="eur", stock=5)
    token = bb.tokens.create(product.id, ref="insta-post-42", expires_in=7 * 86400)
    assert token.share_url == f"{live_server}/p/{token.token}"
    assert requests.get(token.buy_url, timeout=10).status_code == 200
    assert requests.get(token.share_url, timeout=10).status_code == 200
    assert (
        requests.get(token.qr_url, timeout=10).headers["Content-Type"].startswith("image/svg+xml")
    )

    order_id = buy(token.token)

    order = bb.orders.retrieve(order_id)
    assert (order.status, order.amount, order.amount_paid, order.ref) == (
        "paid",
        1200,
        1200,
        "insta-post-42",
    )
    assert [o.id for o in bb.orders.list(status="paid", ref="insta-post-42")] == [order_id]
    assert bb.products.retrieve(product.id).stock == 4
    refunded = bb.orders.refund(order_id)
    assert refunded.status == "refunded"
    assert bb.orders.refund(order_id).status == "refunded"  # refunding again changes nothing
    assert list(bb.orders.list(status="paid")) == []


def test_idempotent_replay_through_the_sdk(live_client):
    bb = live_client
    first = bb.products.create(name="Mug", amount=1200, currency="eur", idempotency_key="k-1")
    again = bb.products.create(name="Mug", amount=1200, currency="eur", idempotency_key="k-1")
    assert again.to_dict() == first.to_dict()
    assert (first.last_response.idempotent_replayed, again.last_response.idempotent_replayed) == (
        False,
        True,
    )
    assert [p.id for p in bb.products.list()] == [first.id]
    with pytest.raises(ConflictError) as caught:
        bb.products.create(name="Cup", amount=900, currency="eur", idempotency_key="k-1")
    assert caught.value.code == "idempotency_key_reused"
    assert caught.value.request_id.startswith("req_")


def test_retry_after_a_lost_response_does_not_duplicate(live_server, merchant):
    class LosingSession(requests.Session):
        """Delivers the first request to the server, then loses its answer."""

        lost = False

        def request(self, method, url, **kwargs):
            response = super().request(method, url, **kwargs)
            if not self.lost:
                self.lost = True
                raise requests.ConnectionError("connection reset after sending")
            return response

    sleeps = []
    with Client(
        api_key=merchant.api_key,
        base_url=live_server,
        max_retries=2,
        session=LosingSession(),
        sleep=sleeps.append,
    ) as bb:
        product = bb.products.create(name="Mug", amount=1200, currency="eur")
        assert product.last_response.idempotent_replayed  # the server ran it once, replayed it
        assert [p.id for p in bb.products.list()] == [product.id]
    assert len(sleeps) == 1


def test_server_errors_map_to_sdk_errors(live_client, live_server):
    with pytest.raises(NotFoundError) as missing:
        live_client.products.retrieve("prod_doesnotexist")
    assert missing.value.code == "product_not_found"
    assert missing.value.request_id.startswith("req_")
    with pytest.raises(InvalidRequestError) as invalid:
        live_client.products.create(name="Mug", amount=1200, currency="zzz")
    assert invalid.value.param == "currency" and invalid.value.http_status == 400
    with pytest.raises(AuthenticationError):
        Client(api_key="bb_sk_wrong", base_url=live_server, max_retries=0).orders.retrieve("x")
    product = live_client.products.create(name="Mug", amount=1200, currency="eur")
    order_id = buy(
        live_client.tokens.create(product.id).token, card="4000 0000 0000 0002", expect=402
    )
    with pytest.raises(ConflictError) as not_paid:
        live_client.orders.refund(order_id)
    assert not_paid.value.code == "order_not_refundable"


def test_lists_paginate_against_the_server(live_client):
    created = [
        live_client.products.create(name=f"P{i}", amount=100 + i, currency="eur").id
        for i in range(5)
    ]
    live_client.products.update(created[0], active=False)
    assert [p.id for p in live_client.products.list(limit=2)] == created[::-1]
    assert [p.id for p in live_client.products.list(limit=2, active=True)] == created[:0:-1]


def test_update_delete_and_revoke_through_the_sdk(live_client):
    product = live_client.products.create(name="Mug", amount=1200, currency="eur", stock=3)
    updated = live_client.products.update(product.id, stock=None, amount=1500)
    assert (updated.stock, updated.amount, updated.token_generation) == (None, 1500, 2)
    assert (
        product.in_feed is False and live_client.products.update(product.id, in_feed=True).in_feed
    )
    assert live_client.products.revoke_tokens(product.id).token_generation == 3
    assert live_client.products.delete(product.id).deleted is True
    with pytest.raises(NotFoundError):
        live_client.products.retrieve(product.id)


def test_example_script_posts_a_product(live_server, merchant, live_client):
    env = {**os.environ, "BUYBUTTON_API_KEY": merchant.api_key, "BUYBUTTON_URL": live_server}
    command = [
        sys.executable,
        str(EXAMPLE),
        "--name",
        "Blue mug",
        "--amount",
        "1200",
        "--currency",
        "eur",
        "--ref",
        "insta-post-42",
        "--stock",
        "10",
    ]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    caption = first.stdout.splitlines()[0]
    assert caption.startswith(
        f"New in the shop: Blue mug! Tap to buy in one click: {live_server}/p/"
    )
    token = caption.rsplit("/p/", 1)[1]
    assert requests.get(f"{live_server}/buy/{token}", timeout=10).status_code == 200
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout == first.stdout  # same post, same product
    products = list(live_client.products.list())
    assert [(p.name, p.stock) for p in products] == [("Blue mug", 10)]


def test_hoarding_limits_through_the_sdk(live_client):
    product = live_client.products.create(
        name="Mug", amount=1200, currency="eur", stock=30, max_per_order=3, hold_seconds=600
    )
    assert (product.max_per_order, product.hold_seconds) == (3, 600)
    changed = live_client.products.update(product.id, max_per_order=5, hold_seconds=None)
    assert (changed.max_per_order, changed.hold_seconds) == (5, None)
    assert changed.extra == {}


def test_merchant_allowed_origins_through_the_sdk(live_client):
    bb = live_client
    assert bb.merchant.retrieve().allowed_origins == []
    updated = bb.merchant.update(allowed_origins=["https://Shop.example", "http://localhost:8000/"])
    assert isinstance(updated, Merchant) and updated.object == "merchant"
    assert updated.allowed_origins == ["https://shop.example", "http://localhost:8000"]
    with pytest.raises(InvalidRequestError) as caught:
        bb.merchant.update(allowed_origins=["https://shop.example/blog"])
    assert caught.value.param == "allowed_origins"
    assert bb.merchant.retrieve().allowed_origins == updated.allowed_origins


def test_a_digital_product_with_a_licence_key_through_the_sdk(live_client, tmp_path, store):
    bb = live_client
    product = bb.products.create(name="Field guide", amount=900, currency="eur", license_keys=True)
    assert product.license_keys is True and product.file is None
    guide = tmp_path / "Guide d'été.pdf"
    guide.write_bytes(b"%PDF-1.7\n" + b"x" * 300_000 + b"\n%%EOF\n")
    uploaded = bb.products.upload_file(product.id, guide)
    assert uploaded.file.name == "Guide d'été.pdf" and uploaded.file.size == guide.stat().st_size
    assert uploaded.file.type == "application/pdf"
    with open(guide, "rb") as stream:  # an open file, under another name
        again = bb.products.upload_file(product.id, stream, filename="guide.pdf")
    assert again.file.name == "guide.pdf" and again.file.sha256 == uploaded.file.sha256
    assert bb.products.retrieve(product.id).file == again.file

    token = bb.tokens.create(product.id)
    order_id = buy(token.token)
    with store.read() as conn:
        key = digital.get_entitlement(conn, order_id).license_key
    license = bb.licenses.retrieve(key.lower())
    assert (license.key, license.valid, license.status, license.order_id) == (
        key,
        True,
        "paid",
        order_id,
    )
    bb.orders.refund(order_id)
    assert bb.licenses.retrieve(key).valid is False
    with pytest.raises(NotFoundError) as missing:
        bb.licenses.retrieve("ABCDE-FGHJK-MNPQR-STVWX-YZ012")
    assert missing.value.code == "license_not_found"
    assert bb.products.delete_file(product.id).file is None
    with pytest.raises(NotFoundError):
        bb.products.delete_file(product.id)


def test_an_oversize_upload_through_the_sdk_is_a_413_invalid_request(
    live_client, live_app, tmp_path
):
    live_app.extensions["buybutton"].settings = replace(
        live_app.extensions["buybutton"].settings, max_upload_bytes=2048
    )
    product = live_client.products.create(name="Big", amount=900, currency="eur")
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * 4096)
    with pytest.raises(InvalidRequestError) as refused:
        live_client.products.upload_file(product.id, big)
    assert (refused.value.http_status, refused.value.code, refused.value.param) == (
        413,
        "file_too_large",
        "file",
    )
    assert live_client.products.retrieve(product.id).file is None
