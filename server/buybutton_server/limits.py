"""Rate limits on the public endpoints, with flask-limiter.

Checkout reserves stock, so an unthrottled bot could hold a whole product hostage with pending
orders; the sandbox card form invites card testing. Counters live in Redis when ``REDIS_URL`` is
set, so every server process behind a load balancer shares them; in process memory otherwise,
which is why ``buybutton serve`` refuses several workers without ``REDIS_URL``
(buybutton_server.serving.check_serving): each would count on its own, multiplying every limit.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from buybutton.config import Settings


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
        storage_uri=settings.redis_url or "memory://",
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
        "widget.embed": "600/minute",
        # Counters are only worth reading if one client cannot inflate them at will.
        "widget.funnel_beacon": "120/minute",
    }
    for endpoint, rate in limits.items():
        if endpoint in app.view_functions:
            # flask-limiter types what its decorator returns as sync-or-async; these views are
            # sync, and so is the wrapper it returns for them.
            app.view_functions[endpoint] = limiter.limit(rate)(app.view_functions[endpoint])  # type: ignore[assignment]
    return limiter
