"""One place turns every error into the response its audience expects.

JSON paths (``/v1/…``, ``/webhooks/…``, ``/oembed``, ``/healthz``, ``/openapi.json``) answer
``{"error": {type, code, message, param}}``; pages answer a small HTML page with the same status.
Nothing leaks a stack trace. A database that cannot be used (unreachable, read-only, full) is a
503 ``service_unavailable`` with ``Retry-After``, not a 500.
"""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from buybutton.errors import BuyButtonError, RateLimited, ServiceUnavailable
from buybutton.store import diagnose

from .runtime import runtime

log = logging.getLogger("buybutton")

_JSON_PREFIXES = ("/v1/", "/webhooks/", "/oembed", "/healthz", "/openapi.json")

_HTTP_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "request_too_large", 415: "unsupported_media_type",
               429: "rate_limited"}


def wants_json() -> bool:
    return request.path.startswith(_JSON_PREFIXES)


def error_response(status: int, type_: str, code: str, message: str, param: str | None = None):
    if wants_json():
        body = {"error": {"type": type_, "code": code, "message": message, "param": param}}
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(BuyButtonError)
    def _ours(exc: BuyButtonError):
        body, status = error_response(exc.status, exc.type, exc.code, exc.message, exc.param)
        if exc.retry_after is not None:
            return body, status, {"Retry-After": str(exc.retry_after)}
        return body, status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        type_ = "invalid_request_error" if status < 500 else "api_error"
        message = exc.description or exc.name
        if status == 429:
            return _ours(RateLimited(f"Too many requests ({message}); slow down and retry."))
        response = error_response(status, type_, code, message)
        if status == 405 and exc.valid_methods:
            body, status = response
            return body, status, {"Allow": ", ".join(exc.valid_methods)}
        return response

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError):
        # Unreachable, read-only, full, locked: the database's state, not a bug. Retrying helps.
        problem = diagnose(exc)
        if problem is None:
            return _unexpected(exc)
        log.warning("database unavailable on %s %s (request %s): %s", request.method,
                    request.path, g.get("request_id"),
                    problem.describe(runtime().store.url))
        return _ours(ServiceUnavailable(
            "The service cannot use its database right now; retry in a few seconds."))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # The request id is what a client reports (SDK errors carry it): log it to match.
        log.exception("unhandled error on %s %s (request %s)", request.method, request.path,
                      g.get("request_id"))
        return error_response(500, "api_error", "internal_error",
                              "Something went wrong on our side; nothing was charged.")
