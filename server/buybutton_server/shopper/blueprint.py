"""The shopper's pages (buy page, order page, one click) and the buy page's checkout call."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shopper", __name__)
