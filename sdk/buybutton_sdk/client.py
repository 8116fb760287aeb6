"""The :class:`Client`: configuration in one object, the API's resources as its services."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from ._http import APIResponse, HTTPClient
from .services import (
    LicensesService,
    MerchantService,
    OrdersService,
    ProductsService,
    StatsService,
    TokensService,
    WebhookEndpointsService,
)
from .webhooks import Webhooks


class Client:
    """A client of one buybutton server, for one merchant.

    ``api_key``: your secret key (``bb_sk_…``). ``base_url``: your server, e.g.
    ``"https://buy.example.com"``. ``timeout``: seconds per attempt (always set). ``max_retries``:
    how often a failed request is retried (connection errors, timeouts, 429, 5xx) with
    exponential backoff and jitter; mutating requests carry an idempotency key so a retry never
    acts twice. ``session``: a ``requests.Session`` to use (one is made and reused otherwise).
    ``sleep``, ``random`` and ``clock`` replace ``time.sleep``, ``random.random`` and
    ``time.time`` (for tests).

    Services: :attr:`merchant`, :attr:`products`, :attr:`tokens`, :attr:`orders`,
    :attr:`licenses`, :attr:`webhook_endpoints`, and
    :attr:`webhooks` for verifying the events delivered to you. Use it as a context manager, or
    call :meth:`close`, to release its connections.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        timeout: float = 30,
        max_retries: int = 2,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ValueError(
                "base_url must be your server's http(s) URL, e.g. 'https://buy.example.com'"
            )
        self._http = HTTPClient(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            session=session,
            sleep=sleep,
            random=random,
            clock=clock,
        )
        self.merchant = MerchantService(self._http)
        self.products = ProductsService(self._http)
        self.tokens = TokensService(self._http)
        self.orders = OrdersService(self._http)
        self.licenses = LicensesService(self._http)
        self.webhook_endpoints = WebhookEndpointsService(self._http)
        self.stats = StatsService(self._http)
        self.webhooks = Webhooks(clock)

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def raw_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> APIResponse:
        """Call an endpoint no service covers (e.g. ``GET /v1/embed/{token}``, what a widget
        shows) with this client's key, retries and idempotency keys; returns the decoded
        :class:`~buybutton_sdk._http.APIResponse` (``.status``, ``.body``, ``.headers``) and
        raises the same errors as the services."""
        return self._http.request(
            method, path, params=params, json_body=json, idempotency_key=idempotency_key
        )

    def close(self) -> None:
        """Close the HTTP connections this client holds."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r})"
