"""Public endpoints are rate limited per client address, in Redis when configured."""

import uuid
from dataclasses import replace

import pytest

from buybutton_server import create_app
from tests.support.api_errors import assert_error


def limited_app(settings, **changes):
    app = create_app(replace(settings, checkout_rate_limit="3/minute", **changes))
    app.config["TESTING"] = True
    return app


def test_checkout_is_rate_limited_per_client(settings):
    client = limited_app(settings).test_client()
    for _ in range(3):
        assert client.post("/v1/checkout", json={}).status_code == 400
    response = client.post("/v1/checkout", json={})
    error = assert_error(response, 429, "rate_limited")
    assert error["type"] == "rate_limit_error"
    assert int(response.headers["Retry-After"]) > 0
    other = client.post("/v1/checkout", json={}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 400  # another shopper is not throttled


def test_one_click_checkout_is_rate_limited_too(settings):
    # It starts orders (and reserves stock) like the other checkout routes.
    client = limited_app(settings).test_client()
    for _ in range(3):  # refused (no form token), yet counted
        assert client.post("/buy/not-a-token/one-click").status_code == 403
    assert client.post("/buy/not-a-token/one-click").status_code == 429


def test_forwarded_client_address_counts_only_behind_trusted_proxies(settings):
    spoofing = limited_app(settings).test_client()
    for i in range(4):
        last = spoofing.post("/v1/checkout", json={}, headers={"X-Forwarded-For": f"1.2.3.{i}"})
    assert last.status_code == 429  # untrusted X-Forwarded-For is ignored

    proxied = limited_app(settings, trusted_proxies=1).test_client()
    for i in range(4):
        response = proxied.post("/v1/checkout", json={}, headers={"X-Forwarded-For": f"1.2.3.{i}"})
        assert response.status_code == 400


@pytest.mark.redis
def test_limits_are_shared_by_every_server_through_redis(settings, redis_url):
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"  # fresh counters
    first, second = (limited_app(settings, redis_url=redis_url).test_client() for _ in range(2))
    for client in (first, second, first):
        assert (
            client.post("/v1/checkout", json={}, environ_base={"REMOTE_ADDR": address}).status_code
            == 400
        )
    assert (
        second.post("/v1/checkout", json={}, environ_base={"REMOTE_ADDR": address}).status_code
        == 429
    )


@pytest.mark.parametrize("path", ["/v1/funnel", "/v1/events"])
def test_funnel_beacons_are_rate_limited_on_both_paths(settings, path):
    # Counters are only worth reading if one client cannot inflate them at will (120/minute).
    client = limited_app(settings).test_client()
    for _ in range(120):
        assert client.post(path, data="not json", content_type="text/plain").status_code == 400
    assert_error(client.post(path, data="not json", content_type="text/plain"), 429, "rate_limited")


def test_in_process_counters_forget_clients_whose_window_is_over(monkeypatch):
    """Memory stays bounded: one key per client address lives only as long as its window,
    dropped by the sweep a later hit runs (no timer thread per hit)."""
    import threading
    import types

    import limits.storage.memory as memory

    from buybutton_server.limits import SweptMemoryStorage

    now = [1_000.0]
    monkeypatch.setattr(memory, "time", types.SimpleNamespace(time=lambda: now[0]))
    monkeypatch.setattr("buybutton_server.limits.time", types.SimpleNamespace(time=lambda: now[0]))
    threads = threading.active_count()
    storage = SweptMemoryStorage()
    for n in range(500):
        storage.incr(f"client-{n}", expiry=60)
    assert len(storage) == 500 and threading.active_count() <= threads + 1
    now[0] += 61
    storage.incr("latecomer", expiry=60)
    assert len(storage) == 1 and storage.get("latecomer") == 1


def test_only_renders_of_offers_count_against_a_client(client, offer, monkeypatch):
    """Cached cards cost no database work and are not counted; renders are (600 a minute)."""
    from limits import parse

    monkeypatch.setattr("buybutton_server.limits.UNCACHED_RATE", parse("3/minute"))
    _, token = offer()
    url = f"/v1/embed/{token['token']}"
    assert [client.get(url).status_code for _ in range(10)] == [200] * 10  # one render
    bad = [client.get(f"/v1/embed/forged-{n}").status_code for n in range(3)]
    assert bad == [400, 400, 429]
    assert client.get(url).status_code == 200  # still cached: served
