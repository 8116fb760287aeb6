"""The sandbox provider's TEST MODE checkout page: a plain form, so scripts can pay too."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request
from flask.typing import ResponseReturnValue

from buybutton.errors import BuyButtonError
from buybutton.money import Money
from buybutton.payments.sandbox import SandboxProvider

from ..links import absolute_url
from ..offers import shopper_locale
from ..runtime import runtime
from .csrf import protect_shopper_post

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


def _provider() -> SandboxProvider:
    provider = runtime().provider
    if not isinstance(provider, SandboxProvider):
        abort(404)  # with a real provider configured, the sandbox does not exist
    return provider


def _page(
    session_id: str, error: BuyButtonError | None = None, status: int = 200
) -> tuple[str, int]:
    checkout = _provider().get_checkout(session_id)
    total = Money(checkout.amount, checkout.currency).format(shopper_locale())
    return render_template(
        "shopper/sandbox_checkout.html", checkout=checkout, total=total, error=error
    ), status


@bp.get("/checkout/<session_id>")
def checkout_page(session_id: str) -> ResponseReturnValue:
    return _page(session_id)


@bp.post("/checkout/<session_id>")
def pay(session_id: str) -> ResponseReturnValue:
    protect_shopper_post()
    try:
        next_url = _provider().pay(session_id, request.form.get("card_number"))
    except BuyButtonError as exc:
        return _page(session_id, exc, exc.status)
    return redirect(absolute_url(next_url), code=303)


@bp.post("/checkout/<session_id>/cancel")
def cancel(session_id: str) -> ResponseReturnValue:
    protect_shopper_post()
    return redirect(absolute_url(_provider().cancel(session_id)), code=303)
