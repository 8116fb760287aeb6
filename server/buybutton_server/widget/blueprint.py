"""The widget's blueprint: what ``<buy-button>`` loads, reads and reports, from any origin."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("widget", __name__)
