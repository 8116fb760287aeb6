"""Host header poisoning: links (cached share pages, embed JSON, feeds, the payment page's return
URL) are built from BUYBUTTON_PUBLIC_URL, or from a request host on the allowed list; a request
naming any other host, directly or through X-Forwarded-Host, is a 400 and leaves nothing behind."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import quote

import pytest
import responses

from buybutton_server import create_app
from tests.support.api_errors import assert_error

EVIL = "attacker.invalid"


@pytest.fixture
def make_app(settings):
    """``make_app(**settings_changes)``: an app on the test database with other settings."""
    apps = []

    def make(**changes):
        app = create_app(replace(settings, **changes))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["buybutton"].store.dispose()


@pytest.fixture
def listed(make_product, make_token):
    """A product in the feed and a token of it: ``(product, token)``."""
    product = make_product(in_feed=True)
    return product, make_token(product)


def link_surfaces(
    client, merchant_id: str, token: str, headers: dict, base: str = "http://localhost"
) -> dict:
    """Every answer that carries absolute links, asked with ``headers`` (oEmbed about the share
    link on ``base``)."""
    share = f"{base}/p/{token}"
    return {
        "share page": client.get(f"/p/{token}", headers=headers),
        "embed card": client.get(f"/embed/{token}", headers=headers),
        "embed JSON": client.get(f"/v1/embed/{token}", headers=headers),
        "oEmbed": client.get(f"/oembed?url={quote(share)}", headers=headers),
        "CSV feed": client.get(f"/v1/feeds/{merchant_id}.csv", headers=headers),
        "XML feed": client.get(f"/v1/feeds/{merchant_id}.xml", headers=headers),
    }


def success_url_of(app, checkout_url: str) -> str:
    """Where the sandbox payment page sends the shopper after paying."""
    session_id = checkout_url.rstrip("/").rsplit("/", 1)[1]
    return app.extensions["buybutton"].provider.get_checkout(session_id).success_url


# -- without a public URL: the allowed hosts (loopback by default) ---------------------------


@pytest.mark.parametrize(
    "headers",
    [{"Host": EVIL}, {"Host": f"{EVIL}:443"}, {"Host": f"localhost.{EVIL}"}, {"Host": "bad host!"}],
)
def test_untrusted_host_gets_400_on_every_link_surface(make_app, merchant, listed, headers):
    client = make_app(public_url=None).test_client()
    for name, response in link_surfaces(client, merchant.id, listed[1], headers).items():
        assert response.status_code == 400, name
        assert EVIL not in response.get_data(as_text=True), name
        if response.mimetype == "application/json":
            assert response.json["error"]["code"] == "untrusted_host"
        else:
            assert "does not answer to that host" in response.get_data(as_text=True), name


def test_untrusted_host_cannot_start_a_checkout(make_app, merchant, listed):
    app = make_app(public_url=None)
    client = app.test_client()
    response = client.post("/v1/checkout", json={"token": listed[1]}, headers={"Host": EVIL})
    assert_error(response, 400, "untrusted_host")
    assert client.get("/v1/orders", headers=merchant.headers).json["data"] == []


def test_loopback_host_builds_links_on_itself(make_app, merchant, listed):
    app = make_app(public_url=None)
    client = app.test_client()
    # X-Forwarded-Host counts for nothing without trusted proxies.
    headers = {"Host": "127.0.0.1:8000", "X-Forwarded-Host": EVIL}
    for name, response in link_surfaces(
        client, merchant.id, listed[1], headers, "http://127.0.0.1:8000"
    ).items():
        assert response.status_code == 200, name
        body = response.get_data(as_text=True)
        assert EVIL not in body and "http://127.0.0.1:8000/" in body, name
    started = client.post("/v1/checkout", json={"token": listed[1]}, headers=headers).json
    assert started["status_url"].startswith("http://127.0.0.1:8000/orders/")
    assert success_url_of(app, started["checkout_url"]).startswith("http://127.0.0.1:8000/orders/")


def test_health_answers_any_host(make_app):
    # Load balancers check health by the server's address; the answer has no links.
    client = make_app(public_url=None, allowed_hosts=("buy.example.com",)).test_client()
    assert client.get("/healthz", headers={"Host": "10.0.0.7:8000"}).status_code == 200


# -- BUYBUTTON_ALLOWED_HOSTS, behind a proxy ------------------------------------------------


def test_allowed_hosts_build_links_and_refuse_other_hosts(make_app, merchant, listed):
    app = make_app(public_url=None, allowed_hosts=("buy.example.com", ".shop.example"))
    client = app.test_client()
    for host in ("buy.example.com", "eu.shop.example"):
        page = client.get(f"/p/{listed[1]}", headers={"Host": host})
        assert page.status_code == 200 and f"http://{host}/p/" in page.get_data(as_text=True)
    for host in (EVIL, "localhost", "shop.example.evil", "buy.example.com.evil"):
        assert client.get(f"/p/{listed[1]}", headers={"Host": host}).status_code == 400, host


def test_forwarded_host_from_a_trusted_proxy_is_checked_too(make_app, merchant, listed):
    """ProxyFix (BUYBUTTON_TRUSTED_PROXIES) makes X-Forwarded-Host the request's host: it goes
    through the same list, so a proxy passing on a client's header cannot poison links."""
    app = make_app(public_url=None, allowed_hosts=("buy.example.com",), trusted_proxies=1)
    client = app.test_client()
    proxied = {"Host": "10.0.0.7:8000", "X-Forwarded-Proto": "https"}
    forged = link_surfaces(client, merchant.id, listed[1], {**proxied, "X-Forwarded-Host": EVIL})
    assert {name: r.status_code for name, r in forged.items()} == {name: 400 for name in forged}
    good = client.get(
        f"/v1/embed/{listed[1]}", headers={**proxied, "X-Forwarded-Host": "buy.example.com"}
    )
    assert good.json["buy_url"].startswith("https://buy.example.com/buy/")
    started = client.post(
        "/v1/checkout",
        json={"token": listed[1]},
        headers={**proxied, "X-Forwarded-Host": "buy.example.com"},
    ).json
    assert success_url_of(app, started["checkout_url"]).startswith(
        "https://buy.example.com/orders/"
    )


# -- with BUYBUTTON_PUBLIC_URL: any host may ask, links never name it -------------------------


@pytest.mark.parametrize(
    "headers", [{"Host": EVIL}, {"Host": "localhost", "X-Forwarded-Host": EVIL}]
)
@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_public_url_links_ignore_the_request_host(
    make_app, merchant, listed, headers, trusted_proxies
):
    app = make_app(public_url="https://buy.example.com", trusted_proxies=trusted_proxies)
    client = app.test_client()
    for name, response in link_surfaces(
        client, merchant.id, listed[1], headers, "https://buy.example.com"
    ).items():
        body = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert EVIL not in body and "https://buy.example.com/" in body, name
    started = client.post("/v1/checkout", json={"token": listed[1]}, headers=headers).json
    assert started["status_url"].startswith("https://buy.example.com/orders/")
    assert success_url_of(app, started["checkout_url"]).startswith(
        "https://buy.example.com/orders/"
    )


def test_stripe_success_url_never_names_the_request_host(make_app, merchant, listed):
    app = make_app(
        public_url=None, allowed_hosts=("buy.example.com",), stripe_secret_key="sk_test_hosts"
    )
    sent = []

    def session(request):
        sent.append(request.body)
        order_id = dict(pair.split("=", 1) for pair in request.body.split("&"))[
            "client_reference_id"
        ]
        return (
            200,
            {},
            json.dumps(
                {
                    "id": "cs_test_h1",
                    "object": "checkout.session",
                    "status": "open",
                    "payment_status": "unpaid",
                    "amount_total": 1200,
                    "currency": "eur",
                    "client_reference_id": order_id,
                    "metadata": {"order_id": order_id},
                    "payment_intent": None,
                    "customer": None,
                    "url": "https://checkout.stripe.test/h1",
                }
            ),
        )

    client = app.test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, "https://api.stripe.com/v1/checkout/sessions", session)
        refused = client.post("/v1/checkout", json={"token": listed[1]}, headers={"Host": EVIL})
        accepted = client.post(
            "/v1/checkout", json={"token": listed[1]}, headers={"Host": "buy.example.com"}
        )
    assert refused.status_code == 400 and accepted.status_code == 201
    assert len(sent) == 1 and EVIL not in sent[0]
    assert "success_url=http%3A%2F%2Fbuy.example.com%2Forders%2F" in sent[0]
