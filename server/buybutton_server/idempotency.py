"""``Idempotency-Key`` on the merchant API: the HTTP side of :mod:`buybutton.idempotency`.

:func:`install` adds hooks to a blueprint: before a POST, PATCH or DELETE that carries the header,
the key is claimed (or the first response replayed, marked ``Idempotent-Replayed: true``); after
it, the response is recorded (or, for a 5xx, the key released). Install it after the blueprint's
authentication hook, so keys are per merchant and unauthenticated requests never claim one.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from buybutton import idempotency

from .runtime import runtime
from .uploads import is_upload_view

MUTATING_METHODS = frozenset({"POST", "PATCH", "DELETE"})
REPLAYED_HEADER = "Idempotent-Replayed"


def _claim_or_replay() -> Response | None:
    key = request.headers.get(idempotency.HEADER)
    if request.method not in MUTATING_METHODS or key is None:
        return None
    if is_upload_view(current_app, request.endpoint):
        # Fingerprinting would read a 200 MB body into memory; an upload is idempotent anyway
        # (the same bytes are the same stored file), so its key is not claimed.
        return None
    fingerprint = idempotency.request_fingerprint(
        request.method, request.full_path.rstrip("?"), request.get_data(cache=True)
    )
    outcome = idempotency.claim(runtime().store, g.merchant.id, key, fingerprint)
    if isinstance(outcome, idempotency.StoredResponse):
        response = Response(
            outcome.body,
            status=outcome.status,
            content_type=outcome.content_type or "application/json",
        )
        response.headers[REPLAYED_HEADER] = "true"
        return response
    g.idempotency_claim = outcome
    return None


def _record(response: Response) -> Response:
    held = g.pop("idempotency_claim", None)
    if held is not None:
        idempotency.record(
            runtime().store,
            held,
            idempotency.StoredResponse(
                status=response.status_code,
                body=response.get_data(as_text=True),
                content_type=response.content_type,
            ),
        )
    return response


def _release_if_unrecorded(_exc: BaseException | None) -> None:
    # After-request hooks do not run when a response could not be made at all; without this,
    # the key would stay "in use" until its lock times out.
    held = g.pop("idempotency_claim", None)
    if held is not None:
        idempotency.release(runtime().store, held)


def install(bp: Blueprint) -> None:
    """Honor ``Idempotency-Key`` on ``bp``'s mutating routes (call after its auth hook)."""
    bp.before_request(_claim_or_replay)
    bp.after_request(_record)
    bp.teardown_request(_release_if_unrecorded)
