"""The social surfaces' blueprint: every route is public and derived from a signed token."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("social", __name__)
