"""Return links and the widget's postMessage target only for the merchant's registered origins
(``allowed_origins``): a buy page opened with ``?return=https://evil.invalid`` offers no way
"back" there, and tells no page of an unregistered origin about the purchase."""

from __future__ import annotations

import json

from bs4 import BeautifulSoup

from buybutton import cli
from tests.support.api_errors import assert_error


def buy_root(client, token, query=""):
    page = client.get(f"/buy/{token}{query}")
    assert page.status_code == 200
    return BeautifulSoup(page.get_data(as_text=True), "html5lib").find(id="buy")


def test_return_and_origin_of_an_unregistered_site_are_dropped(client, offer):
    _, token = offer()
    root = buy_root(
        client, token["token"], "?return=https://evil.invalid/x&origin=https://evil.invalid"
    )
    assert root["data-return"] == "" and root["data-origin"] == ""


def test_registered_origins_are_kept_and_others_still_dropped(client, api, offer):
    _, token = offer()
    updated = api.patch("/v1/merchant", json={"allowed_origins": ["https://Shop.Example:443/"]})
    assert updated.status_code == 200
    assert updated.json["allowed_origins"] == ["https://shop.example"]
    root = buy_root(
        client,
        token["token"],
        "?return=https://shop.example/post/1?x=2&origin=https://shop.example",
    )
    assert root["data-return"] == "https://shop.example/post/1?x=2"
    assert root["data-origin"] == "https://shop.example"
    for query in (
        "?return=https://shop.example.evil.invalid/&origin=http://shop.example",
        "?return=javascript:alert(1)&origin=https://shop.example/path",
        "?return=https://evil.invalid%23https://shop.example&origin=null",
    ):
        root = buy_root(client, token["token"], query)
        assert (root["data-return"], root["data-origin"]) == ("", ""), query


def test_this_servers_own_pages_are_always_trusted(client, offer):
    _, token = offer()  # the demo storefront lives on the server itself (public_url shop.test)
    root = buy_root(client, token["token"], "?origin=http://shop.test&return=http://shop.test/demo")
    assert (root["data-origin"], root["data-return"]) == (
        "http://shop.test",
        "http://shop.test/demo",
    )


def test_merchant_endpoint_reads_and_validates_allowed_origins(api):
    assert api.get("/v1/merchant").json["allowed_origins"] == []
    assert api.get("/v1/merchant").json["object"] == "merchant"
    for bad in (
        ["ftp://shop.example"],
        ["https://shop.example/path"],
        ["shop.example"],
        "https://shop.example",
        [42],
        ["https://shop.example:99999"],
        ["https://"] * 21,
    ):
        assert_error(
            api.patch("/v1/merchant", json={"allowed_origins": bad}),
            400,
            "invalid_request",
            "allowed_origins",
        )
    assert_error(api.patch("/v1/merchant", json={"name": "x"}), 400, "invalid_request", "name")
    assert api.get("/v1/merchant").json["allowed_origins"] == []  # nothing half-written


def test_merchant_endpoint_needs_the_key(client):
    assert_error(client.get("/v1/merchant"), 401, "invalid_api_key")


def test_cli_creates_a_merchant_with_allowed_origins(settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "load_settings", lambda *a, **k: settings)
    assert (
        cli.main(
            [
                "merchants",
                "create",
                "Shop",
                "--allowed-origin",
                "https://shop.example",
                "--allowed-origin",
                "http://localhost:8000",
                "--json",
            ]
        )
        == 0
    )
    created = json.loads(capsys.readouterr().out)
    assert created["allowed_origins"] == ["https://shop.example", "http://localhost:8000"]


def test_cli_refuses_a_bad_origin_in_one_line(settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "load_settings", lambda *a, **k: settings)
    assert (
        cli.main(["merchants", "create", "Shop", "--allowed-origin", "https://shop.example/blog"])
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("buybutton: error: ") and "\n" not in err and "origin" in err
