"""The Python examples of docs/sdk.md run as written against a live server."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_post_a_product_example_runs(live_server, merchant, capsys):
    create, follow = python_blocks()[0], python_blocks()[1]
    assert 'api_key="bb_sk_…"' in create and 'base_url="https://buy.example.com"' in create
    code = create.replace('api_key="bb_sk_…"', f'api_key="{merchant.api_key}"').replace(
        'base_url="https://buy.example.com"', f'base_url="{live_server}"'
    )
    scope: dict = {}
    exec(compile(code, str(DOC), "exec"), scope)
    printed = capsys.readouterr().out
    assert printed.startswith(
        f"New in the shop: Blue mug! Tap to buy in one click: {live_server}/p/"
    )
    bb, product, token = scope["bb"], scope["product"], scope["token"]
    assert (product.amount, product.stock, token.ref) == (1200, 50, "insta-post-42")
    exec(compile(code, str(DOC), "exec"), scope)  # running it again makes no second mug
    assert [p.id for p in bb.products.list()] == [product.id]
    capsys.readouterr()

    follow = follow.replace('bb.orders.refund("ord_…")', "")
    exec(compile(follow, str(DOC), "exec"), scope)  # no paid orders yet: prints nothing
    assert capsys.readouterr().out == ""
    bb.close()


def test_raw_request_example_runs_and_recovers_from_an_expired_token(live_client, store, signer):
    import time

    from buybutton import catalog

    block = next(b for b in python_blocks() if "raw_request" in b)
    bb = live_client
    product = bb.products.create(name="Mug", amount=1200, currency="eur")
    live = bb.tokens.create(product.id)
    scope = {"bb": bb, "product": product, "token": live}
    exec(compile(block, str(DOC), "exec"), scope)
    assert scope["card"]["object"] == "embed" and scope["token"] is live

    with store.read() as conn:
        claims = catalog.offer_claims(
            catalog.get_product(conn, product.id), expires_at=int(time.time()) - 1
        )
    lapsed = type(live).from_dict({**live.to_dict(), "token": signer.issue_token(claims)})
    scope = {"bb": bb, "product": product, "token": lapsed}
    exec(compile(block, str(DOC), "exec"), scope)
    assert "card" not in scope and scope["token"].token != lapsed.token  # a fresh offer
    assert bb.raw_request("GET", f"/v1/embed/{scope['token'].token}").status == 200


def test_stats_example_runs(live_client, merchant):
    block = next(b for b in python_blocks() if "bb.stats.retrieve" in b)
    bb = live_client
    scope = {"bb": bb}
    exec(compile(block, str(DOC), "exec"), scope)
    assert scope["december"].totals["orders"] == 0 and scope["best"] == []
    assert scope["december"].from_ == "2026-12-01" and scope["december"].sort == "paid_orders"
