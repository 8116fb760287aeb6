"""HTML, JSON and JavaScript answers are compressed (brotli when accepted, else gzip) where no
proxy does it; ``BUYBUTTON_COMPRESSION=off`` leaves them as they are (issue 16)."""

from __future__ import annotations

import gzip
from dataclasses import replace

import brotli
import pytest

from buybutton_server import create_app


def decoded(response) -> bytes:
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    return {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, lambda b: b)(body)


@pytest.mark.parametrize("accept, encoding", [("gzip, deflate, br", "br"), ("gzip", "gzip")])
def test_share_page_is_compressed_with_its_own_etag_and_revalidates(
    client, offer, accept, encoding
):
    _, token = offer()
    url = f"/p/{token['token']}"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    packed = client.get(url, headers={"Accept-Encoding": accept})
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert decoded(packed) == plain.get_data() and len(packed.get_data()) < len(plain.get_data())
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get(
        url, headers={"Accept-Encoding": accept, "If-None-Match": packed.headers["ETag"]}
    )
    assert again.status_code == 304


def test_api_json_is_compressed_as_it_leaves(client, api, offer):
    for n in range(8):
        offer(name=f"Mug number {n}", description="A large blue mug. " * 4)
    listed = api.get("/v1/products", headers={"Accept-Encoding": "br"})
    assert listed.headers["Content-Encoding"] == "br"
    assert b'"object":"list"' in decoded(listed).replace(b" ", b"")


def test_small_answers_and_errors_go_as_they_are(client, api):
    small = client.get("/healthz", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in small.headers
    missing = api.get("/v1/orders/ord_nope", headers={"Accept-Encoding": "br, gzip"})
    assert missing.status_code == 404 and "Content-Encoding" not in missing.headers


def test_compression_can_be_left_to_a_front_proxy(settings, offer, client):
    _, token = offer()
    app = create_app(replace(settings, compression=False))
    try:
        page = app.test_client().get(f"/p/{token['token']}", headers={"Accept-Encoding": "br"})
        assert page.status_code == 200 and "Content-Encoding" not in page.headers
    finally:
        app.extensions["buybutton"].store.dispose()
