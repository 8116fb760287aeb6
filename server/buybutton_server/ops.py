"""``GET /healthz``: what a load balancer or an orchestrator asks before sending traffic."""

from __future__ import annotations

import logging
import time

from flask import Blueprint
from flask.typing import ResponseReturnValue

from buybutton.errors import ServiceUnavailable
from buybutton.store import diagnose

from .errors import json_blueprint
from .runtime import runtime

bp = json_blueprint(Blueprint("ops", __name__))
log = logging.getLogger("buybutton")


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Ready when the database takes a write (one small row): a read-only, full or unreachable
    database answers 503 with ``database`` saying which (see :class:`DatabaseProblem`)."""
    rt = runtime()
    try:
        rt.store.check_writable(int(time.time()))
    except Exception as exc:  # any database failure means not ready
        problem = diagnose(exc)
        log.warning("healthz: %s", problem.describe(rt.store.url) if problem else repr(exc))
        return (
            {"status": "unavailable", "database": problem.reason if problem else "error"},
            503,
            {"Retry-After": str(ServiceUnavailable.retry_after)},
        )
    return {"status": "ok", "database": "ok", "payment_provider": rt.provider.name}
