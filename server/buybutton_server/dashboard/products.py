"""The Products pages: the list, the form (new and edit), and a product's page with what sells
it (snippet, share link, buy link, QR code) and the links issued for posts.

Everything goes through the core functions the API uses (:mod:`buybutton.catalog`,
:mod:`buybutton.offers`, :mod:`buybutton.funnel`, :mod:`buybutton.product_images`); this module
only reads forms and renders pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from babel.numbers import get_currency_name
from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from buybutton import catalog, funnel, images, offers, product_images
from buybutton.errors import BuyButtonError, ErrorCode
from buybutton.money import MAX_AMOUNT, Money, parse_price, price_input, validate_currency
from buybutton.storage import LocalStorage

from ..links import request_links
from ..runtime import runtime
from .blueprint import bp
from .i18n import dashboard_language
from .i18n import gettext as _
from .sessions import current_merchant, login_required

#: Offered first in the currency menu; a product's own currency is always offered too.
CURRENCIES = ("eur", "usd", "gbp", "chf", "cad", "aud", "jpy", "sek", "nok", "dkk", "pln", "czk")
#: Room for the form's other fields beside the image in one request.
FORM_OVERHEAD_BYTES = 1024 * 1024


@dataclass
class ProductForm:
    """What the merchant typed (kept as typed, to show again) and what is wrong with it."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    image: FileStorage | None = None


def _currency_options(current: str) -> list[tuple[str, str]]:
    codes = list(CURRENCIES) if current in CURRENCIES or not current else [current, *CURRENCIES]
    lang = dashboard_language()
    return [
        (code, f"{code.upper()} · {get_currency_name(code.upper(), locale=lang)}") for code in codes
    ]


def _form_values(product: catalog.Product | None) -> dict[str, str]:
    if product is None:
        return {"name": "", "description": "", "price": "", "currency": "eur", "stock": ""}
    return {
        "name": product.name,
        "description": product.description,
        "price": price_input(product.amount, product.currency),
        "currency": product.currency,
        "stock": "" if product.stock is None else str(product.stock),
    }


def _read_form() -> ProductForm:
    """The posted product form, checked field by field (messages in the merchant's language)."""
    form = ProductForm(values={key: request.form.get(key, "") for key in _form_values(None)})
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
        try:
            fields["amount"] = parse_price(values["price"], fields["currency"])
        except BuyButtonError as exc:
            errors["price"] = (
                _("Enter a price above zero, at most %(max)s.", max=_max_price(fields["currency"]))
                if "between" in exc.message
                else _("Enter a price such as 12.50.")
            )
    stock = values["stock"].strip()
    if stock and (not stock.isdecimal() or int(stock) > catalog.MAX_STOCK):
        errors["stock"] = _("Enter a whole number of units, or leave it empty for unlimited.")
    fields["stock"] = int(stock) if stock and "stock" not in errors else None
    upload = request.files.get("image")
    if upload is not None and upload.filename:
        form.image = upload
    return form


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
            form.image.stream,
            storage=LocalStorage.for_settings(settings),
            max_bytes=settings.max_image_bytes,
            max_pixels=settings.max_image_pixels,
        )
    except BuyButtonError as exc:
        form.errors["image"] = _image_error(exc)
        return None


def _image_error(exc: BuyButtonError) -> str:
    size = _megabytes(runtime().settings.max_image_bytes)
    messages = {
        ErrorCode.IMAGE_TOO_LARGE: _("The image is too large: at most %(size)s.", size=size),
        ErrorCode.UNSUPPORTED_IMAGE_FORMAT: _("The image must be a JPEG, PNG or WebP file."),
        ErrorCode.IMAGE_TOO_MANY_PIXELS: _("The image has too many pixels; use a smaller one."),
    }
    return messages.get(exc.code, _("This file is not an image that can be read."))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


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
        max_image=_megabytes(runtime().settings.max_image_bytes),
        max_image_bytes=runtime().settings.max_image_bytes,
        price_warning=price_warning,
    )
    return page, status


def _allow_image_upload() -> None:
    # The app refuses bodies over 1 MB; a product form may carry an image.
    request.max_content_length = runtime().settings.max_image_bytes + FORM_OVERHEAD_BYTES


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


@bp.before_request
def _upload_limit() -> None:
    if request.endpoint in ("dashboard.new_product", "dashboard.edit_product"):
        _allow_image_upload()


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
        return _render_form(ProductForm(values=_form_values(None)), None)
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
        return _render_form(ProductForm(values=_form_values(product)), product)
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
def product(
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
            field_name = {"ref": "ref", "expires_at": "expires"}.get(exc.param or "", "ref")
            errors[field_name] = (
                {
                    "ref": _("Use at most 64 printable characters."),
                    "expires": _("Enter a date and time in the future, within five years."),
                }[field_name]
                if exc.code != ErrorCode.PRODUCT_UNAVAILABLE
                else _("This product is inactive: activate it to get links that sell.")
            )
    if errors:
        return product(product_id, link_errors=errors, link_values=values), 400
    flash(_("Link created."), "info")
    return redirect(url_for("dashboard.product", product_id=product_id, _anchor="links"), 303)


@bp.post("/products/<product_id>/links/<link_id>/revoke")
@login_required
def revoke_link(product_id: str, link_id: str) -> Response:
    rt = runtime()
    with rt.store.transaction() as conn:
        item = catalog.get_product(conn, product_id, merchant_id=current_merchant().id)
        offers.revoke_link(conn, item.merchant_id, link_id, now=rt.clock())
    flash(_("Link revoked: it no longer sells."), "info")
    return redirect(url_for("dashboard.product", product_id=product_id, _anchor="links"), 303)
