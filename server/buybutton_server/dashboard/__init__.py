"""The merchant dashboard: sign-in (:mod:`.auth`, :mod:`.sessions`), products and their links
(:mod:`.products`), API keys and webhook endpoints (:mod:`.developers`), all on
:data:`.blueprint.bp` under ``/dashboard``; :data:`root` sends ``/`` and ``/login`` there."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Flask, redirect, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from . import analytics, auth, developers, orders, products  # noqa: F401 (routes)
from .blueprint import bp
from .sessions import configure

root = Blueprint("root", __name__)


@root.get("/")
def index() -> Response:
    return redirect(url_for("dashboard.home"), 302)


@root.get("/login")
def login() -> Response:
    return redirect(url_for("dashboard.login"), 302)


def _configure(state: BlueprintSetupState) -> None:
    if "buybutton" in state.app.extensions:  # not the URL-map-only app of routes.offline_links
        configure(cast(Flask, state.app))


bp.record_once(_configure)

BLUEPRINTS = (bp, root)
