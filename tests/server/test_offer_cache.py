"""The cache of rendered offers (issue 16): the widget's embed JSON and the share page come from
memory with strong ETags and 304s that cost no database work, invalidated by every committed
write, and a change made where this process cannot hear of it shows within the TTL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from buybutton import catalog
from buybutton.store import Store
from buybutton_server import create_app
from buybutton_server.cache import Generations, ResponseCache
from tests.support.statements import counting


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app):
    """The cache's clock, moved by hand."""
    tick = Clock()
    app.extensions["buybutton"].cache.clock = tick
    return tick


def engine(app):
    return app.extensions["buybutton"].store.engine


def test_embed_has_a_strong_etag_and_may_be_kept_by_browsers_and_cdns(client, offer, clock):
    _, token = offer(stock=5)
    first = client.get(f"/v1/embed/{token['token']}")
    assert first.status_code == 200 and first.json["stock"] == 5
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "public, max-age=10, stale-while-revalidate=60"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept-Language" in first.headers["Vary"]


def test_a_cached_embed_and_its_304_cost_no_database_work(app, client, offer, clock):
    _, token = offer()
    url = f"/v1/embed/{token['token']}"
    etag = client.get(url).headers["ETag"]
    with counting(engine(app)) as sent:
        again = client.get(url)
        not_modified = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] == etag
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    assert not_modified.headers["ETag"] == etag
    assert "stale-while-revalidate" in not_modified.headers["Cache-Control"]
    assert not_modified.headers["Access-Control-Allow-Origin"] == "*"
    assert sent.statements == [] and sent.transactions == []


def test_a_write_through_this_server_shows_at_once(client, api, offer, clock):
    product, token = offer(stock=5)
    url = f"/v1/embed/{token['token']}"
    etag = client.get(url).headers["ETag"]
    assert api.patch(f"/v1/products/{product['id']}", json={"stock": 0}).status_code == 200
    fresh = client.get(url, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.json["sold_out"] is True
    assert fresh.headers["ETag"] != etag


def test_the_last_unit_sold_by_a_checkout_shows_sold_out_at_once(client, offer, clock):
    _, token = offer(stock=1)
    url = f"/v1/embed/{token['token']}"
    assert client.get(url).json["sold_out"] is False
    assert client.post("/v1/checkout", json={"token": token["token"]}).status_code == 201
    assert client.get(url).json["sold_out"] is True


def test_a_change_this_process_never_hears_of_shows_within_the_ttl(
    app, client, offer, clock, settings
):
    """Another process (serve's expiry thread, a second server without Redis) writes the
    database directly: the cached card stays until its TTL, then the change shows."""
    product, token = offer(stock=3)
    url = f"/v1/embed/{token['token']}"
    assert client.get(url).json["stock"] == 3
    elsewhere = Store(settings.database_url)
    try:
        with elsewhere.transaction() as conn:
            catalog.reserve_stock(conn, product["id"], 3)
    finally:
        elsewhere.dispose()
    clock.now += 9.9
    assert client.get(url).json["stock"] == 3  # within the TTL: the cached card
    clock.now += 0.2
    later = client.get(url).json
    assert (later["stock"], later["sold_out"]) == (0, True)


def test_share_page_is_cached_per_ref_and_answers_304(app, client, offer, clock):
    _, token = offer()
    url = f"/p/{token['token']}"
    plain = client.get(url)
    tagged = client.get(f"{url}?ref=friend")
    assert plain.status_code == tagged.status_code == 200
    assert plain.headers["ETag"] != tagged.headers["ETag"]
    assert plain.mimetype == "text/html" and "Content-Security-Policy" in plain.headers
    with counting(engine(app)) as sent:
        not_modified = client.get(url, headers={"If-None-Match": plain.headers["ETag"]})
    assert not_modified.status_code == 304 and sent.statements == []


def test_locales_are_cached_apart(client, offer, clock):
    _, token = offer()
    url = f"/v1/embed/{token['token']}"
    french = client.get(url, headers={"Accept-Language": "fr-FR"}).json["price_formatted"]
    english = client.get(url, headers={"Accept-Language": "en-US"}).json["price_formatted"]
    assert french != english and "12,00" in french and "12.00" in english


def test_bad_tokens_are_never_cached(client, offer, clock):
    assert client.get("/v1/embed/not-a-token").status_code == 400
    assert client.get("/v1/embed/not-a-token").headers.get("ETag") is None


def test_an_offer_about_to_expire_is_not_served_past_its_end(
    app, client, api, offer, clock, set_clock
):
    runtime = app.extensions["buybutton"]
    runtime.cache.ttl = 300  # longer than the offer has left
    product, _ = offer()
    token = api.post(f"/v1/products/{product['id']}/tokens", json={"expires_in": 60}).json
    url = f"/v1/embed/{token['token']}"
    set_clock(token["expires_at"] - 60)
    assert client.get(url).status_code == 200
    clock.now += 59
    assert client.get(url).status_code == 200  # still the cached card
    clock.now += 2
    set_clock(token["expires_at"] + 1)
    assert client.get(url).status_code == 410  # the offer is over: verified again, refused


def test_no_cache_when_the_ttl_is_zero(tmp_path, settings):
    app = create_app(replace(settings, cache_ttl_seconds=0))
    try:
        assert app.extensions["buybutton"].cache.get(("anything",)) is None
        assert app.extensions["buybutton"].cache.ttl == 0
    finally:
        app.extensions["buybutton"].store.dispose()


def test_the_cache_keeps_at_most_its_entries():
    cache = ResponseCache(
        ttl_seconds=10, stale_seconds=0, max_entries=2, generations=Generations(), clock=Clock()
    )
    for n in range(3):
        cache.render(("k", n), ("products:p",), lambda: (b"x", "text/plain", {}))
    assert len(cache) == 2 and cache.get(("k", 0)) is None and cache.get(("k", 2)) is not None


def test_with_redis_every_server_sees_a_change_at_once(settings, redis_url, offer, client):
    """Two servers on one database and one Redis: a write through one makes the other's cached
    card stale at once (the generations live in Redis)."""
    shared = replace(settings, redis_url=redis_url)
    first, second = create_app(shared), create_app(shared)
    try:
        a, b = first.test_client(), second.test_client()
        product, token = offer(stock=4)  # made through the plain app: nothing cached yet
        url = f"/v1/embed/{token['token']}"
        assert a.get(url).json["stock"] == 4 and b.get(url).json["stock"] == 4
        store = first.extensions["buybutton"].store
        with store.transaction() as conn:
            catalog.reserve_stock(conn, product["id"], 4)
        assert b.get(url).json["sold_out"] is True
    finally:
        for app in (first, second):
            app.extensions["buybutton"].store.dispose()
