"""One place turns every error into the response its audience expects.

Routes of a JSON blueprint (:func:`json_blueprint`: the merchant API, provider webhooks,
health, the OpenAPI document) and JSON views of other blueprints (:func:`answers_json`: checkout,
the widget's card and beacons, oEmbed, feeds) answer ``{"error": {type, code, message, param}}``;
so does a path under a JSON blueprint's URL prefix that no route matches (``/v1/nope``). Pages
answer a small HTML page with the same status, unless the client's ``Accept`` prefers JSON.
Nothing leaks a stack trace. A database that cannot be used (unreachable, read-only, full) is a
503 ``service_unavailable`` with ``Retry-After``, not a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Flask, Response, current_app, g, jsonify, render_template, request
from flask.globals import request_ctx
from flask.typing import ResponseReturnValue
from gunicorn.http.errors import ParseException
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from buybutton.errors import BuyButtonError, RateLimited, ServiceUnavailable
from buybutton.store import diagnose

from .runtime import runtime

log = logging.getLogger("buybutton")

_JSON_BLUEPRINTS = "buybutton.json_blueprints"  # app.extensions: {name: url_prefix}
View = TypeVar("View", bound=Callable[..., ResponseReturnValue])

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def json_blueprint(bp: Blueprint) -> Blueprint:
    """Declare that every route of ``bp`` answers JSON, errors included; returns ``bp``."""
    bp.record_once(
        lambda state: state.app.extensions.setdefault(_JSON_BLUEPRINTS, {}).__setitem__(
            bp.name, state.url_prefix or bp.url_prefix
        )
    )
    return bp


def answers_json(view: View) -> View:
    """Declare that the view answers JSON, errors included (in a blueprint of pages)."""
    # A marker attribute on the function, read back by wants_json().
    view.answers_json = True  # type: ignore[attr-defined]
    return view


def _endpoint() -> str | None:
    """The endpoint the request's path names; for a 405, the one it names for another method."""
    if request.url_rule is not None:
        return request.endpoint
    exc = request.routing_exception
    adapter = request_ctx.url_adapter
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods and adapter is not None:
        try:
            endpoint, _ = adapter.match(method=list(exc.valid_methods)[0])
        except HTTPException:
            return None
        return str(endpoint)
    return None


def wants_json() -> bool:
    json_blueprints = current_app.extensions.get(_JSON_BLUEPRINTS, {})
    endpoint = _endpoint()
    if endpoint is not None:
        view = current_app.view_functions.get(endpoint)
        if endpoint.rpartition(".")[0] in json_blueprints or getattr(view, "answers_json", False):
            return True
    elif isinstance(request.routing_exception, NotFound) and any(
        prefix and (request.path == prefix or request.path.startswith(prefix.rstrip("/") + "/"))
        for prefix in json_blueprints.values()
    ):
        return True  # no route: ``/v1/nope`` is still the API's
    return (
        request.accept_mimetypes.best_match(("text/html", "application/json")) == "application/json"
    )


def error_response(
    status: int, type_: str, code: str, message: str, param: str | None = None
) -> tuple[Response | str, int]:
    if wants_json():
        body = {"error": {"type": type_, "code": code, "message": message, "param": param}}
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(BuyButtonError)
    def _ours(exc: BuyButtonError) -> ResponseReturnValue:
        body, status = error_response(exc.status, exc.type, exc.code, exc.message, exc.param)
        if exc.retry_after is not None:
            return body, status, {"Retry-After": str(exc.retry_after)}
        return body, status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        type_ = "invalid_request_error" if status < 500 else "api_error"
        message = exc.description or exc.name
        if status == 429:
            return _ours(RateLimited(f"Too many requests ({message}); slow down and retry."))
        response = error_response(status, type_, code, message)
        if status == 405 and isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            body, status = response
            return body, status, {"Allow": ", ".join(exc.valid_methods)}
        return response

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> ResponseReturnValue:
        # Unreachable, read-only, full, locked: the database's state, not a bug. Retrying helps.
        problem = diagnose(exc)
        if problem is None:
            return _unexpected(exc)
        log.warning(
            "database unavailable on %s %s (request %s): %s",
            request.method,
            request.path,
            g.get("request_id"),
            problem.describe(runtime().store.url),
        )
        return _ours(
            ServiceUnavailable(
                "The service cannot use its database right now; retry in a few seconds."
            )
        )

    @app.errorhandler(ParseException)
    def _malformed_body(exc: ParseException) -> ResponseReturnValue:
        # gunicorn parses a chunked body while the app reads it: a broken one (a chunk line
        # over its limit, a bad trailer) surfaces here, the client's fault, not a 500.
        return error_response(
            400,
            "invalid_request_error",
            "invalid_request",
            f"The request body is malformed ({type(exc).__name__}).",
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        # The request id is what a client reports (SDK errors carry it): log it to match.
        log.exception(
            "unhandled error on %s %s (request %s)",
            request.method,
            request.path,
            g.get("request_id"),
        )
        return error_response(
            500,
            "api_error",
            "internal_error",
            "Something went wrong on our side; nothing was charged.",
        )
