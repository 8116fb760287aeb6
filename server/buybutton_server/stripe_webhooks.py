"""Inbound provider webhooks: ``POST /webhooks/stripe``.

The body is verified as the raw bytes Stripe signed (``request.get_data()``), translated by the
provider and applied by the core. Event types we do not act on answer 200 so Stripe stops
retrying them; a bad signature answers 400 and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask.typing import ResponseReturnValue

from buybutton.reconcile import receive_provider_event

from .errors import json_blueprint
from .runtime import runtime

bp = json_blueprint(Blueprint("stripe_webhooks", __name__, url_prefix="/webhooks"))


@bp.post("/stripe")
def stripe_webhook() -> ResponseReturnValue:
    rt = runtime()
    if rt.provider.name != "stripe":
        abort(404, "Stripe is not this shop's payment provider.")
    event = rt.provider.parse_webhook(request.get_data(), request.headers)
    if event is None:
        return {"received": True, "applied": False}
    receive_provider_event(rt.store, rt.provider.name, event)
    return {"received": True, "applied": True}
