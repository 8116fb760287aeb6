"""The buybutton web app: ``create_app()`` builds it; ``buybutton serve`` runs it under gunicorn
(:mod:`.serving`).

Blueprints by audience (:mod:`.routes` lists them): the merchant API (:mod:`.api`), the shopper's
pages and checkout (:mod:`.shopper`), the social surfaces (:mod:`.social`), the widget's
endpoints (:mod:`.widget`), inbound provider webhooks (:mod:`.stripe_webhooks`), the demo shop
(:mod:`.demo`) and health (:mod:`.ops`). What they share sits beside them: the runtime, errors,
security headers, rate limits, input validation, idempotency and links.
Routes stay thin: parse, call the core, render.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from buybutton.config import Settings, load_settings

from . import compression, errors, limits, routes, security, uploads, validation
from .runtime import Runtime
from .shopper import csrf
from .widget.fast304 import WidgetRevalidation


def create_app(config: Mapping[str, str] | Settings | None = None) -> Flask:
    """Build the app. ``config`` is a :class:`Settings`, or environment-style overrides
    (``{"DATABASE_URL": …}``) laid over the process environment, or ``None``."""
    if isinstance(config, Settings):
        settings = config
    else:
        settings = load_settings({**os.environ, **(config or {})})
    app = Flask(__name__, instance_path=str(settings.home), instance_relative_config=False)
    app.config.update(
        SECRET_KEY=settings.secret_keys[-1], JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=1024 * 1024
    )
    if isinstance(app.json, DefaultJSONProvider):  # Flask's own: the only one it makes
        app.json.sort_keys = False
    app.extensions["buybutton"] = Runtime.from_settings(settings)

    errors.register(app)
    security.register(app)
    compression.register(app, settings)
    app.before_request(validation.refuse_untrusted_host)  # before any hook reads the host
    csrf.register(app)
    app.before_request(validation.refuse_nul_characters)
    routes.register_blueprints(app)
    # Inside ProxyFix (installed by limits.register), so it sees the forwarded host.
    app.wsgi_app = WidgetRevalidation(  # type: ignore[method-assign]
        app.wsgi_app, trusted_hosts=settings.trusted_hosts
    )
    limits.register(app, settings)  # last: it wraps the registered views
    uploads.install(app, max_upload_bytes=settings.max_upload_bytes, home=settings.home)
    return app
