"""Digital goods over HTTP: a product's file (upload, replace, delete), the paid order's counted,
expiring download link with ranges, the refusal page, licence keys and their verification."""

from __future__ import annotations

import io
import os
import re
import stat
import time
import tracemalloc
from dataclasses import replace
from html import unescape

import pytest

from buybutton import digital as core_digital
from buybutton import orders
from buybutton.storage import LocalStorage
from buybutton_server import create_app
from tests.support.accounts import create_account
from tests.support.api_errors import assert_error
from tests.support.forms import submit_form

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 50 + b"%%EOF\n"


def upload(api, product_id, data=PDF, name="guide.pdf", **kwargs):
    return api.post(
        f"/v1/products/{product_id}/file",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        **kwargs,
    )


def buy(client, token, card="4242 4242 4242 4242"):
    started = client.post("/v1/checkout", json={"token": token}).json
    paid = submit_form(
        client,
        started["checkout_url"],
        {"email": "ana@example.com", "card_number": card},
        form_class="card-form",
    )
    assert paid.status_code == 303
    return started


def order_page(client, started, **headers):
    return client.get(started["status_url"], headers=headers)


def download_link(page_html: str) -> str:
    found = re.search(r'<a class="pay download" href="([^"]+)"', page_html)
    assert found, page_html
    return unescape(found.group(1)).removeprefix("http://shop.test")


@pytest.fixture
def digital(api, offer):
    """A product with a PDF file, and a token selling it."""
    product, token = offer(name="Field guide", amount=900)
    assert upload(api, product["id"]).status_code == 200
    return product, token["token"]


# -- the product's file --------------------------------------------------------------------


def test_an_uploaded_file_is_stored_and_shown_with_its_sniffed_type(api, offer, settings):
    product, _ = offer()
    answer = upload(api, product["id"], name="notes.txt")  # a PDF, whatever its name says
    assert answer.status_code == 200, answer.json
    file = answer.json["file"]
    assert file["name"] == "notes.txt" and file["size"] == len(PDF)
    assert file["type"] == "application/pdf" and len(file["sha256"]) == 64
    assert api.get(f"/v1/products/{product['id']}").json["file"] == file
    stored = LocalStorage.for_settings(settings)
    path = stored.root / file["sha256"][:2] / file["sha256"]
    assert path.read_bytes() == PDF
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_products_json_says_no_file_and_no_licence_keys_by_default(api, offer):
    product, _ = offer()
    assert product["file"] is None and product["license_keys"] is False


def test_an_upload_names_only_the_last_part_of_the_file_name(api, offer):
    product, _ = offer()
    answer = upload(api, product["id"], name="../../etc/Guide\x07 d'été.pdf")
    assert answer.json["file"]["name"] == "Guide_ d'été.pdf"


def test_replacing_the_file_removes_the_old_bytes_unless_another_product_has_them(
    api, offer, settings
):
    first, _ = offer()
    second, _ = offer()
    upload(api, first["id"], data=PDF)
    upload(api, second["id"], data=PDF)  # the same bytes: one stored file for both
    key = api.get(f"/v1/products/{first['id']}").json["file"]["sha256"]
    stored = LocalStorage.for_settings(settings)
    upload(api, first["id"], data=b"plain text, version 2\n", name="v2.txt")
    assert stored.size(key) == len(PDF)  # the second product still has it
    answer = api.delete(f"/v1/products/{second['id']}/file")
    assert answer.status_code == 200 and answer.json["file"] is None
    assert not (stored.root / key[:2] / key).exists()
    assert_error(api.delete(f"/v1/products/{second['id']}/file"), 404, "file_not_found")


def test_an_oversize_upload_is_refused_with_413_and_nothing_is_kept(settings, merchant):
    app = create_app(replace(settings, max_upload_bytes=4096))
    client = app.test_client()
    headers = merchant.headers
    product = client.post(
        "/v1/products", json={"name": "Big", "amount": 100, "currency": "eur"}, headers=headers
    ).json
    answer = upload(client, product["id"], data=b"x" * 5000, name="big.bin", headers=headers)
    error = assert_error(answer, 413, "file_too_large", "file")
    assert error["message"] == "The file is too large: at most 4 KB."
    assert client.get(f"/v1/products/{product['id']}", headers=headers).json["file"] is None
    files = settings.home / "files"
    assert not files.exists() or [p for p in files.rglob("*") if p.is_file()] == []
    app.extensions["buybutton"].store.dispose()


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(settings, merchant):
    app = create_app(replace(settings, max_upload_bytes=4096))
    client = app.test_client()
    product = client.post(
        "/v1/products",
        json={"name": "Big", "amount": 100, "currency": "eur"},
        headers=merchant.headers,
    ).json

    class Unreadable(io.BytesIO):
        def read(self, *_):
            raise AssertionError("the body was read")

        readline = read

    answer = client.post(
        f"/v1/products/{product['id']}/file",
        input_stream=Unreadable(),
        headers={**merchant.headers, "Content-Type": "multipart/form-data; boundary=x"},
        # What a client declares (the test client would measure the stream instead).
        environ_overrides={"CONTENT_LENGTH": str(10 * 1024 * 1024)},
    )
    assert_error(answer, 413, "file_too_large", "file")
    app.extensions["buybutton"].store.dispose()


def test_an_upload_that_is_not_multipart_or_lacks_the_file_part_is_refused(api, offer):
    product, _ = offer()
    path = f"/v1/products/{product['id']}/file"
    assert_error(api.post(path, json={"file": "x"}), 415, "unsupported_media_type", "file")
    answer = api.post(
        path, data={"other": (io.BytesIO(b"abc"), "a.txt")}, content_type="multipart/form-data"
    )
    assert_error(answer, 400, "invalid_request", "file")
    assert_error(upload(api, product["id"], data=b""), 400, "empty_file", "file")
    assert_error(upload(api, "prod_missing"), 404, "product_not_found")


def test_a_big_upload_is_streamed_with_bounded_memory(api, offer, tmp_path):
    """64 MB through the app: the peak of Python allocations stays a small fraction of it."""
    product, _ = offer()
    size = 64 * 1024 * 1024
    source = tmp_path / "big.bin"
    with open(source, "wb") as out:
        block = os.urandom(1024 * 1024)
        for _ in range(size // len(block)):
            out.write(block)
    tracemalloc.start()
    try:
        with open(source, "rb") as body:
            answer = api.post(
                f"/v1/products/{product['id']}/file",
                data={"file": (body, "big.bin")},
                content_type="multipart/form-data",
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 200, answer.json
    assert answer.json["file"]["size"] == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte upload"


def test_an_upload_with_an_idempotency_key_is_not_read_into_memory_for_its_fingerprint(api, offer):
    product, _ = offer()
    answer = upload(api, product["id"], headers={"Idempotency-Key": "upload-1"})
    again = upload(api, product["id"], headers={"Idempotency-Key": "upload-1"})
    assert answer.status_code == again.status_code == 200
    assert answer.json["file"] == again.json["file"]


# -- downloads -------------------------------------------------------------------------------


def test_a_paid_order_page_offers_the_download_and_it_streams_the_file(client, digital):
    product, token = digital
    started = buy(client, token)
    page = order_page(client, started)
    assert 'id="delivery"' in page.text and "guide.pdf" in page.text
    assert "5 of 5 downloads left" in page.text
    link = download_link(page.text)
    answer = client.get(link)
    assert answer.status_code == 200 and answer.data == PDF
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="guide.pdf"'
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Accept-Ranges"] == "bytes"
    assert answer.headers["Content-Length"] == str(len(PDF))
    assert "4 of 5 downloads left" in order_page(client, started).text


def test_a_range_is_answered_206_and_past_the_end_416(client, digital):
    _, token = digital
    link = download_link(order_page(client, buy(client, token)).text)
    part = client.get(link, headers={"Range": "bytes=5-9"})
    assert part.status_code == 206 and part.data == PDF[5:10]
    assert part.headers["Content-Range"] == f"bytes 5-9/{len(PDF)}"
    tail = client.get(link, headers={"Range": "bytes=-6"})
    assert tail.status_code == 206 and tail.data == PDF[-6:]
    past = client.get(link, headers={"Range": f"bytes={len(PDF)}-"})
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(PDF)}"
    stale = client.get(link, headers={"Range": "bytes=0-3", "If-Range": '"other"'})
    assert stale.status_code == 200 and stale.data == PDF


def test_head_tells_the_size_without_using_a_download(settings, merchant):
    app = create_app(replace(settings, download_limit=1))
    client = app.test_client()
    link = _paid_download(client, merchant)
    head = client.head(link)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(PDF))
    assert client.get(link).status_code == 200  # the one download is still there
    app.extensions["buybutton"].store.dispose()


def _paid_download(client, merchant, *, license_keys=False):
    headers = merchant.headers
    product = client.post(
        "/v1/products",
        json={"name": "Guide", "amount": 500, "currency": "eur", "license_keys": license_keys},
        headers=headers,
    ).json
    assert upload(client, product["id"], headers=headers).status_code == 200
    token = client.post(f"/v1/products/{product['id']}/tokens", headers=headers).json["token"]
    started = buy(client, token)
    return download_link(order_page(client, started).text)


def test_downloads_are_counted_and_refused_past_the_limit(settings, merchant):
    app = create_app(replace(settings, download_limit=2))
    client = app.test_client()
    link = _paid_download(client, merchant)
    assert client.get(link).status_code == 200
    assert client.get(link, headers={"Range": "bytes=0-0"}).status_code == 206
    refused = client.get(link)
    assert refused.status_code == 410
    assert 'data-code="download_limit_reached"' in refused.text
    assert "used as many times as it allows" in refused.text
    assert refused.headers["Cache-Control"] == "private, no-store"
    as_json = client.get(link, headers={"Accept": "application/json"})
    assert_error(as_json, 410, "download_limit_reached")
    app.extensions["buybutton"].store.dispose()


def test_a_download_link_expires(client, digital, set_clock, settings):
    _, token = digital
    link = download_link(order_page(client, buy(client, token)).text)
    set_clock(time.time() + settings.download_ttl_seconds + 60)
    refused = client.get(link)
    assert refused.status_code == 410 and 'data-code="download_expired"' in refused.text
    page = client.get(link, headers={"Accept-Language": "fr"})
    assert "Ce lien de téléchargement a expiré" in page.text and 'lang="fr"' in page.text


def test_a_refund_withdraws_the_download(client, api, digital):
    _, token = digital
    assert api.patch("/v1/merchant", json={"support_email": "help@shop.example"}).status_code == 200
    started = buy(client, token)
    link = download_link(order_page(client, started).text)
    assert api.post(f"/v1/orders/{started['order_id']}/refund").json["status"] == "refunded"
    refused = client.get(link)
    assert refused.status_code == 410 and 'data-code="download_refunded"' in refused.text
    assert "This order was refunded" in refused.text
    assert 'href="mailto:help@shop.example?subject=Order%20ord_' in refused.text
    assert '<p class="order-shop">Test Shop</p>' in refused.text
    page = order_page(client, started).text
    assert 'data-status="refunded"' in page and 'class="pay download"' not in page


def test_before_payment_the_download_is_refused_with_403(client, app, digital):
    _, token = digital
    started = client.post("/v1/checkout", json={"token": token}).json
    assert 'id="delivery"' not in order_page(client, started).text
    link = "/downloads/" + app.extensions["buybutton"].signer.sign_download(started["order_id"])
    refused = client.get(link, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert refused.status_code == 403
    assert "Votre téléchargement n’est pas encore prêt" in refused.text
    assert "Retour à votre commande" in refused.text  # a link back to the order page
    english = client.get(link)
    assert "Your download is not ready yet" in english.text


def test_a_forged_or_order_page_link_is_not_a_download_link(client, app, digital):
    _, token = digital
    started = buy(client, token)
    ref = started["status_url"].rsplit("/orders/", 1)[1]
    for forged in ("forged", ref):
        refused = client.get(f"/downloads/{forged}")
        assert refused.status_code == 404
        assert 'data-code="download_not_found"' in refused.text


def test_a_removed_file_is_refused_and_not_counted(client, api, digital):
    product, token = digital
    started = buy(client, token)
    link = download_link(order_page(client, started).text)
    api.delete(f"/v1/products/{product['id']}/file")
    refused = client.get(link)
    assert refused.status_code == 404 and 'data-code="file_not_found"' in refused.text


# -- licence keys ----------------------------------------------------------------------------

LICENSE = re.compile(r'<code class="license-key">([0-9A-Z-]{29})</code>')


def test_a_licence_key_is_shown_once_paid_and_verified_by_its_merchant(client, api, offer, store):
    product, token = offer(name="App", license_keys=True)
    assert product["license_keys"] is True
    started = buy(client, token["token"])
    key = LICENSE.search(order_page(client, started).text).group(1)
    license = api.get(f"/v1/licenses/{key}").json
    assert license == {
        "object": "license",
        "key": key,
        "valid": True,
        "status": "paid",
        "order_id": started["order_id"],
        "product_id": product["id"],
        "created_at": license["created_at"],
    }
    assert api.get(f"/v1/licenses/{key.lower().replace('-', '')}").json["key"] == key
    other = create_account(store, "Other Shop")
    assert_error(
        client.get(f"/v1/licenses/{key}", headers=other.headers), 404, "license_not_found", "key"
    )
    assert_error(api.get("/v1/licenses/NOT-A-KEY"), 404, "license_not_found")
    api.post(f"/v1/orders/{started['order_id']}/refund")
    refunded = api.get(f"/v1/licenses/{key}").json
    assert refunded["valid"] is False and refunded["status"] == "refunded"
    assert not LICENSE.search(order_page(client, started).text)


def test_a_duplicate_payment_event_keeps_the_one_licence_key(client, offer, app):
    _, token = offer(name="App", license_keys=True)
    started = buy(client, token["token"])
    rt = app.extensions["buybutton"]
    with rt.store.transaction() as conn:
        again = orders.mark_paid(
            conn, started["order_id"], amount=None, currency=None, payment_id="pay_dup"
        )
    assert again.status == "paid"
    keys = LICENSE.findall(order_page(client, started).text)
    assert len(keys) == 1
    with rt.store.read() as conn:
        assert core_digital.get_entitlement(conn, started["order_id"]).license_key == keys[0]


def test_a_product_deleted_during_its_upload_keeps_no_file(api, offer, settings, monkeypatch):
    product, _ = offer()
    real_save = LocalStorage.save

    def save_then_delete_the_product(self, stream, **options):
        stored = real_save(self, stream, **options)
        api.delete(f"/v1/products/{product['id']}")  # the merchant deletes it meanwhile
        return stored

    monkeypatch.setattr(LocalStorage, "save", save_then_delete_the_product)
    assert_error(upload(api, product["id"]), 404, "product_not_found")
    files = settings.home / "files"
    assert [p for p in files.rglob("*") if p.is_file()] == []
