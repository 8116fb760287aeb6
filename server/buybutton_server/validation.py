"""Parsing request input at the edge, with errors that name the offending field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, overload

from flask import request
from werkzeug.sansio.utils import host_is_trusted

from buybutton.errors import ErrorCode, InvalidRequest

from .runtime import runtime


def refuse_untrusted_host() -> None:
    """Before every request: a ``Host`` (behind trusted proxies, ``X-Forwarded-Host``) not in
    :attr:`Settings.trusted_hosts <buybutton.config.Settings.trusted_hosts>` is a 400, so a link
    built from the request (no ``BUYBUTTON_PUBLIC_URL``) never names a host a client made up.

    Not Flask's ``TRUSTED_HOSTS``: that fails while routing, before any URL can be built, so
    the error page could not be rendered."""
    trusted = runtime().settings.trusted_hosts
    # A load balancer's health check names the server by its address; health builds no links.
    if request.endpoint == "ops.healthz":
        return
    if trusted is not None and not host_is_trusted(request.host, trusted):
        raise InvalidRequest(
            "This server does not answer to that host name.", code=ErrorCode.UNTRUSTED_HOST
        )


def refuse_nul_characters() -> None:
    """Before every request: a NUL character (``%00``) in the path or the query is a 400.

    PostgreSQL text cannot hold NUL, so an id like ``prod_%00`` would otherwise reach a query
    and fail there with a 500 (SQLite merely finds nothing). Lone surrogates cannot arrive here:
    Werkzeug decodes the path with replacement characters and keeps invalid UTF-8 in the query
    and form percent-encoded; JSON bodies are checked by :func:`json_body`."""
    if "\x00" in request.path:
        raise InvalidRequest("The URL path may not contain NUL characters.")
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise InvalidRequest(
                "Query parameters may not contain NUL characters.", param=name.replace("\x00", "")
            )


# What no database column can store: NUL (PostgreSQL text) and lone UTF-16 surrogates, which JSON
# can spell ("\ud800") but UTF-8 cannot encode (SQLite and PostgreSQL drivers fail on them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(value: Any) -> str | None:
    """What in ``value`` (a decoded JSON value, keys included) no database can store, or None."""
    # A loop, not recursion: a body nested a few hundred deep must not exhaust the stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            found = _UNSTORABLE.search(item)
            if found:
                return "NUL characters" if found.group() == "\x00" else "unpaired UTF-16 surrogates"
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def json_body() -> dict[str, Any]:
    """The request's JSON object; an empty body counts as ``{}``."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if not request.is_json:
        raise InvalidRequest(
            "Send a JSON body with 'Content-Type: application/json'.", code=ErrorCode.INVALID_JSON
        )
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # "silent" covers ValueError only
        raise InvalidRequest(
            "The request body is nested too deeply.", code=ErrorCode.INVALID_JSON
        ) from None
    if data is None:
        raise InvalidRequest("The request body is not valid JSON.", code=ErrorCode.INVALID_JSON)
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.", code=ErrorCode.INVALID_JSON)
    refuse_unstorable(data)
    return data


def refuse_unstorable(data: dict[str, Any]) -> None:
    """A 400 naming the top-level field of a decoded JSON object that holds, at any depth and in
    keys too, what no database stores (NUL, lone surrogates); see :func:`refuse_nul_characters`."""
    for key, value in data.items():
        what = _unstorable(key) or _unstorable(value)
        if what:
            name = _UNSTORABLE.sub("", key)
            raise InvalidRequest(f"{name} may not contain {what}.", param=name)


@overload
def query_int(name: str, default: int, *, minimum: int, maximum: int) -> int: ...


@overload
def query_int(name: str, default: None, *, minimum: int, maximum: int) -> int | None: ...


def query_int(name: str, default: int | None, *, minimum: int, maximum: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    message = f"{name} must be an integer from {minimum} to {maximum}."
    try:
        value = int(raw)
    except ValueError:  # not digits, or more than int() parses
        raise InvalidRequest(message, param=name) from None
    if not minimum <= value <= maximum:
        raise InvalidRequest(message, param=name)
    return value


#: The largest Unix time a query accepts: what the tables' integer time columns hold (2038).
MAX_TIME = 2_147_483_647


def query_time(name: str) -> int | None:
    """The query's Unix time ``name`` (whole seconds), or ``None`` when absent."""
    if not request.args.get(name):
        return None
    return query_int(name, 0, minimum=0, maximum=MAX_TIME)


def query_bool(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise InvalidRequest(f"{name} must be true or false.", param=name)


def query_str(name: str, *, max_length: int = 255) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length:
        raise InvalidRequest(f"{name} is too long.", param=name)
    return raw


def form_quantity() -> object:
    """The form's ``quantity`` (default 1): an int when it is written in ASCII digits, else the
    raw text, which the core then rejects with its precise message."""
    raw = request.form.get("quantity", "1")
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:  # int() refuses over 4300 digits
        return int(raw)
    return raw


def page_params() -> tuple[int, str | None]:
    """``limit`` (1–100, default 20) and ``starting_after`` of a list request."""
    return query_int("limit", 20, minimum=1, maximum=100), query_str("starting_after")


class _Listable(Protocol):
    def to_dict(self) -> Mapping[str, object]: ...


def list_response(items: Iterable[_Listable], has_more: bool, url: str) -> dict[str, Any]:
    return {
        "object": "list",
        "url": url,
        "data": [item.to_dict() for item in items],
        "has_more": has_more,
    }
