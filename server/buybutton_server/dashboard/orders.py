"""The dashboard's **Orders** page, an order's page and its actions (refund, ship, deliver,
resend the receipt), each through the same core function as the API route that does it.

Filters arrive as a query string (a GET form, so a filtered view can be bookmarked and the CSV
export takes the same one); a bad filter is said next to its field, never a bare 400.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from buybutton import catalog, orders
from buybutton.errors import BuyButtonError, NotFound
from buybutton.mail.delivery import resend_receipt

from ..runtime import runtime
from .blueprint import bp
from .formatting import format_money, format_time, utc_midnight
from .i18n import add_translations, gettext
from .sessions import current_merchant, login_required

PAGE_SIZE = 25
MAX_SEARCH_LENGTH = 254


@dataclass
class OrderFilters:
    """The Orders page's query string, parsed; ``errors`` names each bad field."""

    status: str | None = None
    product_id: str | None = None
    ref: str | None = None
    fulfillment: str | None = None
    since: str = ""
    until: str = ""
    search: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> dict[str, Any]:
        """The keyword arguments of :func:`orders.list_orders` these filters make."""
        return {
            "status": self.status,
            "product_id": self.product_id,
            "ref": self.ref,
            "fulfillment": self.fulfillment,
            "created_gte": _day_start(self.since),
            "created_lt": _day_start(self.until, next_day=True),
            "search": self.search or None,
        }

    def args(self) -> dict[str, str]:
        """The query string that gives these filters back (for links and the export)."""
        values = {
            "status": self.status or "",
            "product": self.product_id or "",
            "ref": self.ref or "",
            "fulfillment": self.fulfillment or "",
            "from": self.since,
            "to": self.until,
            "q": self.search,
        }
        return {key: value for key, value in values.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.args())


def _day_start(text: str, *, next_day: bool = False) -> int | None:
    if not text:
        return None
    return utc_midnight(dt.date.fromisoformat(text) + dt.timedelta(days=1 if next_day else 0))


def _parse_day(name: str, errors: dict[str, str]) -> str:
    raw = request.args.get(name, "").strip()
    if not raw:
        return ""
    try:
        dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = gettext("Enter a date as YYYY-MM-DD.")
        return ""
    return raw


def parse_filters() -> OrderFilters:
    """The filters of the request's query string; each bad one is dropped and named in
    ``errors`` (so the page still lists orders, and says what it ignored)."""
    errors: dict[str, str] = {}

    def choice(name: str, allowed: tuple[str, ...]) -> str | None:
        raw = request.args.get(name, "")
        if raw and raw not in allowed:
            errors[name] = gettext("Choose one of the listed values.")
            return None
        return raw or None

    def text(name: str, limit: int) -> str:
        raw = request.args.get(name, "").strip()
        if len(raw) > limit:
            errors[name] = gettext("At most %(n)s characters.", n=limit)
            return ""
        return raw

    filters = OrderFilters(
        status=choice("status", orders.STATUSES),
        fulfillment=choice("fulfillment", orders.FULFILLMENT_STATUSES),
        product_id=text("product", 64) or None,
        ref=text("ref", 64) or None,
        since=_parse_day("from", errors),
        until=_parse_day("to", errors),
        search=text("q", MAX_SEARCH_LENGTH),
        errors=errors,
    )
    if filters.since and filters.until and filters.until < filters.since:
        errors["to"] = gettext("The last day must not come before the first.")
        filters.until = ""
    return filters


@bp.get("/orders", endpoint="orders")
@login_required
def orders_page() -> str:
    merchant_id = current_merchant().id
    filters = parse_filters()
    after = request.args.get("after") or None
    with runtime().store.read() as conn:
        names = catalog.product_names(conn, merchant_id)
        items, has_more = orders.list_orders(
            conn,
            merchant_id,
            limit=PAGE_SIZE,
            starting_after=after if after and len(after) <= 64 else None,
            **filters.query(),
        )
    return render_template(
        "dashboard/orders.html",
        filters=filters,
        rows=[order_row(order, names) for order in items],
        products=sorted(names.items(), key=lambda item: item[1].casefold()),
        next_cursor=items[-1].id if has_more and items else None,
        first_page=after is None,
        statuses=orders.STATUSES,
        fulfillment_statuses=orders.FULFILLMENT_STATUSES,
    )


def order_row(order: orders.Order, names: dict[str, str]) -> dict[str, Any]:
    """What a row of the Orders table shows of one order."""
    return {
        "id": order.id,
        "created": format_time(order.created_at),
        "product": names.get(order.product_id, order.product_id),
        "quantity": order.quantity,
        "total": format_money(order.amount_total, order.currency),
        "email": order.customer.email or "",
        "status": order.status,
        "fulfillment": order.fulfillment.status,
        "ref": order.ref or "",
    }


@bp.get("/orders.csv", endpoint="orders_csv")
@login_required
def orders_csv() -> Response:
    """The filtered orders as the API's CSV export (:func:`orders.orders_csv`, the same columns
    as ``GET /v1/orders.csv``)."""
    with runtime().store.read() as conn:
        document = orders.orders_csv(conn, current_merchant().id, **parse_filters().query())
    return Response(
        document,
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="orders.csv"',
            "Cache-Control": "no-store",
        },
    )


# -- one order ------------------------------------------------------------------------------------


def _load(merchant_id: str, order_id: str) -> tuple[orders.Order, Any, list[orders.OrderEvent]]:
    with runtime().store.read() as conn:
        try:
            order = orders.get_order(conn, order_id, merchant_id=merchant_id)
        except NotFound:
            abort(404)
        product = catalog.get_product(conn, order.product_id, include_deleted=True)
        return order, product, orders.order_events(conn, merchant_id, order_id)


def render_order(
    order_id: str, *, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    merchant_id = current_merchant().id
    order, product, timeline = _load(merchant_id, order_id)
    return render_template(
        "dashboard/order.html",
        order=order,
        product=product,
        timeline=[{"type": e.type, "at": format_time(e.created_at)} for e in timeline],
        created=format_time(order.created_at),
        money={
            "unit": format_money(order.unit_amount, order.currency),
            "subtotal": format_money(order.amount_subtotal, order.currency),
            "shipping": format_money(order.amount_shipping, order.currency),
            "total": format_money(order.amount_total, order.currency),
            "paid": None
            if order.amount_paid is None
            else format_money(order.amount_paid, order.currency),
        },
        errors=errors or {},
        form=request.form if request.method == "POST" else {},
        can_resend=order.status == "paid" and bool(order.customer.email),
    ), status


@bp.get("/orders/<order_id>", endpoint="orders_detail")
@login_required
def order_page(order_id: str) -> tuple[str, int]:
    return render_order(order_id)


def _back(order_id: str, message: str) -> BaseResponse:
    flash(message, "info")
    return redirect(url_for(".orders_detail", order_id=order_id), code=303)


#: Form fields an action's error may be shown beside; any other error is the action's own.
_FIELDS = ("carrier", "tracking_number", "tracking_url")


def _refused(order_id: str, error: BuyButtonError, action: str) -> tuple[str, int]:
    """The order page again, saying why the action was refused, next to its field (the input
    kept), with the error's status."""
    where = error.param if error.param in _FIELDS else action
    return render_order(order_id, errors={where: gettext(error.message)}, status=error.status)


@bp.get("/orders/<order_id>/refund", endpoint="orders_refund_confirm")
@login_required
def confirm_refund(order_id: str) -> tuple[str, int]:
    """Ask before refunding: the amount, to whom, and that it cannot be undone."""
    merchant_id = current_merchant().id
    order, product, _ = _load(merchant_id, order_id)
    paid = order.amount_total if order.amount_paid is None else order.amount_paid
    return render_template(
        "dashboard/refund.html",
        order=order,
        product=product,
        amount=format_money(paid, order.currency),
    ), 200


@bp.post("/orders/<order_id>/refund", endpoint="orders_refund")
@login_required
def refund(order_id: str) -> BaseResponse | tuple[str, int]:
    merchant_id = current_merchant().id
    rt = runtime()
    _load(merchant_id, order_id)  # another merchant's order: 404, never a refund attempt
    try:
        order = orders.refund_order(rt.store, rt.provider, merchant_id, order_id)
    except BuyButtonError as error:
        return _refused(order_id, error, "refund")
    if order.status != "refunded":  # the provider confirms later, by webhook
        return _back(
            order_id, gettext("Refund requested: the payment provider confirms it shortly.")
        )
    return _back(order_id, gettext("The order was refunded."))


@bp.post("/orders/<order_id>/ship", endpoint="orders_ship")
@login_required
def ship(order_id: str) -> BaseResponse | tuple[str, int]:
    merchant_id = current_merchant().id
    _load(merchant_id, order_id)
    try:
        with runtime().store.transaction() as conn:
            orders.fulfill_order(
                conn,
                merchant_id,
                order_id,
                carrier=request.form.get("carrier", "").strip() or None,
                tracking_number=request.form.get("tracking_number", "").strip() or None,
                tracking_url=request.form.get("tracking_url", "").strip() or None,
            )
    except BuyButtonError as error:
        return _refused(order_id, error, "ship")
    return _back(order_id, gettext("The order is marked as shipped."))


@bp.post("/orders/<order_id>/deliver", endpoint="orders_deliver")
@login_required
def deliver(order_id: str) -> BaseResponse | tuple[str, int]:
    merchant_id = current_merchant().id
    _load(merchant_id, order_id)
    try:
        with runtime().store.transaction() as conn:
            orders.deliver_order(conn, merchant_id, order_id)
    except BuyButtonError as error:
        return _refused(order_id, error, "deliver")
    return _back(order_id, gettext("The order is marked as delivered."))


@bp.post("/orders/<order_id>/resend-receipt", endpoint="orders_resend_receipt")
@login_required
def resend(order_id: str) -> BaseResponse | tuple[str, int]:
    """Queue the buyer's receipt again (the mail worker sends it on its next pass)."""
    merchant_id = current_merchant().id
    _load(merchant_id, order_id)
    try:
        resend_receipt(runtime().store, order_id, merchant_id=merchant_id)
    except BuyButtonError as error:
        return _refused(order_id, error, "receipt")
    return _back(order_id, gettext("The receipt is on its way to the buyer again."))


add_translations(
    "fr",
    {
        "Export CSV": "Exporter en CSV",
        "Search by email or order id": "Rechercher par e-mail ou numéro de commande",
        "Any": "Tous",
        "Fulfilment": "Expédition",
        "Product": "Produit",
        "From": "Du",
        "To": "Au",
        "Apply filters": "Filtrer",
        "Clear filters": "Effacer les filtres",
        "Filter orders": "Filtrer les commandes",
        "Orders matching the filters, newest first": "Commandes filtrées, les plus récentes d'abord",
        "All orders, newest first": "Toutes les commandes, les plus récentes d'abord",
        "Date": "Date",
        "Order": "Commande",
        "Quantity": "Quantité",
        "Total": "Total",
        "Buyer email": "E-mail de l'acheteur",
        "No order matches these filters.": "Aucune commande ne correspond à ces filtres.",
        "No orders yet. When a shopper buys through one of your buttons or links, the order "
        "shows here.": "Aucune commande pour l'instant. Quand un client achète par l'un de vos "
        "boutons ou liens, la commande s'affiche ici.",
        "Newest orders": "Commandes les plus récentes",
        "Older orders": "Commandes plus anciennes",
        "Pages of orders": "Pages de commandes",
        "Order %(id)s": "Commande %(id)s",
        "Checkout expired": "Paiement expiré",
        "Checkout canceled": "Paiement annulé",
        "Flagged: the payment did not match the order": "Signalée : le paiement ne correspond "
        "pas à la commande",
        "Flag: %(flag)s": "Signalement : %(flag)s",
        "Items and amounts": "Articles et montants",
        "Item": "Article",
        "%(price)s each": "%(price)s l'unité",
        "Subtotal": "Sous-total",
        "Shipping": "Livraison",
        "Placed": "Passée",
        "Payment": "Paiement",
        "Buyer": "Acheteur",
        "Phone": "Téléphone",
        "Not known yet: the buyer's details are recorded with the payment.": "Pas encore connu : "
        "les coordonnées de l'acheteur sont enregistrées avec le paiement.",
        "Shipping address": "Adresse de livraison",
        "Nothing to ship.": "Rien à expédier.",
        "Not known yet.": "Pas encore connue.",
        "Tracking": "Suivi",
        "Track the parcel": "Suivre le colis",
        "Timeline": "Historique",
        "Update the tracking": "Modifier le suivi",
        "Mark as shipped": "Marquer comme expédiée",
        "Carrier": "Transporteur",
        "Tracking number": "Numéro de suivi",
        "Tracking URL": "URL de suivi",
        "Optional, as the carrier and number: the shopper's email links to it.": "Facultative, "
        "comme le transporteur et le numéro : l'e-mail du client y renvoie.",
        "Save tracking": "Enregistrer le suivi",
        "Mark as delivered": "Marquer comme livrée",
        "Refund…": "Rembourser…",
        "Resend receipt": "Renvoyer le reçu",
        "Waiting for the shopper's payment: nothing to do yet.": "En attente du paiement du "
        "client : rien à faire pour l'instant.",
        "Refunded: nothing left to do.": "Remboursée : plus rien à faire.",
        "This checkout ended without a payment.": "Ce paiement s'est terminé sans règlement.",
        "Refund order %(id)s": "Rembourser la commande %(id)s",
        "Refund this order?": "Rembourser cette commande ?",
        "%(amount)s goes back to the buyer in full, for %(item)s × %(quantity)s.": "%(amount)s "
        "sont rendus intégralement à l'acheteur, pour %(item)s × %(quantity)s.",
        "A refund cannot be undone.": "Un remboursement est définitif.",
        "The goods already left: ask for them back separately.": "La marchandise est déjà "
        "partie : demandez son retour séparément.",
        "Refund %(amount)s": "Rembourser %(amount)s",
        "Keep the order": "Garder la commande",
        "Only a paid order can be refunded; this one is not paid.": "Seule une commande payée "
        "peut être remboursée ; celle-ci ne l'est pas.",
        "Back to the order": "Retour à la commande",
        "Enter a date as YYYY-MM-DD.": "Saisissez une date au format AAAA-MM-JJ.",
        "Choose one of the listed values.": "Choisissez l'une des valeurs proposées.",
        "At most %(n)s characters.": "%(n)s caractères au plus.",
        "The last day must not come before the first.": "Le dernier jour ne peut pas précéder "
        "le premier.",
        "Refund requested: the payment provider confirms it shortly.": "Remboursement demandé : "
        "le prestataire de paiement le confirme sous peu.",
        "The order was refunded.": "La commande a été remboursée.",
        "The order is marked as shipped.": "La commande est marquée comme expédiée.",
        "The order is marked as delivered.": "La commande est marquée comme livrée.",
        "The receipt is on its way to the buyer again.": "Le reçu repart vers l'acheteur.",
        "Only a paid order can be refunded; this one is pending.": "Seule une commande payée "
        "peut être remboursée ; celle-ci est en attente.",
    },
)
