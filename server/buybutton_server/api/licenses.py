"""``/v1/licenses/{key}``: is a licence key one of the merchant's, and is it still valid?"""

from __future__ import annotations

from typing import Any

from flask import g

from buybutton import digital

from ..runtime import runtime
from .blueprint import bp


@bp.get("/licenses/<key>")
def verify_license(key: str) -> dict[str, Any]:
    with runtime().store.read() as conn:
        return digital.verify_license(conn, g.merchant.id, key)
