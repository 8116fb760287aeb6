"""The merchant dashboard in real Chromium: the whole merchant path (sign in, a product with an
uploaded image, its snippet pasted on another origin, a shopper's sandbox purchase there, the
order on Orders, shipped, another refunded, both on Analytics); every dashboard page at 390 px
and at desktop width through axe-core; the keyboard alone; and the hostile cases."""

from __future__ import annotations

import importlib.util
import itertools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from buybutton import accounts, catalog, merchants
from buybutton.config import Settings
from buybutton_server import create_app
from tests.support.accounts import TEST_KEYS
from tests.support.loopback import LoopbackServer
from tests.support.services import service_unavailable

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "a long enough password"
SHIPS = {"countries": ["FR"], "rates": [{"id": "colissimo", "name": "Colissimo", "amount": 490}]}
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
_emails = itertools.count()


@dataclass
class Merchant:
    id: str
    email: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def new_merchant(shop, site, name: str = "Atelier Lune") -> Merchant:
    """A merchant with a dashboard sign-in, on the shared live server, whose site is ``site``."""
    email = f"owner{next(_emails)}@atelier.test"
    with shop.store.transaction() as conn:
        merchant, key, _ = accounts.create_merchant_with_account(conn, name, email, PASSWORD)
        merchants.update_merchant(conn, merchant.id, {"allowed_origins": [site.url]})
    return Merchant(merchant.id, email, key)


def sign_in(page, shop, merchant: Merchant) -> None:
    page.goto(f"{shop.url}/dashboard/login")
    page.get_by_label("Email").fill(merchant.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard/products"))


def nav(page, name: str):
    """A link of the dashboard's main navigation."""
    return page.get_by_role("navigation", name="Main navigation").get_by_role("link", name=name)


def png(path: Path) -> Path:
    Image.new("RGB", (1400, 900), (200, 120, 60)).save(path, "PNG")
    return path


def publish_snippet(site, snippet: str) -> str:
    """The merchant pastes the snippet, as copied, into a post of their own site."""
    path = f"/post/dashboard-{next(_emails)}"
    site.pages[path] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>New mugs</title>'
        f"</head><body><h1>My new mugs</h1>{snippet}</body></html>",
        {},
    )
    return site.url + path


def buy_as_shopper(browser, url: str, *, email: str) -> str:
    """A shopper on the merchant's post: the button, the sandbox's TEST MODE page (email, name,
    address, rate, test card). Returns the order id the order page shows."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport=WIDTHS["desktop"])
    try:
        page = context.new_page()
        page.goto(url)
        button = page.locator("buy-button").get_by_role("button")
        expect(button).to_be_enabled()
        with page.expect_popup() as popup_info:
            button.click()
        checkout = popup_info.value
        checkout.wait_for_url(re.compile(r"/sandbox/checkout/"))
        checkout.fill("#email", email)
        if checkout.locator("#address_country").count():
            checkout.select_option("#address_country", "FR")
        for selector, value in (
            ("#name", "Ada Lovelace"),
            ("#address_line1", "12 rue de la Paix"),
            ("#address_city", "Paris"),
            ("#address_postal_code", "75002"),
        ):
            if checkout.locator(selector).count():
                checkout.fill(selector, value)
        checkout.fill("#card_number", "4242 4242 4242 4242")
        checkout.locator("form.card-form button[type=submit]").click()
        checkout.wait_for_url(re.compile(r"/orders/.+\?checkout=success"))
        expect(checkout.get_by_text(re.compile("Thank you"))).to_be_visible()
        return checkout.locator("#order").get_attribute("data-order-id")
    finally:
        context.close()


def axe_violations(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is."""
    if not AXE.exists():
        service_unavailable(f"the accessibility tests need {AXE} (make install runs npm ci)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "help": v["help"],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def merchant_context(browser):
    # bypass_csp: axe's script is injected into the page, which the dashboard's CSP (rightly)
    # forbids to any script not served by the server itself.
    context = browser.new_context(viewport=WIDTHS["desktop"], bypass_csp=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    yield context
    context.close()


def test_the_whole_merchant_path(browser, merchant_context, shop, site, tmp_path):
    from playwright.sync_api import expect

    merchant = new_merchant(shop, site)
    page = merchant_context.new_page()
    sign_in(page, shop, merchant)

    # A product with an uploaded image, that ships: its Shipping section and identifiers.
    page.get_by_role("link", name="New product").click()
    page.get_by_label("Name").fill("Moon mug")
    page.get_by_label("Description").fill("Hand glazed stoneware")
    page.get_by_label("Price").fill("12.00")
    page.get_by_label("Currency").select_option("eur")
    page.get_by_label("Stock").fill("5")
    page.get_by_label("Image").set_input_files(png(tmp_path / "mug.png"))
    page.get_by_label("This product ships").check()
    page.get_by_label("Countries it ships to").select_option(["FR", "BE"])
    first_rate = page.get_by_role("group", name="Rate 1")
    first_rate.get_by_label("Service").fill("Colissimo <b>suivi</b>")
    first_rate.get_by_label("Cost").fill("4.90")
    first_rate.get_by_label("Fewest days").fill("2")
    first_rate.get_by_label("Most days").fill("x")  # a mistake first
    second_rate = page.get_by_role("group", name="Rate 2")
    second_rate.get_by_label("Service").fill("Express")
    second_rate.get_by_label("Cost").fill("9.90")
    page.get_by_label("SKU").fill("MOON-1")
    page.get_by_label("GTIN (EAN or UPC)").fill("4006381333931")
    page.get_by_role("button", name="Save product").click()
    # Refused next to its field; everything typed is still there (the image is chosen again).
    most = page.get_by_role("group", name="Rate 1").get_by_label("Most days")
    expect(most).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-rate-0-max")).to_have_text(
        "Enter a whole number of days from 0 to 365, no fewer than the minimum."
    )
    expect(page.locator("#f-countries option:checked")).to_have_text(["Belgium", "France"])
    expect(page.get_by_role("group", name="Rate 2").get_by_label("Cost")).to_have_value("9.90")
    if violations := axe_violations(page):
        raise AssertionError(f"the form with an error: {violations}")
    most.fill("4")
    page.get_by_label("Image").set_input_files(png(tmp_path / "mug.png"))
    page.get_by_role("button", name="Save product").click()
    expect(page.get_by_text("Product created.")).to_be_visible()
    product_id = page.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    # What the API says is what the form set.
    shown = page.request.get(f"{shop.url}/v1/products/{product_id}", headers=merchant.headers)
    product = shown.json()
    assert product["shipping"] == {
        "countries": ["BE", "FR"],
        "rates": [
            {
                "id": "rate-1",
                "name": "Colissimo <b>suivi</b>",
                "amount": 490,
                "delivery_estimate": {"min_days": 2, "max_days": 4},
            },
            {"id": "rate-2", "name": "Express", "amount": 990, "delivery_estimate": None},
        ],
    }
    assert (product["sku"], product["gtin"], product["license_keys"]) == (
        "MOON-1",
        "4006381333931",
        False,
    )

    # Copy the snippet (the Copy button, the clipboard) and paste it on another origin.
    box = page.locator(".copy-box", has=page.locator("#snippet"))
    box.get_by_role("button", name="Copy").click()
    expect(box.get_by_role("button", name="Copied")).to_be_visible()
    snippet = page.evaluate("navigator.clipboard.readText()")
    assert snippet == page.locator("#snippet").input_value() and "<buy-button" in snippet
    post = publish_snippet(site, snippet)
    assert not post.startswith(shop.url)  # another origin

    # Two shoppers buy there, through the sandbox.
    first = buy_as_shopper(browser, post, email="ada@example.org")
    second = buy_as_shopper(browser, post, email="grace@example.org")

    # The orders on the Orders page.
    nav(page, "Orders").click()
    table = page.locator("table.orders-table")
    expect(table.get_by_role("link", name=first)).to_be_visible()
    expect(table.get_by_role("link", name=second)).to_be_visible()
    row = table.locator("tr", has=page.get_by_role("link", name=first))
    expect(row).to_contain_text("Moon mug")
    expect(row).to_contain_text("ada@example.org")
    expect(row).to_contain_text("To ship")

    # Mark the first shipped.
    table.get_by_role("link", name=first).click()
    expect(page.get_by_text("Ada Lovelace").first).to_be_visible()
    page.get_by_label("Carrier").fill("La Poste")
    page.get_by_label("Tracking number").fill("6A12345")
    page.get_by_label("Tracking URL").fill("https://www.laposte.fr/outils/suivre-vos-envois")
    page.get_by_role("button", name="Mark as shipped").click()
    expect(page.get_by_text("The order is marked as shipped.")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Shipped")

    # Refund the second, after the confirmation.
    nav(page, "Orders").click()
    table.get_by_role("link", name=second).click()
    page.get_by_role("link", name="Refund…").click()
    expect(page.get_by_role("heading", name="Refund this order?")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Refund €16\.90$")).click()
    expect(page.get_by_text("The order was refunded.")).to_be_visible()

    # Both on Analytics: two orders, two paid (one refunded), the shipped one's revenue.
    nav(page, "Analytics").click()
    counts = page.locator(".step-count")
    expect(counts.nth(2)).to_have_text("2")
    expect(counts.nth(3)).to_have_text("2")
    expect(page.locator(".revenue")).to_have_text(["€16.90"])
    expect(page.get_by_role("img", name="Paid orders per day")).to_be_visible()
    stats = page.request.get(f"{shop.url}/v1/stats", headers=merchant.headers).json()
    assert stats["totals"]["paid_orders"] == 2 and stats["totals"]["refunded_orders"] == 1
    assert stats["totals"]["revenue"] == {"eur": 1690}
    assert stats["totals"]["impressions"] >= 2  # the shoppers saw the button on the post


def dashboard_pages(page, shop, merchant: Merchant, site, browser, tmp_path) -> dict[str, str]:
    """Every dashboard page, with data on it: path by name."""
    from playwright.sync_api import expect

    with shop.store.transaction() as conn:
        product = catalog.create_product(
            conn,
            merchant.id,
            {"name": "Poster", "amount": 2500, "currency": "eur", "shipping": SHIPS},
        )
    uploaded = page.request.post(
        f"{shop.url}/v1/products/{product.id}/file",
        headers=merchant.headers,
        multipart={
            "file": {
                "name": "poster.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.7\n%%EOF\n",
            }
        },
    )
    assert uploaded.ok, uploaded.text()
    page.goto(f"{shop.url}/dashboard/products/{product.id}")
    post = publish_snippet(site, page.locator("#snippet").input_value())
    order = buy_as_shopper(browser, post, email="ada@example.org")
    page.goto(f"{shop.url}/dashboard/developers")
    expect(page.locator("h1")).to_be_visible()
    return {
        "login": "/dashboard/login",
        "products": "/dashboard/products",
        "new product": "/dashboard/products/new",
        "product": f"/dashboard/products/{product.id}",
        "edit product": f"/dashboard/products/{product.id}/edit",
        "edit product fr": f"/dashboard/products/{product.id}/edit?lang=fr",
        "delete product": f"/dashboard/products/{product.id}/delete",
        "developers": "/dashboard/developers",
        "orders": "/dashboard/orders",
        "orders filtered": "/dashboard/orders?status=paid&from=bad",
        "order": f"/dashboard/orders/{order}",
        "refund": f"/dashboard/orders/{order}/refund",
        "analytics": "/dashboard/analytics?period=all",
        "analytics fr": "/dashboard/analytics?lang=fr",
        "order not found": "/dashboard/orders/ord_nosuchorder0000",
    }


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_dashboard_page_passes_axe_and_fits_the_width(
    browser, merchant_context, shop, site, tmp_path, width
):
    merchant = new_merchant(shop, site, name="Axe Shop")
    page = merchant_context.new_page()
    sign_in(page, shop, merchant)
    pages = dashboard_pages(page, shop, merchant, site, browser, tmp_path)
    page.set_viewport_size(WIDTHS[width])
    problems = {}
    for name, path in pages.items():
        if name == "login":
            continue  # signed out below
        page.goto(shop.url + path)
        assert page.locator("h1").count() == 1, name
        found = axe_violations(page)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if found or overflow > 0:
            problems[name] = {"axe": found, "overflow_px": overflow}
    page.goto(f"{shop.url}/dashboard/orders?lang=en")
    page.get_by_role("button", name="Sign out").click()
    page.goto(shop.url + pages["login"])
    if violations := axe_violations(page):
        problems["login"] = {"axe": violations}
    assert problems == {}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_sign_up_page_passes_axe(browser, tmp_path, sqlite_template, width):
    """Sign-up exists only with BUYBUTTON_SIGNUP=open: a server of its own."""
    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        secret_keys=TEST_KEYS,
        signup_open=True,
    )
    app = create_app(settings)
    server = LoopbackServer(app)
    context = browser.new_context(viewport=WIDTHS[width], bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/dashboard/signup")
        page.get_by_role("button", name="Create account").click()  # errors beside the fields
        assert page.get_by_text("Please fix the fields marked below.").count() == 1
        assert axe_violations(page) == []
    finally:
        context.close()
        server.stop()
        app.extensions["buybutton"].store.dispose()


def test_the_orders_path_works_by_keyboard_alone(browser, merchant_context, shop, site, tmp_path):
    from playwright.sync_api import expect

    merchant = new_merchant(shop, site, name="Keyboard Shop")
    page = merchant_context.new_page()
    sign_in(page, shop, merchant)
    pages = dashboard_pages(page, shop, merchant, site, browser, tmp_path)
    order_id = pages["order"].rsplit("/", 1)[-1]
    page.goto(f"{shop.url}/dashboard/products")

    def tab_to(role: str, name: str, limit: int = 60) -> None:
        target = page.get_by_role(role, name=name).first
        for _ in range(limit):
            page.keyboard.press("Tab")
            if target.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError(f"Tab never reached the {role} {name!r}")

    tab_to("link", "Orders")  # the navigation's, the first on the page
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dashboard/orders$"))
    tab_to("link", order_id)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/dashboard/orders/{order_id}$"))
    tab_to("textbox", "Carrier")
    page.keyboard.type("Colissimo")
    tab_to("button", "Mark as shipped")
    page.keyboard.press("Enter")
    expect(page.get_by_text("The order is marked as shipped.")).to_be_visible()
    tab_to("link", "Analytics")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dashboard/analytics"))
    tab_to("combobox", "Period")
    page.keyboard.press("End")  # the last period, "All time"
    tab_to("button", "Show")
    page.keyboard.press("Enter")
    expect(page.get_by_role("combobox", name="Period")).to_have_value("all")


def test_hostile_cases_in_the_browser(browser, merchant_context, shop, site, tmp_path):
    """A script in a product name stays text; another merchant's order is a 404 page; a forged
    form post from another origin is refused."""
    from playwright.sync_api import expect

    merchant = new_merchant(shop, site, name="Hostile Shop")
    page = merchant_context.new_page()
    sign_in(page, shop, merchant)
    page.goto(f"{shop.url}/dashboard/products/new")
    page.get_by_label("Name").fill(
        '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script>'
    )
    page.get_by_label("Price").fill("9.00")
    page.get_by_role("button", name="Save product").click()
    expect(page.get_by_text("Product created.")).to_be_visible()
    post = publish_snippet(site, page.locator("#snippet").input_value())
    order = buy_as_shopper(browser, post, email="eve@example.org")
    for path in (
        "/dashboard/products",
        "/dashboard/orders",
        f"/dashboard/orders/{order}",
        f"/dashboard/orders/{order}/refund",
        "/dashboard/analytics",
    ):
        page.goto(shop.url + path)
        assert page.evaluate("window.pwned") is None, path
    expect(page.locator(".product-name").first).to_contain_text("<script>")

    other = new_merchant(shop, site, name="Other Shop")
    theirs_page = browser.new_context()
    try:
        their = theirs_page.new_page()
        sign_in(their, shop, other)
        answer = their.goto(f"{shop.url}/dashboard/orders/{order}")
        assert answer.status == 404
    finally:
        theirs_page.close()

    # A page on another origin posts a refund form to the dashboard: refused, nothing refunded.
    site.pages["/evil"] = (
        '<!doctype html><html lang="en"><head><title>Win</title></head><body>'
        f'<form method="post" action="{shop.url}/dashboard/orders/{order}/refund">'
        "<button>Win a prize</button></form></body></html>",
        {},
    )
    page.goto(site.url + "/evil")
    with page.expect_navigation():
        page.get_by_role("button", name="Win a prize").click()
    assert "another site" in page.content() or "security token" in page.content()
    status = page.request.get(f"{shop.url}/v1/orders/{order}", headers=merchant.headers).json()
    assert status["status"] == "paid"


def test_docs_dashboard_screenshot_script_photographs_every_page(browser, tmp_path):
    spec = importlib.util.spec_from_file_location(
        "docs_dashboard_screenshots", AXE.parents[2] / "docs" / "dashboard_screenshots.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    if script.chromium_path() is None:
        service_unavailable("Chromium is not installed at /usr/bin/chromium")
    written = script.main(tmp_path, browser=browser)
    widths = {path.name: Image.open(path).size[0] for path in written}
    assert len(widths) == 2 * 10
    assert widths["dashboard-orders-phone.png"] == 390
    assert widths["dashboard-analytics-desktop.png"] == 1280
