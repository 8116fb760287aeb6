"""The dashboard's product form beyond the basics: the Shipping section, the listing
identifiers (SKU, GTIN, MPN, brand), licence keys and the Digital file section, each going
through the core's own validation and the API's own streamed upload."""

from __future__ import annotations

import io
from dataclasses import replace

from bs4 import BeautifulSoup

from buybutton import catalog, merchants
from buybutton_server import create_app
from tests.support.dashboard import csrf_of, make_login, post_form, sign_in

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 50 + b"%%EOF\n"

FORM = {"name": "Mug", "description": "", "price": "12.50", "currency": "eur", "stock": ""}
SHIPS = {
    **FORM,
    "ships": "1",
    "countries": ["FR", "BE"],
    "rate-0-name": "Colissimo",
    "rate-0-price": "4.90",
    "rate-0-min": "2",
    "rate-0-max": "4",
    "rate-1-name": "",
    "rate-1-price": "",
    "rate-2-name": "Retrait",
    "rate-2-price": "0",
}


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def new(dashboard, data, **kwargs):
    return post_form(
        dashboard, "/dashboard/products/new", data, content_type="multipart/form-data", **kwargs
    )


def only_product(store, login) -> catalog.Product:
    with store.read() as conn:
        items, _ = catalog.list_products(conn, login.merchant_id)
    assert len(items) == 1
    return items[0]


def error_of(page: BeautifulSoup, name: str) -> str:
    """The error shown next to input ``name`` (tied to it by aria-describedby)."""
    field = page.find(id=f"f-{name}")
    assert field is not None and field["aria-invalid"] == "true"
    assert f"e-{name}" in field["aria-describedby"].split()
    return page.find(id=f"e-{name}").get_text(strip=True)


def test_the_form_sets_shipping_identifiers_and_licence_keys_as_the_api_shows_them(
    dashboard, api, store, login
):
    page = soup(dashboard.get("/dashboard/products/new"))
    assert page.find("label", attrs={"for": "f-ships"}).get_text(strip=True) == "This product ships"
    assert page.find("label", attrs={"for": "f-countries"}).get_text() == "Countries it ships to"
    assert page.select_one("#f-countries option[value=FR]").get_text() == "France"
    assert len(page.select("#f-countries option")) > 200  # every country Babel knows
    assert page.find(id="f-rate-2-name") is not None and page.find(id="f-rate-3-name") is None
    response = new(
        dashboard,
        {
            **SHIPS,
            "sku": "MUG-01",
            "gtin": "4006381333931",
            "mpn": "M1",
            "brand": "Atelier",
            "license_keys": "1",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    product = only_product(store, login)
    shown = dashboard.get(f"/v1/products/{product.id}", headers=api_headers(store, login)).json
    assert shown["shipping"] == {
        "countries": ["FR", "BE"],
        "rates": [
            {
                "id": "rate-1",
                "name": "Colissimo",
                "amount": 490,
                "delivery_estimate": {"min_days": 2, "max_days": 4},
            },
            {"id": "rate-3", "name": "Retrait", "amount": 0, "delivery_estimate": None},
        ],
    }
    assert (shown["sku"], shown["gtin"], shown["mpn"], shown["brand"]) == (
        "MUG-01",
        "4006381333931",
        "M1",
        "Atelier",
    )
    assert shown["license_keys"] is True


def api_headers(store, login) -> dict[str, str]:
    """An API key of the dashboard's merchant: what the API shows is what the form set."""
    with store.transaction() as conn:
        _listing, key = merchants.create_api_key(conn, login.merchant_id)
    return {"Authorization": f"Bearer {key}"}


def test_a_bad_rate_price_is_shown_next_to_its_own_row_and_the_input_is_kept(
    dashboard, store, login
):
    # The first row is empty: the core's rates[0] is the form's row 1 (index from 0).
    data = {
        **SHIPS,
        "rate-0-name": "",
        "rate-0-price": "",
        "rate-0-min": "",
        "rate-0-max": "",
        "rate-1-name": "Express",
        "rate-1-price": "cheap",
    }
    response = new(dashboard, data)
    assert response.status_code == 400
    page = soup(response)
    assert error_of(page, "rate-1-price") == (
        "Enter a shipping price such as 4.90 (0 for free shipping)."
    )
    assert page.find(id="f-rate-1-price")["value"] == "cheap"
    assert page.find(id="f-rate-1-name")["value"] == "Express"
    assert page.find(id="f-ships").has_attr("checked")
    assert [o["value"] for o in page.select("#f-countries option[selected]")] == ["BE", "FR"]
    with store.read() as conn:
        assert catalog.list_products(conn, login.merchant_id)[0] == []


def test_missing_countries_fewer_max_days_and_a_bad_gtin_each_go_next_to_their_field(dashboard):
    response = new(dashboard, {**SHIPS, "countries": [], "gtin": "4006381333932"})
    page = soup(response)
    assert response.status_code == 400
    assert error_of(page, "countries") == "Choose at least one country it ships to."
    assert error_of(page, "gtin").startswith("Enter 8, 12, 13 or 14 digits")
    assert page.find(id="f-gtin")["value"] == "4006381333932"
    response = new(dashboard, {**SHIPS, "rate-0-min": "5", "rate-0-max": "2", "sku": "a\tb"})
    page = soup(response)
    assert error_of(page, "rate-0-max").endswith("no fewer than the minimum.")
    assert error_of(page, "sku") == "Use at most 64 printable characters on one line."
    response = new(dashboard, {**SHIPS, "rate-0-min": "two"})
    assert error_of(soup(response), "rate-0-min") == "Enter a whole number of days from 0 to 365."


def test_ticking_ships_without_any_rate_says_to_enter_one(dashboard):
    data = {**FORM, "ships": "1", "countries": ["FR"]}
    page = soup(new(dashboard, data))
    assert page.find(id="e-rates").get_text(strip=True) == (
        "Enter at least one shipping rate: a name and a price."
    )


def test_the_errors_are_in_french_too(dashboard):
    data = {**SHIPS, "rate-0-price": "x", "gtin": "12"}
    page = soup(new(dashboard, data, query_string={"lang": "fr"}))
    assert error_of(page, "rate-0-price").startswith("Saisissez un prix de livraison")
    assert error_of(page, "gtin").startswith("Saisissez 8, 12, 13 ou 14 chiffres")
    assert page.find("legend", string="Livraison") is not None


def test_a_script_in_a_rate_name_stays_text(dashboard, store, login):
    hostile = '<script>alert("x")</script>'
    response = new(dashboard, {**SHIPS, "rate-0-name": hostile, "brand": "<b>Bold</b>"})
    assert response.status_code == 303
    product = only_product(store, login)
    assert product.shipping.rates[0].name == hostile
    html = dashboard.get(f"/dashboard/products/{product.id}/edit").get_data(as_text=True)
    assert hostile not in html and "<b>Bold</b>" not in html
    page = BeautifulSoup(html, "html.parser")
    assert page.find(id="f-rate-0-name")["value"] == hostile
    assert page.find(id="f-brand")["value"] == "<b>Bold</b>"


def test_the_edit_form_shows_the_rates_and_unticking_ships_stops_shipping(dashboard, store, login):
    assert new(dashboard, SHIPS).status_code == 303
    product = only_product(store, login)
    page = soup(dashboard.get(f"/dashboard/products/{product.id}/edit"))
    assert page.find(id="f-ships").has_attr("checked")
    assert page.find(id="f-rate-0-price")["value"] == "4.90"
    assert page.find(id="f-rate-1-name")["value"] == "Retrait"  # saved rates come first
    assert page.find("input", attrs={"name": "rate-0-id"})["value"] == "rate-1"
    assert page.find(id="f-rate-2-name")["value"] == ""  # a blank row to add one more
    assert {o["value"] for o in page.select("#f-countries option[selected]")} == {"FR", "BE"}
    response = post_form(
        dashboard,
        f"/dashboard/products/{product.id}/edit",
        {**FORM, "countries": ["FR"]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert only_product(store, login).shipping is None


def test_another_merchants_product_is_not_found_for_edit_upload_and_remove(dashboard, store):
    other = make_login(store, "Other", "other@shop.test")
    with store.transaction() as conn:
        theirs = catalog.create_product(
            conn, other.merchant_id, {"name": "Theirs", "amount": 500, "currency": "eur"}
        )
    base = f"/dashboard/products/{theirs.id}"
    assert dashboard.get(f"{base}/edit").status_code == 404
    assert post_form(dashboard, f"{base}/edit", SHIPS).status_code == 404
    assert upload(dashboard, theirs.id).status_code == 404
    assert post_form(dashboard, f"{base}/file/delete").status_code == 404
    with store.read() as conn:
        assert catalog.get_product(conn, theirs.id).file is None


def upload(client, product_id, data=PDF, name="guide.pdf", token=None):
    """The Digital file form, posted as a browser does: the form token first, then the file."""
    fields = {"csrf_token": csrf_of(client) if token is None else token}
    return client.post(
        f"/dashboard/products/{product_id}/file",
        data={**fields, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def make_product(store, login) -> catalog.Product:
    with store.transaction() as conn:
        return catalog.create_product(
            conn, login.merchant_id, {"name": "Guide", "amount": 900, "currency": "eur"}
        )


def test_a_file_is_uploaded_shown_and_removed(dashboard, store, login, settings):
    product = make_product(store, login)
    response = upload(dashboard, product.id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/dashboard/products/{product.id}/edit#file")
    stored = only_product(store, login).file
    assert (stored.name, stored.size, stored.type) == ("guide.pdf", len(PDF), "application/pdf")
    page = soup(dashboard.get(f"/dashboard/products/{product.id}/edit"))
    facts = [dd.get_text(strip=True) for dd in page.select("#file dd")]
    assert facts == [
        "guide.pdf",
        "1.8 KB",
        "application/pdf",
    ]
    assert page.select_one("#file form[action$='/file/delete'] button").get_text() == "Remove"
    path = settings.home / "files"
    assert [p for p in path.rglob("*") if p.is_file() and p.name == stored.key]
    response = post_form(dashboard, f"/dashboard/products/{product.id}/file/delete")
    assert response.status_code == 303
    assert only_product(store, login).file is None
    assert not [p for p in path.rglob("*") if p.is_file() and p.name == stored.key]


def test_an_upload_without_its_form_token_is_refused_and_nothing_is_stored(
    dashboard, store, login, settings
):
    product = make_product(store, login)
    response = upload(dashboard, product.id, token="forged")
    assert response.status_code == 403
    response = dashboard.post(
        f"/dashboard/products/{product.id}/file",
        data={"file": (io.BytesIO(PDF), "guide.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert only_product(store, login).file is None
    files = settings.home / "files"
    assert not files.exists() or [p for p in files.rglob("*") if p.is_file()] == []


def test_an_upload_with_no_file_chosen_says_so(dashboard, store, login):
    product = make_product(store, login)
    response = upload(dashboard, product.id, data=b"", name="")
    assert response.status_code == 400
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_an_oversize_file_gets_a_clear_page_and_nothing_is_kept(settings, store, login):
    app = create_app(replace(settings, max_upload_bytes=4096))
    client = app.test_client()
    sign_in(client, login)
    product = make_product(store, login)
    response = upload(client, product.id, data=b"x" * 5000, name="big.bin")
    assert response.status_code == 413
    message = soup(response).select_one(".message").get_text(strip=True)
    assert message == "The file is too large: at most 4 KB. Go back and choose a smaller one."
    assert only_product(store, login).file is None
    files = settings.home / "files"
    assert not files.exists() or [p for p in files.rglob("*") if p.is_file()] == []
    page = soup(client.get(f"/dashboard/products/{product.id}/edit"))
    assert page.find(id="f-file")["data-max-bytes"] == "4096"
    app.extensions["buybutton"].store.dispose()


def test_a_rate_added_on_edit_gets_an_id_of_its_own_and_saved_rates_keep_theirs(
    dashboard, store, login
):
    assert new(dashboard, SHIPS).status_code == 303  # rows 1 and 3: ids rate-1 and rate-3
    product = only_product(store, login)
    page = soup(dashboard.get(f"/dashboard/products/{product.id}/edit"))
    data = {
        **FORM,
        "ships": "1",
        "countries": ["FR"],
        **{
            tag["name"]: tag.get("value", "")
            for tag in page.select("fieldset.rate input")
            if tag["name"].startswith("rate-")
        },
        "rate-2-name": "Express",
        "rate-2-price": "9.90",
    }
    response = post_form(
        dashboard,
        f"/dashboard/products/{product.id}/edit",
        data,
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    rates = only_product(store, login).shipping.rates
    assert [(r.id, r.name, r.amount) for r in rates] == [
        ("rate-1", "Colissimo", 490),
        ("rate-3", "Retrait", 0),
        ("rate-4", "Express", 990),  # row 3, and rate-3 is taken
    ]
