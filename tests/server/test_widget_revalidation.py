"""The widget's 304 fast path (buybutton_server.widget.fast304): the same answer as the full
route, without running the app's hooks, and never for a request the app would refuse."""

from __future__ import annotations

from dataclasses import replace

import buybutton_widget
import pytest

from buybutton.config import Settings
from buybutton_server import create_app
from tests.support.accounts import TEST_KEYS

VARYING = {"Date", "X-Request-Id"}


@pytest.fixture
def make_app(tmp_path, sqlite_url):
    apps = []

    def make(**changes):
        settings = Settings(home=tmp_path, database_url=sqlite_url, secret_keys=TEST_KEYS)
        app = create_app(replace(settings, **changes))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["buybutton"].store.dispose()


def _refused(response):
    """The app's own answer to an untrusted host: a 400 page that says so."""
    assert response.status_code == 400
    assert "does not answer to that host name" in response.get_data(as_text=True)


def _hooks_seen(app):
    """Records every request that reaches the app's ``before_request`` hooks."""
    seen = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: seen.append(1))
    return seen


@pytest.mark.parametrize("accept", [None, "gzip", "gzip, br", "br;q=0, gzip"])
@pytest.mark.parametrize("pinned", [False, True])
def test_fast_304_carries_the_headers_of_the_routes_own_304(make_app, accept, pinned):
    app = make_app()
    client = app.test_client()
    seen = _hooks_seen(app)
    path = f"/widget.js?v={buybutton_widget.asset().version}" if pinned else "/widget.js"
    headers = {"Accept-Encoding": accept} if accept else {}
    etag = client.get(path, headers=headers).headers["ETag"]
    assert len(seen) == 1
    # A list of ETags is not the fast path's exact case: the app answers it.
    slow = client.get(path, headers={**headers, "If-None-Match": f'"nope", {etag}'})
    assert len(seen) == 2
    fast = client.get(path, headers={**headers, "If-None-Match": etag})
    assert len(seen) == 2, "the fast 304 ran the app's hooks"
    assert slow.status_code == fast.status_code == 304
    assert fast.get_data() == b""
    same = {k: v for k, v in slow.headers.items() if k not in VARYING}
    assert {k: v for k, v in fast.headers.items() if k not in VARYING} == same
    assert fast.headers["X-Request-Id"].startswith("req_")
    assert fast.headers["X-Request-Id"] != slow.headers["X-Request-Id"]
    assert "Date" in fast.headers


def test_other_etags_and_queries_go_through_the_app(make_app):
    app = make_app()
    client = app.test_client()
    seen = _hooks_seen(app)
    etag = f'"{buybutton_widget.asset().version}"'
    assert client.get("/widget.js", headers={"If-None-Match": '"other"'}).status_code == 200
    # The identity ETag to a client that takes gzip: not what it would be sent.
    gz = client.get("/widget.js", headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert gz.status_code == 200 and gz.headers["Content-Encoding"] == "gzip"
    stale = client.get("/widget.js?v=000000000000", headers={"If-None-Match": etag})
    assert stale.status_code == 304
    assert stale.headers["Cache-Control"] == "public, max-age=86400"
    assert client.post("/widget.js", headers={"If-None-Match": etag}).status_code == 405
    assert len(seen) == 4


def test_an_untrusted_host_is_refused_even_with_a_matching_etag(make_app):
    app = make_app(public_url=None, allowed_hosts=("buy.example.com",))
    client = app.test_client()
    etag = f'"{buybutton_widget.asset().version}"'
    good = client.get("/widget.js", headers={"If-None-Match": etag, "Host": "buy.example.com"})
    assert good.status_code == 304
    evil = client.get("/widget.js", headers={"If-None-Match": etag, "Host": "attacker.invalid"})
    _refused(evil)


def test_a_forwarded_untrusted_host_is_refused_too(make_app):
    app = make_app(public_url=None, allowed_hosts=("buy.example.com",), trusted_proxies=1)
    client = app.test_client()
    etag = f'"{buybutton_widget.asset().version}"'
    proxied = {"If-None-Match": etag, "Host": "10.0.0.7:8000"}
    good = client.get("/widget.js", headers={**proxied, "X-Forwarded-Host": "buy.example.com"})
    assert good.status_code == 304
    evil = client.get("/widget.js", headers={**proxied, "X-Forwarded-Host": "attacker.invalid"})
    _refused(evil)
