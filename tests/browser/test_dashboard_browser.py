"""The merchant's first minutes in real Chromium: sign in, create a product with an uploaded
photo, copy its snippet; every page without a CSP violation or a script error."""

from __future__ import annotations

import itertools
import re

import pytest
from PIL import Image

from tests.support.dashboard import PASSWORD, make_login

pytestmark = pytest.mark.browser
_emails = itertools.count()


@pytest.fixture
def merchant_login(shop):
    return make_login(shop.store, "Atelier", f"atelier{next(_emails)}@shop.test")


def watch_errors(page) -> list[str]:
    """Console errors (a CSP violation is one) and uncaught exceptions, as they happen."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_sign_in_create_a_product_with_a_photo_and_copy_its_snippet(
    shop, context, page, merchant_login, tmp_path
):
    from playwright.sync_api import expect

    photo = tmp_path / "mug.jpg"
    Image.new("RGB", (1600, 1200), (200, 120, 40)).save(photo, "JPEG")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=shop.url)
    errors = watch_errors(page)

    page.goto(shop.url + "/dashboard")
    expect(page).to_have_url(shop.url + "/dashboard/login")
    page.get_by_label("Email").fill(merchant_login.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Products")).to_be_visible()

    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name").fill("Stoneware mug")
    page.get_by_label("Description").fill("350 ml, glazed by hand.")
    page.get_by_label("Price").fill("24,50")
    page.get_by_label("Stock").fill("12")
    page.get_by_label("Image").set_input_files(photo)
    page.get_by_role("button", name="Save product").click()

    expect(page.get_by_role("heading", name="Stoneware mug")).to_be_visible()
    expect(page.get_by_text("€24.50")).to_be_visible()
    photo_shown = page.locator(".product-head img")
    expect(photo_shown).to_have_attribute("src", re.compile(r"/images/[0-9a-f]{64}\.jpg$"))
    assert photo_shown.evaluate("img => img.complete && img.naturalWidth") == 600

    snippet = page.get_by_label("Snippet for a web page")
    copy = page.locator("button[data-copy=snippet]")
    expect(copy).to_be_visible()  # shown by the script
    copy.click()
    expect(copy).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == snippet.input_value()
    assert '<buy-button token="' in copied and shop.url + "/widget.js" in copied

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert errors == []


def test_a_price_change_asks_in_a_dialog_before_saving(shop, page, merchant_login):
    from playwright.sync_api import expect

    errors = watch_errors(page)
    page.goto(shop.url + "/dashboard/login")
    page.get_by_label("Email").fill(merchant_login.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name").fill("Tote")
    page.get_by_label("Price").fill("19")
    page.get_by_role("button", name="Save product").click()
    page.get_by_role("link", name="Edit").click()
    # dashboard.js (deferred) hooks the dialog on the form: let it run before saving.
    page.wait_for_load_state("load")
    page.get_by_label("Price", exact=True).fill("21")
    page.get_by_role("button", name="Save product").click()
    dialog = page.get_by_role("dialog", name="Change the price?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Save product").click()
    dialog.get_by_role("button", name="Yes, change the price").click()
    expect(page.get_by_text("€21.00")).to_be_visible()
    expect(page.get_by_text("links posted before no longer sell")).to_be_visible()
    assert errors == []
