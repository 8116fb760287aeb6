"""The dashboard's Products pages: list, form, image upload, edit, deactivate, delete, the
product page's snippet, links and QR code, and links for posts."""

from __future__ import annotations

import io
import re

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from buybutton import catalog, funnel
from buybutton.tokens import TokenSigner
from tests.support.accounts import TEST_KEYS
from tests.support.dashboard import make_login, post_form, sign_in


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def jpeg(width=1600, height=900, color="teal") -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (width, height), color).save(data, "JPEG", quality=90)
    data.seek(0)
    return data


FORM = {
    "name": "Mug",
    "description": "Hand glazed",
    "price": "12.50",
    "currency": "eur",
    "stock": "",
}


def create(dashboard, **overrides):
    response = post_form(
        dashboard,
        "/dashboard/products/new",
        {**FORM, **overrides},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def product_of(store, login):
    with store.read() as conn:
        items, _ = catalog.list_products(conn, login.merchant_id)
    return items[0]


def test_the_products_page_lists_name_price_stock_status_and_sales(dashboard, store, login):
    with store.transaction() as conn:
        catalog.create_product(
            conn, login.merchant_id, {"name": "Tote", "amount": 1900, "currency": "eur", "stock": 0}
        )
        catalog.create_product(
            conn, login.merchant_id, {"name": "Pin", "amount": 800, "currency": "usd"}
        )
    page = soup(dashboard.get("/dashboard/products"))
    headers = [th.get_text(strip=True) for th in page.find_all("th")]
    assert headers == ["Name", "Price", "Stock", "Status", "Sales"]
    rows = {
        tr.find("a").get_text(): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in page.tbody.find_all("tr")
    }
    assert rows["Tote"][1:4] == ["€19.00", "0", "Sold out"]
    assert rows["Pin"][1:5] == ["$8.00", "Unlimited", "Active", "0"]
    assert page.find("a", string="New product")["href"] == "/dashboard/products/new"


def test_the_form_has_every_labelled_field(dashboard):
    page = soup(dashboard.get("/dashboard/products/new"))
    labels = {label.get_text(strip=True): label["for"] for label in page.find_all("label")}
    for name in ("Name", "Description", "Price", "Currency", "Stock", "Image"):
        assert page.find(id=labels[name]) is not None, name
    assert page.find(id=labels["Image"])["type"] == "file"
    assert page.main.form["enctype"] == "multipart/form-data"


def test_creating_a_product_with_an_image_stores_its_sizes(dashboard, store, login, client):
    location = create(dashboard, price="12,50", stock="7", image=(jpeg(), "photo.jpg"))
    product = product_of(store, login)
    assert (product.name, product.amount, product.currency, product.stock) == (
        "Mug",
        1250,
        "eur",
        7,
    )
    assert re.fullmatch(r"/images/[0-9a-f]{64}\.jpg", product.image_url)
    assert location == f"/dashboard/products/{product.id}"
    image = client.get(product.image_url)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert Image.open(io.BytesIO(image.data)).size == (600, 600)
    assert (
        client.get(product.image_url, headers={"If-None-Match": image.headers["ETag"]}).status_code
        == 304
    )


def test_the_share_page_declares_the_uploaded_card_image(dashboard, store, login, client):
    location = create(dashboard, image=(jpeg(), "photo.jpg"))
    page = soup(dashboard.get(location))
    share_url = page.find(id="share-url")["value"]
    share = soup(client.get(share_url.replace("http://shop.test", "")))
    og = [(m["property"], m["content"]) for m in share.find_all("meta", property=True)]
    first = og.index(next(item for item in og if item[0] == "og:image"))
    card_url = og[first][1]
    assert og[first + 1 : first + 5] == [
        ("og:image:width", "1200"),
        ("og:image:height", "630"),
        ("og:image:type", "image/jpeg"),
        ("og:image:alt", "Mug"),
    ]
    card = client.get(card_url.replace("http://shop.test", ""))
    assert Image.open(io.BytesIO(card.data)).size == (1200, 630) and len(card.data) < 300 * 1024


def test_a_non_image_upload_is_a_clear_error_next_to_the_field_keeping_the_input(
    dashboard, store, login
):
    response = post_form(
        dashboard,
        "/dashboard/products/new",
        {**FORM, "name": "Kept name", "image": (io.BytesIO(b"%PDF-1.4 not an image"), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = soup(response)
    assert page.find(id="e-image").get_text() == "This file is not an image that can be read."
    assert page.find(id="f-image")["aria-describedby"].split()[0] == "e-image"
    assert page.find(id="f-name")["value"] == "Kept name"
    with store.read() as conn:
        assert catalog.list_products(conn, login.merchant_id)[0] == []


def test_a_gif_is_refused_as_an_unsupported_format(dashboard):
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    gif.seek(0)
    response = post_form(
        dashboard,
        "/dashboard/products/new",
        {**FORM, "image": (gif, "a.gif")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert (
        soup(response).find(id="e-image").get_text()
        == "The image must be a JPEG, PNG or WebP file."
    )


def test_an_oversized_image_is_refused_with_its_limit(app, dashboard, store, login):
    runtime = app.extensions["buybutton"]
    runtime.settings = runtime.settings.with_overrides(max_image_bytes=50_000)
    big = io.BytesIO(b"\xff\xd8\xff" + b"\0" * 60_000)
    response = post_form(
        dashboard,
        "/dashboard/products/new",
        {**FORM, "image": (big, "big.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "too large: at most 0.0476837 MB" in soup(response).find(id="e-image").get_text()
    with store.read() as conn:
        assert catalog.list_products(conn, login.merchant_id)[0] == []


def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(app, dashboard):
    runtime = app.extensions["buybutton"]
    runtime.settings = runtime.settings.with_overrides(max_image_bytes=1024)
    huge = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024))
    response = post_form(
        dashboard,
        "/dashboard/products/new",
        {**FORM, "image": (huge, "huge.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The image is too large" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "  ", "Enter a name (1 to 200 characters)."),
        ("price", "12.345", "Enter a price such as 12.50."),
        ("price", "abc", "Enter a price such as 12.50."),
        ("price", "0", "Enter a price above zero, at most €999,999.99."),
        ("currency", "zzz", "Choose a currency."),
        ("stock", "-1", "Enter a whole number of units, or leave it empty for unlimited."),
        ("description", "x" * 5001, "The description is too long (at most 5000 characters)."),
    ],
)
def test_validation_errors_show_next_to_their_field_and_keep_the_input(
    dashboard, field, value, message
):
    response = post_form(
        dashboard,
        "/dashboard/products/new",
        {**FORM, field: value, "name": FORM["name"] if field != "name" else value},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = soup(response)
    assert page.find(id=f"e-{field}").get_text() == message
    assert page.find(id="f-description").get_text() == (
        value if field == "description" else FORM["description"]
    )
    if field not in ("currency", "description"):
        assert page.find(id=f"f-{field}")["value"] == value


def test_a_script_in_a_product_name_stays_text_everywhere(dashboard, store, login, client):
    name = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    location = create(dashboard, name=name)
    for path in ("/dashboard/products", location, location + "/edit", location + "/delete"):
        html = dashboard.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;" in html, path
    share_url = soup(dashboard.get(location)).find(id="share-url")["value"]
    html = client.get(share_url.replace("http://shop.test", "")).get_data(as_text=True)
    assert "<script>alert" not in html


def test_another_merchants_product_is_not_found_on_every_route(dashboard, store, client):
    other = make_login(store, "Other", "other@shop.test")
    with store.transaction() as conn:
        theirs = catalog.create_product(
            conn, other.merchant_id, {"name": "Theirs", "amount": 100, "currency": "eur"}
        )
    base = f"/dashboard/products/{theirs.id}"
    for path in (base, base + "/edit", base + "/delete"):
        assert dashboard.get(path).status_code == 404, path
    for path in (base + "/edit", base + "/delete", base + "/active", base + "/links"):
        assert (
            post_form(dashboard, path, FORM, content_type="multipart/form-data").status_code == 404
        ), path
    with store.read() as conn:
        still = catalog.get_product(conn, theirs.id)
    assert still.active and still.deleted_at is None and still.name == "Theirs"


def test_every_product_form_refuses_a_post_without_the_token(dashboard, store, login):
    location = create(dashboard)
    for path in (
        "/dashboard/products/new",
        location + "/edit",
        location + "/active",
        location + "/delete",
        location + "/links",
    ):
        response = dashboard.post(path, data=FORM)
        assert response.status_code == 403, path
    assert product_of(store, login).active


def test_editing_keeps_the_price_without_a_warning(dashboard, store, login):
    location = create(dashboard)
    form = soup(dashboard.get(location + "/edit"))
    assert form.find(id="f-price")["value"] == "12.50" and form.find(id="f-name")["value"] == "Mug"
    response = post_form(
        dashboard,
        location + "/edit",
        {**FORM, "name": "Big mug", "stock": "3"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    product = product_of(store, login)
    assert (product.name, product.stock, product.token_generation) == ("Big mug", 3, 1)


def test_a_price_change_warns_before_saving_then_withdraws_the_old_links(
    dashboard, store, login, client
):
    location = create(dashboard)
    old_share = (
        soup(dashboard.get(location)).find(id="share-url")["value"].replace("http://shop.test", "")
    )
    warned = post_form(
        dashboard, location + "/edit", {**FORM, "price": "15"}, content_type="multipart/form-data"
    )
    assert warned.status_code == 409
    warning = soup(warned).find(id="price-warning").get_text(" ", strip=True)
    assert "they stop selling at the old price" in warning
    assert product_of(store, login).amount == 1250  # nothing saved yet
    assert soup(warned).find(id="f-price")["value"] == "15"  # the input is kept
    confirmed = post_form(
        dashboard,
        location + "/edit",
        {**FORM, "price": "15", "confirm_price_change": "yes"},
        content_type="multipart/form-data",
    )
    assert confirmed.status_code == 303
    assert product_of(store, login).amount == 1500
    assert client.get(old_share).status_code == 410
    assert "links posted before no longer sell" in dashboard.get(location).get_data(as_text=True)


def test_the_edit_page_says_what_a_price_change_does_before_it_is_saved(dashboard):
    location = create(dashboard)
    page = soup(dashboard.get(location + "/edit"))
    assert page.main.form["data-price-warning"] == "price-dialog"
    assert "stop selling at the old price" in page.find(id="price-dialog").get_text()
    assert (
        "stop selling at the old price"
        in page.find("p", class_="hint", string=re.compile("old price")).get_text()
    )


def test_deactivating_stops_the_links_and_activating_restores_them(dashboard, store, login, client):
    location = create(dashboard)
    share = (
        soup(dashboard.get(location)).find(id="share-url")["value"].replace("http://shop.test", "")
    )
    assert post_form(dashboard, location + "/active", {"active": "0"}).status_code == 303
    assert not product_of(store, login).active
    assert client.get(share).status_code == 410
    page = soup(dashboard.get(location))
    assert page.find(id="snippet") is None and "inactive" in page.get_text()
    post_form(dashboard, location + "/active", {"active": "1"})
    assert client.get(share).status_code == 200


def test_delete_asks_then_removes_the_product(dashboard, store, login):
    location = create(dashboard)
    confirm = soup(dashboard.get(location + "/delete"))
    assert confirm.find("button", string="Delete product")
    response = post_form(dashboard, location + "/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/products"
    assert dashboard.get(location).status_code == 404
    assert "No products yet." in dashboard.get("/dashboard/products").get_data(as_text=True)


def test_the_product_page_gives_snippet_share_buy_and_qr_each_with_a_copy_button(dashboard, client):
    location = create(dashboard)
    page = soup(dashboard.get(location))
    snippet = page.find(id="snippet").get_text()
    assert '<buy-button token="' in snippet and "/widget.js" in snippet
    for field_id in ("snippet", "share-url", "buy-url", "qr-url"):
        button = page.find("button", attrs={"data-copy": field_id})
        assert button is not None and button.get_text() == "Copy", field_id
    assert (
        "/buy/" in page.find(id="buy-url")["value"] and "/p/" in page.find(id="share-url")["value"]
    )
    svg = page.find("a", string="Download SVG")
    png = page.find("a", string="Download PNG")
    assert svg.has_attr("download") and png.has_attr("download")
    assert client.get(svg["href"].replace("http://shop.test", "")).mimetype == "image/svg+xml"
    assert client.get(png["href"].replace("http://shop.test", "")).mimetype == "image/png"


def test_a_new_link_for_a_post_is_listed_with_its_funnel_and_can_be_revoked(
    client, store, login, set_clock
):
    set_clock(1_800_000_000)  # 2027-01-15
    sign_in(client, login)
    dashboard = client
    location = create(dashboard)
    response = post_form(
        dashboard, location + "/links", {"ref": "spring-post", "expires": "2028-01-01T12:00"}
    )
    assert response.status_code == 303
    page = soup(dashboard.get(location))
    row = page.find("tbody").find("tr")
    cells = {td["data-label"]: td.get_text(" ", strip=True) for td in row.find_all("td")}
    assert cells["Tag"] == "spring-post" and cells["Status"] == "Live"
    assert cells["Expires"] == "2028-01-01 12:00 UTC"
    share = row.find("input")["value"]
    token = share.rsplit("/p/", 1)[1]
    # A beacon and an order on this tag show in its row.
    claims = TokenSigner(TEST_KEYS).verify_token(token)
    assert claims.ref == "spring-post" and claims.link_id == row["id"]
    with store.transaction() as conn:
        funnel.record_beacon(conn, claims, "impression")
        funnel.record_beacon(conn, claims, "click")
    cells = {
        td["data-label"]: td.get_text(strip=True)
        for td in soup(dashboard.get(location)).find("tbody").find("tr").find_all("td")
    }
    assert (cells["Impressions"], cells["Clicks"], cells["Orders"], cells["Paid"]) == (
        "1",
        "1",
        "0",
        "0",
    )
    assert client.get(share.replace("http://shop.test", "")).status_code == 200
    revoke = post_form(dashboard, f"{location}/links/{row['id']}/revoke")
    assert revoke.status_code == 303
    assert client.get(share.replace("http://shop.test", "")).status_code == 410
    cells = {
        td["data-label"]: td.get_text(strip=True)
        for td in soup(dashboard.get(location)).find("tbody").find("tr").find_all("td")
    }
    assert cells["Status"] == "Revoked"
    # The product's other links still sell.
    standing = soup(dashboard.get(location)).find(id="share-url")["value"]
    assert client.get(standing.replace("http://shop.test", "")).status_code == 200


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"ref": "x" * 65}, "ref", "Use at most 64 printable characters."),
        (
            {"ref": "ok", "expires": "2001-01-01T00:00"},
            "expires",
            "Enter a date and time in the future, within five years.",
        ),
        (
            {"ref": "ok", "expires": "2999-01-01T00:00"},
            "expires",
            "Enter a date and time in the future, within five years.",
        ),
        (
            {"ref": "ok", "expires": "tomorrow"},
            "expires",
            "Enter a date and time in the future, within five years.",
        ),
    ],
)
def test_a_bad_link_is_an_error_next_to_its_field(dashboard, values, field, message):
    location = create(dashboard)
    response = post_form(dashboard, location + "/links", values)
    assert response.status_code == 400
    page = soup(response)
    assert page.find(id=f"e-{field}").get_text() == message
    assert page.find(id="f-ref")["value"] == values["ref"]
    assert "No links issued yet." in page.get_text()


def test_another_merchants_link_cannot_be_revoked(dashboard, store, login, client):
    other = make_login(store, "Other", "other@shop.test")
    other_client = client.application.test_client()
    sign_in(other_client, other)
    location = create(other_client)
    post_form(other_client, location + "/links", {"ref": "theirs"})
    link_id = soup(other_client.get(location)).find("tbody").find("tr")["id"]
    mine = create(dashboard)
    response = post_form(dashboard, f"{mine}/links/{link_id}/revoke")
    assert response.status_code == 404
    assert "Live" in soup(other_client.get(location)).find("tbody").get_text()


def test_the_products_pages_speak_french(dashboard):
    location = create(dashboard)
    page = soup(dashboard.get(location + "?lang=fr"))
    assert page.html["lang"] == "fr"
    assert page.find("button", string="Copier") and page.find(
        "h2", string="Liens pour vos publications"
    )
    form = soup(dashboard.get("/dashboard/products/new"))
    labels = [label.get_text(strip=True) for label in form.find_all("label")]
    assert {"Nom", "Description", "Prix", "Devise", "Stock", "Image"} <= set(labels)
