"""The Products pages: the list, the form (new and edit), and a product's page with what sells
it (snippet, share link, buy link, QR code) and the links issued for posts."""

from __future__ import annotations

from flask import render_template

from buybutton import catalog

from ..runtime import runtime
from .blueprint import bp
from .sessions import current_merchant, login_required


@bp.get("/products")
@login_required
def products() -> str:
    with runtime().store.read() as conn:
        items, _more = catalog.list_products(conn, current_merchant().id, limit=100)
    return render_template("dashboard/products.html", products=items)
