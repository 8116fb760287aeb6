"""The Products pages: the list, the form (new and edit), and a product's page with what sells
it (snippet, share link, buy link, QR code) and the links issued for posts.

Everything goes through the core functions the API uses (:mod:`buybutton.catalog`,
:mod:`buybutton.offers`, :mod:`buybutton.funnel`, :mod:`buybutton.product_images`); this module
only reads forms and renders pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

from babel.numbers import format_decimal, get_currency_name
from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from buybutton import catalog, funnel, images, offers, product_images
from buybutton.addresses import country_choices
from buybutton.errors import BuyButtonError, ErrorCode, InvalidRequest
from buybutton.money import MAX_AMOUNT, Money, price_input, read_price, validate_currency

from .. import product_files
from ..links import request_links
from ..runtime import runtime
from ..shopper import csrf
from ..uploads import streams_upload
from .blueprint import bp
from .i18n import add_translations, dashboard_language
from .i18n import gettext as _
from .sessions import current_merchant, login_required

#: Offered first in the currency menu; a product's own currency is always offered too.
CURRENCIES = ("eur", "usd", "gbp", "chf", "cad", "aud", "jpy", "sek", "nok", "dkk", "pln", "czk")


@dataclass
class ProductForm:
    """What the merchant typed (kept as typed, to show again) and what is wrong with it."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    image: FileStorage | None = None
    #: The countries ticked in the Shipping section (ISO codes).
    countries: list[str] = field(default_factory=list)


def _currency_options(current: str) -> list[tuple[str, str]]:
    codes = list(CURRENCIES) if current in CURRENCIES or not current else [current, *CURRENCIES]
    lang = dashboard_language()
    return [
        (code, f"{code.upper()} · {get_currency_name(code.upper(), locale=lang)}") for code in codes
    ]


#: Shipping-rate rows the form offers (blank ones are ignored): no script needed to add one.
RATE_ROWS = 3
RATE_PARTS = ("id", "name", "price", "min", "max")
#: The optional listing identifiers, as the API names them.
IDENTIFIERS = ("sku", "gtin", "mpn", "brand")


def _rate_rows(count: int) -> int:
    """Rows to show: the blank ones of :data:`RATE_ROWS`, or one more than the rates set."""
    return min(max(RATE_ROWS, count + 1), catalog.MAX_SHIPPING_RATES)


def _blank_values(rows: int = RATE_ROWS) -> dict[str, str]:
    values = {"name": "", "description": "", "price": "", "currency": "eur", "stock": ""}
    values |= {key: "" for key in (*IDENTIFIERS, "ships", "license_keys")}
    values |= {f"rate-{i}-{part}": "" for i in range(rows) for part in RATE_PARTS}
    return values


def _new_form() -> ProductForm:
    return ProductForm(values=_blank_values())


def _product_form(product: catalog.Product) -> ProductForm:
    shipping = product.shipping
    rates = shipping.rates if shipping else ()
    values = _blank_values(_rate_rows(len(rates)))
    values |= {
        "name": product.name,
        "description": product.description,
        "price": price_input(product.amount, product.currency),
        "currency": product.currency,
        "stock": "" if product.stock is None else str(product.stock),
        "ships": "1" if shipping else "",
        "license_keys": "1" if product.license_keys else "",
    }
    values |= {key: getattr(product, key) or "" for key in IDENTIFIERS}
    for i, rate in enumerate(rates):
        estimate = rate.delivery_estimate
        values |= {
            f"rate-{i}-id": rate.id,
            f"rate-{i}-name": rate.name,
            f"rate-{i}-price": price_input(rate.amount, product.currency),
            f"rate-{i}-min": str(estimate.min_days) if estimate else "",
            f"rate-{i}-max": str(estimate.max_days) if estimate else "",
        }
    return ProductForm(values=values, countries=list(shipping.countries) if shipping else [])


def _read_form() -> ProductForm:
    """The posted product form, checked field by field (messages in the merchant's language)."""
    posted_rows = sum(
        1 for i in range(catalog.MAX_SHIPPING_RATES) if f"rate-{i}-name" in request.form
    )
    keys = _blank_values(max(RATE_ROWS, posted_rows))
    form = ProductForm(
        values={key: request.form.get(key, "") for key in keys},
        countries=[code.upper() for code in request.form.getlist("countries")],
    )
    values, errors, fields = form.values, form.errors, form.fields
    name = values["name"].strip()
    if not name or len(name) > 200:
        errors["name"] = _("Enter a name (1 to 200 characters).")
    fields["name"] = name
    if len(values["description"]) > 5000:
        errors["description"] = _("The description is too long (at most 5000 characters).")
    fields["description"] = values["description"]
    try:
        fields["currency"] = validate_currency(values["currency"])
    except BuyButtonError:
        errors["currency"] = _("Choose a currency.")
    if "currency" in fields:
        amount = read_price(values["price"], fields["currency"])
        if amount is None:
            errors["price"] = _("Enter a price such as 12.50.")
        elif not 1 <= amount <= MAX_AMOUNT:
            errors["price"] = _(
                "Enter a price above zero, at most %(max)s.", max=_max_price(fields["currency"])
            )
        else:
            fields["amount"] = amount
    stock = values["stock"].strip()
    if stock and (not stock.isdecimal() or int(stock) > catalog.MAX_STOCK):
        errors["stock"] = _("Enter a whole number of units, or leave it empty for unlimited.")
    fields["stock"] = int(stock) if stock and "stock" not in errors else None
    upload = request.files.get("image")
    if upload is not None and upload.filename:
        form.image = upload
    fields["license_keys"] = values["license_keys"] == "1"
    for key in IDENTIFIERS:
        _check(form, key, values[key].strip(), {})
    if "currency" in fields:  # rates are priced in the product's currency
        shipping, rows = _shipping_from_form(form, fields["currency"])
        _check(form, "shipping", shipping, rows)
    return form


def _shipping_from_form(
    form: ProductForm, currency: str
) -> tuple[dict[str, Any] | None, dict[int, int]]:
    """The Shipping section as the API's ``shipping`` object (``None``: it does not ship),
    and which form row each rate came from. Nothing is judged here: what cannot be read is
    passed on as typed, for :func:`buybutton.catalog.validate_shipping` to refuse."""
    values = form.values
    if values["ships"] != "1":
        return None, {}
    rates: list[dict[str, Any]] = []
    rows: dict[int, int] = {}
    count = sum(1 for key in values if key.startswith("rate-") and key.endswith("-name"))
    # A saved rate keeps its id (orders name it); a new one gets the first free "rate-N".
    used = {values[f"rate-{row}-id"].strip() for row in range(count)}
    for row in range(count):
        typed = {part: values[f"rate-{row}-{part}"].strip() for part in RATE_PARTS}
        if any(typed[part] for part in ("name", "price", "min", "max")):
            rows[len(rates)] = row
            if not typed["id"]:
                typed["id"] = _free_rate_id(used, row + 1)
            rate: dict[str, Any] = {
                "id": typed["id"],
                "name": typed["name"],
                "amount": read_price(typed["price"], currency) if typed["price"] else None,
            }
            if rate["amount"] is None:
                rate["amount"] = typed["price"]
            if typed["min"] or typed["max"]:
                rate["delivery_estimate"] = {
                    "min_days": _days(typed["min"]),
                    "max_days": _days(typed["max"]),
                }
            rates.append(rate)
    return {"countries": form.countries, "rates": rates}, rows


def _free_rate_id(used: set[str], number: int) -> str:
    while f"rate-{number}" in used:
        number += 1
    used.add(f"rate-{number}")
    return f"rate-{number}"


def _days(typed: str) -> int | str:
    return int(typed) if typed.isdecimal() and len(typed) < 6 else typed


def _check(form: ProductForm, key: str, value: object, rows: dict[int, int]) -> None:
    """Check one API field with the core's own validator; its refusal goes next to the input
    its ``param`` names (``shipping.rates[0].amount`` → the first rate row's price)."""
    try:
        catalog.validate_product_fields({key: value}, partial=True)
    except InvalidRequest as exc:
        name = _field_of(exc.param or key, rows)
        form.errors.setdefault(name, _field_message(name))
    form.fields[key] = value


_RATE_PARAM = re.compile(r"shipping\.rates\[(\d+)\](?:\.(\w+))?(?:\.(\w+))?")


def _field_of(param: str, rows: dict[int, int]) -> str:
    """The form input a core ``param`` names."""
    found = _RATE_PARAM.match(param)
    if found is None:
        if param == "shipping.rates":
            return "rates"
        return "countries" if param.startswith("shipping") else param
    row = rows.get(int(found.group(1)), 0)
    part, sub = found.group(2), found.group(3)
    if part == "amount":
        return f"rate-{row}-price"
    if part == "delivery_estimate":
        return f"rate-{row}-max" if sub == "max_days" else f"rate-{row}-min"
    return f"rate-{row}-name"


def _field_message(name: str) -> str:
    if name.endswith("-price"):
        return _("Enter a shipping price such as 4.90 (0 for free shipping).")
    if name.endswith("-min"):
        return _("Enter a whole number of days from 0 to 365.")
    if name.endswith("-max"):
        return _("Enter a whole number of days from 0 to 365, no fewer than the minimum.")
    if name.startswith("rate-"):
        return _("Enter the service's name (1 to 100 characters), for example Colissimo.")
    messages = {
        "countries": _("Choose at least one country it ships to."),
        "rates": _("Enter at least one shipping rate: a name and a price."),
        "gtin": _("Enter 8, 12, 13 or 14 digits (EAN or UPC) with the right check digit."),
        "sku": _("Use at most %(count)s printable characters on one line.", count=64),
        "mpn": _("Use at most %(count)s printable characters on one line.", count=70),
        "brand": _("Use at most %(count)s printable characters on one line.", count=70),
    }
    return messages.get(name, _("Check this field."))


def _max_price(currency: str) -> str:
    return Money(MAX_AMOUNT, currency).format(dashboard_language())


def _process_image(form: ProductForm) -> images.ProcessedImage | None:
    """The form's image, checked, cleaned and stored (before any transaction: it takes time);
    ``None`` without one. A bad image becomes the Image field's error."""
    if form.image is None:
        return None
    settings = runtime().settings
    try:
        return images.process_image(
            cast(BinaryIO, form.image.stream),
            storage=runtime().storage,
            max_bytes=settings.max_image_bytes,
            max_pixels=settings.max_image_pixels,
        )
    except BuyButtonError as exc:
        form.errors["image"] = _image_error(exc)
        return None


def _image_error(exc: BuyButtonError) -> str:
    size = _megabytes(runtime().settings.max_image_bytes)
    messages: dict[str, str] = {
        ErrorCode.IMAGE_TOO_LARGE: _("The image is too large: at most %(size)s.", size=size),
        ErrorCode.UNSUPPORTED_IMAGE_FORMAT: _("The image must be a JPEG, PNG or WebP file."),
        ErrorCode.IMAGE_TOO_MANY_PIXELS: _("The image has too many pixels; use a smaller one."),
    }
    return messages.get(exc.code, _("This file is not an image that can be read."))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _file_size(size: int) -> str:
    """A file's size for people, in the merchant's language: ``2.4 MB``, ``12 KB``."""
    lang = dashboard_language()
    if size >= 1024 * 1024:
        return f"{format_decimal(size / (1024 * 1024), '#,##0.#', locale=lang)} MB"
    if size >= 1024:
        return f"{format_decimal(size / 1024, '#,##0.#', locale=lang)} KB"
    return _("%(count)s bytes", count=size)


def _render_form(
    form: ProductForm,
    product: catalog.Product | None,
    *,
    price_warning: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "dashboard/product_form.html",
        form=form,
        product=product,
        currencies=_currency_options(form.values["currency"]),
        countries=country_choices(locale=dashboard_language()),
        chosen_countries=", ".join(
            name for _code, name in country_choices(form.countries, locale=dashboard_language())
        ),
        rate_rows=sum(
            1 for key in form.values if key.endswith("-name") and key.startswith("rate-")
        ),
        file=product.file if product else None,
        file_size=_file_size(product.file.size) if product and product.file else "",
        max_upload=_file_size(runtime().settings.max_upload_bytes),
        max_upload_bytes=runtime().settings.max_upload_bytes,
        max_image=_megabytes(runtime().settings.max_image_bytes),
        max_image_bytes=runtime().settings.max_image_bytes,
        price_warning=price_warning,
    )
    return page, status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    size = _megabytes(runtime().settings.max_image_bytes)
    return (
        render_template(
            "error.html",
            status=413,
            code=ErrorCode.IMAGE_TOO_LARGE,
            message=_(
                "The image is too large: at most %(size)s. Go back and choose a smaller one.",
                size=size,
            ),
        ),
        413,
    )


# -- the list -----------------------------------------------------------------------------------


@bp.get("/products")
@login_required
def products() -> str:
    merchant = current_merchant()
    lang = dashboard_language()
    with runtime().store.read() as conn:
        items, _more = catalog.list_products(conn, merchant.id, limit=100)
        stats = funnel.merchant_stats(conn, merchant.id)
    sales = {row["product_id"]: row for row in stats["by_product"]}
    rows = []
    for product in items:
        sold = sales.get(product.id, {})
        rows.append(
            {
                "product": product,
                "price": product.price.format(lang),
                "status": _status(product),
                "paid_orders": sold.get("paid_orders", 0),
                "revenue": [
                    Money(v, c).format(lang) for c, v in sorted(sold.get("revenue", {}).items())
                ],
            }
        )
    return render_template("dashboard/products.html", rows=rows)


def _status(product: catalog.Product) -> tuple[str, str]:
    if not product.active:
        return "off", _("Inactive")
    if product.stock == 0:
        return "bad", _("Sold out")
    return "ok", _("Active")


# -- new and edit -------------------------------------------------------------------------------


@bp.route("/products/new", methods=["GET", "POST"])
@login_required
def new_product() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _render_form(_new_form(), None)
    form = _read_form()
    processed = _process_image(form) if not form.errors else None
    if form.errors:
        return _render_form(form, None, status=400)
    merchant = current_merchant()
    try:
        with runtime().store.transaction() as conn:
            product = catalog.create_product(conn, merchant.id, form.fields)
            if processed is not None:
                product = product_images.attach_image(conn, merchant.id, product.id, processed)
    except BuyButtonError as exc:  # what the form checks missed: shown on its field
        form.errors[_form_field(exc.param)] = exc.message
        return _render_form(form, None, status=400)
    flash(_("Product created."), "info")
    return redirect(url_for("dashboard.product", product_id=product.id), 303)


def _form_field(param: str | None) -> str:
    return {"amount": "price", "image_url": "image"}.get(param or "", param or "name")


def _own_product(product_id: str) -> catalog.Product:
    """The signed-in merchant's product, else a 404 (another merchant's is not found either)."""
    with runtime().store.read() as conn:
        return catalog.get_product(conn, product_id, merchant_id=current_merchant().id)


@bp.route("/products/<product_id>/edit", methods=["GET", "POST"])
@login_required
def edit_product(product_id: str) -> Response | tuple[str, int]:
    product = _own_product(product_id)
    if request.method == "GET":
        return _render_form(_product_form(product), product)
    form = _read_form()
    if form.errors:
        return _render_form(form, product, status=400)
    price_changes = (form.fields["amount"], form.fields["currency"]) != (
        product.amount,
        product.currency,
    )
    if price_changes and "yes" not in request.form.getlist("confirm_price_change"):
        # Say it plainly before saving: every posted link of this product stops selling.
        return _render_form(form, product, price_warning=True, status=409)
    processed = _process_image(form)
    if form.errors:
        return _render_form(form, product, status=400)
    merchant = current_merchant()
    try:
        with runtime().store.transaction() as conn:
            product = catalog.update_product(conn, merchant.id, product.id, form.fields)
            if processed is not None:
                product = product_images.attach_image(conn, merchant.id, product.id, processed)
    except BuyButtonError as exc:
        form.errors[_form_field(exc.param)] = exc.message
        return _render_form(form, product, status=400)
    flash(
        _("The price changed: links posted before no longer sell. Post the new ones below.")
        if price_changes
        else _("Product saved."),
        "info",
    )
    return redirect(url_for("dashboard.product", product_id=product.id), 303)


# -- the digital file --------------------------------------------------------------------------


@bp.post("/products/<product_id>/file")
@streams_upload
@login_required
def upload_file(product_id: str) -> Response | tuple[str, int]:
    """The Digital file form: streamed into storage as the API's upload is (never read into
    memory whole); the form token is read from the body's first part, before the file."""
    rt, merchant = runtime(), current_merchant()
    try:
        upload = product_files.open_upload(rt, merchant.id, product_id)
        csrf.check_csrf_token(upload.fields.get(csrf.FORM_FIELD, ""))
        if not upload.filename:
            return _file_error(400, ErrorCode.INVALID_REQUEST, _("Choose a file to upload."))
        product_files.store_upload(rt, merchant.id, product_id, upload)
    except InvalidRequest as exc:
        if exc.code == ErrorCode.FILE_TOO_LARGE:
            message = _(
                "The file is too large: at most %(size)s. Go back and choose a smaller one.",
                size=_file_size(rt.settings.max_upload_bytes),
            )
        else:
            message = _("The file could not be uploaded. Go back, choose it again and retry.")
        return _file_error(exc.status, exc.code, message)
    flash(_("File uploaded: buyers download it after paying."), "info")
    return redirect(url_for("dashboard.edit_product", product_id=product_id, _anchor="file"), 303)


def _file_error(status: int, code: str, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, code=code, message=message), status


@bp.post("/products/<product_id>/file/delete")
@login_required
def remove_file(product_id: str) -> Response:
    product_files.remove_file(runtime(), current_merchant().id, product_id)
    flash(_("File removed: its buyers' downloads stop."), "info")
    return redirect(url_for("dashboard.edit_product", product_id=product_id, _anchor="file"), 303)


@bp.post("/products/<product_id>/active")
@login_required
def set_active(product_id: str) -> Response:
    active = request.form.get("active") == "1"
    with runtime().store.transaction() as conn:
        catalog.update_product(conn, current_merchant().id, product_id, {"active": active})
    flash(
        _("Product activated.")
        if active
        else _("Product deactivated: its links stop selling until you activate it again."),
        "info",
    )
    return redirect(url_for("dashboard.product", product_id=product_id), 303)


@bp.route("/products/<product_id>/delete", methods=["GET", "POST"])
@login_required
def delete_product(product_id: str) -> Response | str:
    product = _own_product(product_id)
    if request.method == "GET":
        return render_template("dashboard/product_delete.html", product=product)
    with runtime().store.transaction() as conn:
        catalog.delete_product(conn, current_merchant().id, product.id)
    flash(_("Product deleted."), "info")
    return redirect(url_for("dashboard.products"), 303)


# -- the product page and its links -------------------------------------------------------------


@bp.get("/products/<product_id>")
@login_required
def product(product_id: str) -> str:
    return _product_page(product_id)


def _product_page(
    product_id: str,
    link_errors: dict[str, str] | None = None,
    link_values: dict[str, str] | None = None,
) -> str:
    rt = runtime()
    merchant = current_merchant()
    lang = dashboard_language()
    links = request_links()
    with rt.store.read() as conn:
        item = catalog.get_product(conn, product_id, merchant_id=merchant.id)
        issued = offers.list_links(conn, rt.signer, merchant.id, item.id, now=rt.clock())
        stats = funnel.merchant_stats(conn, merchant.id, product_id=item.id)
        uploaded = product_images.product_image(conn, item)
    # The product's standing offer: the same token for as long as price and product stay.
    offer = offers.issue_offer(rt.signer, item, links=links) if item.active else None
    by_ref = {row["ref"]: row for row in stats["by_ref"]}
    rows = [
        {
            "link": link,
            "share_url": links.share_url(link.token),
            "funnel": by_ref.get(link.ref, {}),
            "created": _date(link.created_at),
            "expires": _date(link.expires_at) if link.expires_at else None,
        }
        for link in issued
    ]
    return render_template(
        "dashboard/product.html",
        product=item,
        price=item.price.format(lang),
        status=_status(item),
        offer=offer,
        qr_png=links.build("social.qr_code", token=offer["token"], kind="png") if offer else None,
        image=uploaded,
        image_url=links.absolute(item.image_url),
        rows=rows,
        totals=stats["totals"],
        link_errors=link_errors or {},
        link_values=link_values or {"ref": "", "expires": ""},
    )


def _date(stamp: int | None) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC") if stamp else ""


@bp.post("/products/<product_id>/links")
@login_required
def new_link(product_id: str) -> Response | tuple[str, int]:
    rt = runtime()
    values = {
        "ref": request.form.get("ref", "").strip(),
        "expires": request.form.get("expires", ""),
    }
    errors: dict[str, str] = {}
    expires_at = None
    if values["expires"]:
        try:
            moment = datetime.fromisoformat(values["expires"]).replace(tzinfo=UTC)
            expires_at = int(moment.timestamp())
        except ValueError:
            errors["expires"] = _("Enter a date and time in the future, within five years.")
    if not errors:
        try:
            with rt.store.transaction() as conn:
                item = catalog.get_product(conn, product_id, merchant_id=current_merchant().id)
                offers.issue_link(
                    conn,
                    rt.signer,
                    item,
                    links=request_links(),
                    ref=values["ref"] or None,
                    expires_at=expires_at,
                    now=rt.clock(),
                )
        except BuyButtonError as exc:
            if exc.status == 404:
                raise
            errors.update(_link_error(exc))
    if errors:
        return _product_page(product_id, link_errors=errors, link_values=values), 400
    flash(_("Link created."), "info")
    return redirect(url_for("dashboard.product", product_id=product_id, _anchor="links"), 303)


def _link_error(exc: BuyButtonError) -> dict[str, str]:
    """The field a refused link names, with what to do about it."""
    if exc.code == ErrorCode.PRODUCT_UNAVAILABLE:
        return {"ref": _("This product is inactive: activate it to get links that sell.")}
    if exc.param == "expires_at":
        return {"expires": _("Enter a date and time in the future, within five years.")}
    return {"ref": _("Use at most 64 printable characters.")}


@bp.post("/products/<product_id>/links/<link_id>/revoke")
@login_required
def revoke_link(product_id: str, link_id: str) -> Response:
    rt = runtime()
    with rt.store.transaction() as conn:
        offers.revoke_link(
            conn, rt.signer, current_merchant().id, product_id, link_id, now=rt.clock()
        )
    flash(_("Link revoked: it no longer sells."), "info")
    return redirect(url_for("dashboard.product", product_id=product_id, _anchor="links"), 303)


add_translations(
    "fr",
    {
        # the Shipping section
        "Shipping": "Livraison",
        "This product ships": "Ce produit est expédié",
        "Buyers then give a postal address and choose a rate. Leave it unticked for digital goods and services.": "L'acheteur indique alors une adresse postale et choisit un tarif. Laissez décoché pour les produits numériques et les services.",
        "Countries it ships to": "Pays de livraison",
        "Hold Ctrl (⌘ on a Mac) to choose several; type a name's first letters to jump to it.": "Maintenez Ctrl (⌘ sur Mac) pour en choisir plusieurs ; tapez les premières lettres d'un nom pour y aller.",
        "Chosen: %(names)s.": "Choisis : %(names)s.",
        "Rates": "Tarifs",
        "Prices in the product's currency, per order; 0 for free shipping. Leave a row empty to offer fewer rates. Days are business days from payment to delivery.": "Prix dans la devise du produit, par commande ; 0 pour la livraison gratuite. Laissez une ligne vide pour proposer moins de tarifs. Les délais sont en jours ouvrés, du paiement à la livraison.",
        "Rate %(number)s": "Tarif %(number)s",
        "Service": "Service",
        "Cost": "Coût",
        "Fewest days": "Jours min.",
        "Most days": "Jours max.",
        "Enter a shipping price such as 4.90 (0 for free shipping).": "Saisissez un prix de livraison, par exemple 4,90 (0 pour la livraison gratuite).",
        "Enter a whole number of days from 0 to 365.": "Saisissez un nombre entier de jours, de 0 à 365.",
        "Enter a whole number of days from 0 to 365, no fewer than the minimum.": "Saisissez un nombre entier de jours, de 0 à 365, au moins égal au minimum.",
        "Enter the service's name (1 to 100 characters), for example Colissimo.": "Saisissez le nom du service (1 à 100 caractères), par exemple Colissimo.",
        "Choose at least one country it ships to.": "Choisissez au moins un pays de livraison.",
        "Enter at least one shipping rate: a name and a price.": "Saisissez au moins un tarif de livraison : un nom et un prix.",
        # identifiers
        "Identifiers (optional)": "Identifiants (facultatifs)",
        "Shown to shopping search engines in the product's listing data.": "Communiqués aux moteurs de recherche de produits dans les données de la fiche.",
        "SKU": "Référence (SKU)",
        "GTIN (EAN or UPC)": "GTIN (EAN ou UPC)",
        "MPN": "Référence fabricant (MPN)",
        "Brand": "Marque",
        "Enter 8, 12, 13 or 14 digits (EAN or UPC) with the right check digit.": "Saisissez 8, 12, 13 ou 14 chiffres (EAN ou UPC) avec la bonne clé de contrôle.",
        "Use at most %(count)s printable characters on one line.": "Utilisez au plus %(count)s caractères imprimables sur une ligne.",
        "Check this field.": "Vérifiez ce champ.",
        # digital delivery
        "Digital delivery": "Livraison numérique",
        "Licence keys": "Clés de licence",
        "Each paid order gets its own licence key, shown on the receipt.": "Chaque commande payée reçoit sa propre clé de licence, indiquée sur le reçu.",
        "Upload the file itself after saving, on the product's edit page.": "Ajoutez le fichier lui-même après l'enregistrement, sur la page de modification du produit.",
        "Digital file": "Fichier numérique",
        "File": "Fichier",
        "Size": "Taille",
        "Type": "Type",
        "Remove": "Retirer",
        "Remove the file? Buyers who already paid can no longer download it.": "Retirer le fichier ? Les acheteurs qui ont déjà payé ne pourront plus le télécharger.",
        "No file yet: buyers of a product with a file download it after paying.": "Pas encore de fichier : les acheteurs d'un produit avec fichier le téléchargent après avoir payé.",
        "Replace the file": "Remplacer le fichier",
        "Upload a file": "Ajouter un fichier",
        "Any type, up to %(size)s.": "Tout type, jusqu'à %(size)s.",
        "The file is too large: at most %(size)s.": "Le fichier est trop volumineux : %(size)s au plus.",
        "Upload": "Envoyer",
        "%(count)s bytes": "%(count)s octets",
        "Choose a file to upload.": "Choisissez un fichier à envoyer.",
        "The file is too large: at most %(size)s. Go back and choose a smaller one.": "Le fichier est trop volumineux : %(size)s au plus. Revenez en arrière et choisissez-en un plus petit.",
        "The file could not be uploaded. Go back, choose it again and retry.": "Le fichier n'a pas pu être envoyé. Revenez en arrière, choisissez-le à nouveau et réessayez.",
        "File uploaded: buyers download it after paying.": "Fichier envoyé : les acheteurs le téléchargent après avoir payé.",
        "File removed: its buyers' downloads stop.": "Fichier retiré : les téléchargements de ses acheteurs s'arrêtent.",
    },
)
