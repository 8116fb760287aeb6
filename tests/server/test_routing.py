"""Routing by audience: errors answer JSON or HTML by the route's blueprint (and ``Accept``),
not by a list of path prefixes; links are the server's own routes, built by ``url_for``."""

from __future__ import annotations

from dataclasses import replace

import pytest

from buybutton_server import create_app
from buybutton_server.routes import offline_links
from tests.support.api_errors import assert_error


def _is_html(response) -> bool:
    return response.mimetype == "text/html" and "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/v1/nope", "/v1", "/webhooks/paypal"])
def test_unknown_path_under_a_json_blueprint_is_a_json_404(client, path):
    assert_error(client.get(path), 404, "not_found")


def test_unknown_page_is_an_html_404(client):
    response = client.get("/nope")
    assert response.status_code == 404 and _is_html(response)


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v1/funnel"),
        ("GET", "/v1/checkout"),
        ("POST", "/oembed"),
        ("POST", "/healthz"),
        ("POST", "/openapi.json"),
        ("GET", "/webhooks/stripe"),
    ],
)
def test_wrong_method_on_a_json_route_is_a_json_405(client, method, path):
    response = client.open(path, method=method)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"]


def test_wrong_method_on_a_page_is_an_html_405(client):
    response = client.post("/p/sometoken")
    assert response.status_code == 405 and _is_html(response)


def test_page_error_is_json_when_the_client_asks_for_json(client):
    assert _is_html(client.get("/orders/forged-ref"))
    assert _is_html(client.get("/orders/forged-ref", headers={"Accept": "text/html,*/*;q=0.8"}))
    assert_error(
        client.get("/orders/forged-ref", headers={"Accept": "application/json"}), 404, "not_found"
    )


def test_cli_links_are_the_links_the_server_builds(api, offer):
    _, token = offer(ref="poster")
    links = offline_links("http://shop.test")
    assert token["share_url"] == links.share_url(token["token"])
    assert token["buy_url"] == links.buy_url(token["token"])
    assert token["qr_url"] == links.qr_url(token["token"])
    assert token["snippet"].startswith('<script async src="http://shop.test/widget.js">')


def test_links_without_a_public_url_name_the_validated_request_host(settings, offer, api):
    _, token = offer()
    app = create_app(replace(settings, public_url=None, allowed_hosts=("buy.example.com",)))
    client = app.test_client()
    card = client.get(f"/v1/embed/{token['token']}", base_url="https://buy.example.com").json
    assert card["buy_url"] == f"https://buy.example.com/buy/{token['token']}"
    refused = client.get(f"/v1/embed/{token['token']}", base_url="http://evil.example")
    assert_error(refused, 400, "untrusted_host")
