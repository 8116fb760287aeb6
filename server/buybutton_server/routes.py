"""Every blueprint of the app, in registration order, and the URL map they make.

:func:`offline_links` builds the server's links without a request (the command line's
``tokens issue`` and ``demo``), from the very routes the app serves.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Blueprint, Flask

from . import api, dashboard, demo, ops, shopper, social, stripe_webhooks, widget
from .links import Links, map_builder

BLUEPRINTS: tuple[Blueprint, ...] = (
    *api.BLUEPRINTS,
    *shopper.BLUEPRINTS,
    social.bp,
    widget.bp,
    stripe_webhooks.bp,
    demo.bp,
    ops.bp,
    *dashboard.BLUEPRINTS,
)


def register_blueprints(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


@lru_cache(maxsize=1)
def _url_map_app() -> Flask:
    # The routes only: no settings, store or provider (nothing here serves a request).
    app = Flask("buybutton_server")
    register_blueprints(app)
    return app


def offline_links(base_url: str) -> Links:
    """The links :func:`.links.request_links` builds, on ``base_url`` (an origin), outside any
    request."""
    return Links(build=map_builder(_url_map_app().url_map, base_url), base_url=base_url)
