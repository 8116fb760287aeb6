"""Rate limits on the public endpoints, with flask-limiter.

Checkout reserves stock, so an unthrottled bot could hold a whole product hostage with pending
orders; the sandbox card form invites card testing. Counters live in Redis when ``REDIS_URL`` is
set, so every server process behind a load balancer shares them; in process memory otherwise,
which is why ``buybutton serve`` refuses several workers without ``REDIS_URL``
(buybutton_server.serving.check_serving): each would count on its own, multiplying every limit.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import MemoryStorage
from werkzeug.middleware.proxy_fix import ProxyFix

from buybutton.config import Settings
from buybutton.errors import RateLimited


class SweptMemoryStorage(MemoryStorage):
    """The in-process counters (``buybutton-memory://``), as limits' ``memory://`` but cheaper:
    that one starts a timer thread on nearly every hit, and each run reads every key (one per
    client address) again. Here lapsed keys are dropped by a sweep at most once a second, in
    the request that finds one due, so memory holds the clients of the current windows only and
    a hit costs a dictionary update."""

    STORAGE_SCHEME = ["buybutton-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the parent's first timer: sweeps happen in requests instead
        self._next_sweep = 0.0
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the parent's private hook, per hit
        now = time.time()
        if now < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweeping.release()

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_sweeping", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.timer.cancel()
        self._sweeping = threading.Lock()

    def __len__(self) -> int:
        """Keys held now (counters and their expiries)."""
        return len(self.storage)


def register(app: Flask, settings: Settings) -> Limiter:
    """Attach a limiter to ``app`` and limit its public, state-changing endpoints."""
    if settings.trusted_proxies:
        # Behind N proxies the client's address is the Nth from the right of X-Forwarded-For.
        # Flask's documented way to wrap its WSGI app; mypy sees a method being replaced.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies,
        )
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.redis_url or "buybutton-memory://",
        headers_enabled=True,
        key_prefix="buybutton",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limits = {
        "shopper.checkout": settings.checkout_rate_limit,
        "shopper.buy_without_script": settings.checkout_rate_limit,
        "shopper.pay_with_saved_card": settings.checkout_rate_limit,
        "shopper.checkout_outcome_of": settings.checkout_outcome_rate_limit,
        "sandbox.pay": "30/minute",
        # widget.embed: its cached answers cost no database work, so only the requests that
        # render (a new offer, an expired entry, a bad token) count: :func:`hit_uncached`.
        # Counters are only worth reading if one client cannot inflate them at will.
        "widget.funnel_beacon": "120/minute",
    }
    for endpoint, rate in limits.items():
        if endpoint in app.view_functions:
            # flask-limiter types what its decorator returns as sync-or-async; these views are
            # sync, and so is the wrapper it returns for them.
            app.view_functions[endpoint] = limiter.limit(rate)(app.view_functions[endpoint])  # type: ignore[assignment]
    _limit_sign_in(app, limiter, settings)
    app.extensions["buybutton_limiter"] = limiter
    return limiter


def _failed(response: Response) -> bool:
    return response.status_code >= 400


def _sign_in_email() -> str:
    """The per-account key of a sign-in attempt: the email it names, normalized."""
    return "login:" + request.form.get("email", "").strip().lower()[:254]


def _limit_sign_in(app: Flask, limiter: Limiter, settings: Settings) -> None:
    """Failed dashboard sign-ins, per client address and per account (the email tried), so
    neither one address trying many accounts nor many addresses trying one account get far.
    Only failures count: a merchant who signs in often is never locked out by it."""
    for endpoint in ("dashboard.login",):
        if endpoint not in app.view_functions:
            continue
        view = app.view_functions[endpoint]
        view = limiter.limit(
            settings.login_ip_rate_limit,
            methods=["POST"],
            deduct_when=_failed,
            scope="login-ip",
        )(view)  # type: ignore[assignment]
        view = limiter.limit(
            settings.login_rate_limit,
            key_func=_sign_in_email,
            methods=["POST"],
            deduct_when=_failed,
            scope="login-account",
        )(view)  # type: ignore[assignment]
        app.view_functions[endpoint] = view


#: Renders of offers (cache misses) one client may cause per minute.
UNCACHED_RATE = parse("600/minute")


def hit_uncached() -> None:
    """Count one render of an offer for the client (a cache miss of the widget's card or the
    share page); :class:`RateLimited` beyond :data:`UNCACHED_RATE`. The counter lives where
    the limiter's do (Redis when set)."""
    limiter = current_app.extensions.get("buybutton_limiter")
    if limiter is None or not limiter.enabled:
        return
    if not limiter.limiter.hit(UNCACHED_RATE, "buybutton", "offer-render", get_remote_address()):
        raise RateLimited(
            f"Too many requests ({UNCACHED_RATE}); slow down and retry.",
        )
