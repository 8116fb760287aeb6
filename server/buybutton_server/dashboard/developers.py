"""The Developers page: the merchant's API keys (listed by their last four characters, created
and shown once, revoked) and webhook endpoints (created with their secret shown once, deleted,
their recent deliveries listed and resent), through the core the API uses
(:mod:`buybutton.merchants`, :mod:`buybutton.webhooks`)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from buybutton import merchants, webhooks
from buybutton.errors import BuyButtonError, ErrorCode

from ..runtime import runtime
from .blueprint import bp
from .i18n import gettext as _
from .sessions import current_merchant, login_required


def _date(stamp: int | None) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC") if stamp else ""


def _page(
    *,
    new_key: str | None = None,
    new_secret: str | None = None,
    endpoint_errors: dict[str, str] | None = None,
    endpoint_values: dict[str, object] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    merchant = current_merchant()
    with runtime().store.read() as conn:
        keys = merchants.list_api_keys(conn, merchant.id)
        endpoints, _more = webhooks.list_endpoints(conn, merchant.id, limit=webhooks.MAX_ENDPOINTS)
        deliveries = webhooks.recent_deliveries(conn, merchant.id, limit=20)
    page = render_template(
        "dashboard/developers.html",
        keys=keys,
        endpoints=endpoints,
        deliveries=deliveries,
        event_types=webhooks.EVENT_TYPES,
        new_key=new_key,
        new_secret=new_secret,
        endpoint_errors=endpoint_errors or {},
        endpoint_values=endpoint_values or {"url": "", "events": []},
        date=_date,
    )
    # A page showing a secret once must never be kept by anything (the blueprint says no-store).
    return page, status


@bp.get("/developers")
@login_required
def developers() -> tuple[str, int]:
    return _page()


@bp.post("/developers/api_keys")
@login_required
def create_api_key() -> tuple[str, int]:
    with runtime().store.transaction() as conn:
        _key, secret = merchants.create_api_key(conn, current_merchant().id, now=runtime().clock())
    return _page(new_key=secret, status=201)


@bp.post("/developers/api_keys/<key_id>/revoke")
@login_required
def revoke_api_key(key_id: str) -> Response:
    with runtime().store.transaction() as conn:
        merchants.revoke_api_key(conn, current_merchant().id, key_id, now=runtime().clock())
    flash(_("API key revoked: requests with it are refused from now on."), "info")
    return redirect(url_for("dashboard.developers"), 303)


@bp.post("/developers/webhook_endpoints")
@login_required
def create_webhook_endpoint() -> tuple[str, int]:
    rt = runtime()
    chosen = [event for event in request.form.getlist("events") if event]
    values: dict[str, object] = {"url": request.form.get("url", "").strip(), "events": chosen}
    try:
        endpoint = webhooks.register_endpoint(
            rt.store,
            current_merchant().id,
            {"url": values["url"], "events": chosen or [webhooks.ALL_EVENTS]},
            allow_private=rt.settings.webhook_allow_private,
        )
    except BuyButtonError as exc:
        # The core's message names the problem (not https, a private address, too many…).
        field = "events" if exc.param == "events" else "url"
        return _page(endpoint_errors={field: exc.message}, endpoint_values=values, status=400)
    return _page(new_secret=endpoint.secret, status=201)


@bp.post("/developers/webhook_endpoints/<endpoint_id>/delete")
@login_required
def delete_webhook_endpoint(endpoint_id: str) -> Response:
    with runtime().store.transaction() as conn:
        webhooks.delete_endpoint(conn, current_merchant().id, endpoint_id, now=runtime().clock())
    flash(_("Endpoint deleted."), "info")
    return redirect(url_for("dashboard.developers"), 303)


@bp.post("/developers/deliveries/<int:delivery_id>/resend")
@login_required
def resend_delivery(delivery_id: int) -> Response:
    try:
        with runtime().store.transaction() as conn:
            webhooks.resend_delivery(
                conn, current_merchant().id, delivery_id, now=runtime().clock()
            )
    except BuyButtonError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            raise
        flash(exc.message, "error")
    else:
        flash(_("Delivery queued again."), "info")
    return redirect(url_for("dashboard.developers", _anchor="deliveries"), 303)
