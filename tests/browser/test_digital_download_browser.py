"""A digital product bought in the sandbox by a shopper in real Chromium: the order page offers
the Download, the browser saves the very bytes uploaded, and the licence key is shown; the link
refuses with its page once used up."""

from __future__ import annotations

import os

import pytest
import requests

pytestmark = pytest.mark.browser


def test_a_shopper_buys_a_digital_product_and_downloads_it(page, shop, tmp_path):
    headers = {"Authorization": f"Bearer {shop.merchant.api_key}"}
    offer = shop.offer(name="Field guide", amount=900, license_keys=True)
    content = b"%PDF-1.7\n" + os.urandom(200_000) + b"\n%%EOF\n"
    uploaded = requests.post(
        f"{shop.url}/v1/products/{offer['product'].id}/file",
        files={"file": ("Guide d'été.pdf", content)},
        headers=headers,
        timeout=30,
    )
    assert uploaded.status_code == 200, uploaded.text

    page.goto(offer["buy_url"])
    page.wait_for_url("**/sandbox/checkout/**")
    page.locator("#email").fill("ana@example.com")
    page.locator("#card_number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/orders/**")
    download_link = page.get_by_role("link", name="Download")
    download_link.wait_for()
    assert page.locator(".download-name").inner_text() == "Guide d'été.pdf"
    assert "5 of 5 downloads left" in page.locator(".download-left").inner_text()
    key = page.locator(".license-key").inner_text()
    assert len(key) == 29 and key.count("-") == 4

    with page.expect_download() as caught:
        download_link.click()
    download = caught.value
    assert download.suggested_filename == "Guide d'été.pdf"
    saved = tmp_path / "saved.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == content

    licence = requests.get(f"{shop.url}/v1/licenses/{key}", headers=headers, timeout=10).json()
    assert licence["valid"] is True

    page.reload()
    assert "4 of 5 downloads left" in page.locator(".download-left").inner_text()
    link = download_link.get_attribute("href")
    for _ in range(4):
        assert requests.get(link, timeout=10).status_code == 200
    page.goto(link)
    assert page.get_by_role("heading", name="This download link has been used up").is_visible()
    page.get_by_role("link", name="Back to your order").click()
    assert page.locator("#delivery .download-unavailable").inner_text() == (
        "The download link has been used up."
    )
