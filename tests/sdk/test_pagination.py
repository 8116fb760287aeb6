"""Lists iterate across pages with the starting_after cursor, lazily."""

from __future__ import annotations

import responses
from responses import matchers

from buybutton_sdk import Page
from tests.support.sdk_client import BASE


def page(ids, has_more):
    return {
        "object": "list",
        "url": "/v1/orders",
        "has_more": has_more,
        "data": [{"id": i, "object": "order", "status": "paid"} for i in ids],
    }


@responses.activate
def test_iteration_follows_the_cursor_until_has_more_is_false(bb):
    url = f"{BASE}/v1/orders"
    responses.get(
        url,
        json=page(["ord_5", "ord_4"], True),
        match=[matchers.query_param_matcher({"status": "paid", "limit": "2"})],
    )
    responses.get(
        url,
        json=page(["ord_3", "ord_2"], True),
        match=[
            matchers.query_param_matcher(
                {"status": "paid", "limit": "2", "starting_after": "ord_4"}
            )
        ],
    )
    responses.get(
        url,
        json=page(["ord_1"], False),
        match=[
            matchers.query_param_matcher(
                {"status": "paid", "limit": "2", "starting_after": "ord_2"}
            )
        ],
    )
    assert [o.id for o in bb.orders.list(status="paid", limit=2)] == [
        "ord_5",
        "ord_4",
        "ord_3",
        "ord_2",
        "ord_1",
    ]
    assert len(responses.calls) == 3


@responses.activate
def test_nothing_is_fetched_until_iterated_and_only_pages_needed(bb):
    responses.get(f"{BASE}/v1/orders", json=page(["ord_5", "ord_4"], True))
    orders = bb.orders.list(limit=2)
    assert len(responses.calls) == 0
    first = next(iter(orders))
    assert first.id == "ord_5" and len(responses.calls) == 1


@responses.activate
def test_first_page_exposes_has_more_and_url(bb):
    responses.get(
        f"{BASE}/v1/orders",
        json=page(["ord_9"], True),
        match=[matchers.query_param_matcher({"starting_after": "ord_10"})],
    )
    first = bb.orders.list(starting_after="ord_10").first_page()
    assert isinstance(first, Page)
    assert ([o.id for o in first.data], first.has_more, first.url) == (
        ["ord_9"],
        True,
        "/v1/orders",
    )


@responses.activate
def test_empty_list_yields_nothing(bb):
    responses.get(
        f"{BASE}/v1/products",
        json={"object": "list", "url": "/v1/products", "data": [], "has_more": False},
    )
    assert list(bb.products.list()) == []


@responses.activate
def test_pages_yields_each_page(bb):
    url = f"{BASE}/v1/orders"
    responses.get(
        url, json=page(["ord_2"], True), match=[matchers.query_param_matcher({"limit": "1"})]
    )
    responses.get(
        url,
        json=page(["ord_1"], False),
        match=[matchers.query_param_matcher({"limit": "1", "starting_after": "ord_2"})],
    )
    assert [[o.id for o in p.data] for p in bb.orders.list(limit=1).pages()] == [
        ["ord_2"],
        ["ord_1"],
    ]
