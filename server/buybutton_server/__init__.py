"""The buybutton web app: ``create_app()`` builds it; ``buybutton serve`` runs it under gunicorn.

Blueprints by audience: the merchant API (``api``), public JSON for widgets and checkout
(``public``), shopper pages (``shop``), the offline sandbox checkout (``sandbox``), provider
webhooks (``webhooks``), one click with a saved card (``oneclick``).
Routes stay thin: parse, call the core, render.
"""

from __future__ import annotations

from typing import Mapping

from flask import Flask

from buybutton.config import Settings, load_settings

from .runtime import Runtime


def create_app(config: Mapping | Settings | None = None) -> Flask:
    """Build the app. ``config`` is a :class:`Settings`, or environment-style overrides
    (``{"DATABASE_URL": …}``) laid over the process environment, or ``None``."""
    if isinstance(config, Settings):
        settings = config
    else:
        import os

        settings = load_settings({**os.environ, **(config or {})})
    app = Flask(__name__, instance_path=str(settings.home), instance_relative_config=False)
    app.config.update(SECRET_KEY=settings.secret_keys[-1], JSON_SORT_KEYS=False,
                      MAX_CONTENT_LENGTH=1024 * 1024)
    app.json.sort_keys = False
    app.extensions["buybutton"] = Runtime.from_settings(settings)

    from . import (api, csrf, errors, limits, oneclick, openapi, public, sandbox, security, shop,
                   social, validation, webhooks, widget)
    from . import stats, webhook_endpoints  # noqa: F401  (they add their routes to api.bp)

    errors.register(app)
    security.register(app)
    app.before_request(validation.refuse_untrusted_host)  # before any hook reads the host
    csrf.register(app)
    app.before_request(validation.refuse_nul_characters)
    for blueprint in (api.bp, public.bp, shop.bp, sandbox.bp, openapi.bp, webhooks.bp, oneclick.bp,
                      social.bp, widget.bp):
        app.register_blueprint(blueprint)
    limits.register(app, settings)  # last: it wraps the registered views
    return app
