"""The merchant API: products (their files and tokens), orders, licence keys, the merchant, webhook endpoints, stats
(all on :data:`.blueprint.bp`, ``/v1/…``, Bearer auth), and the OpenAPI document that describes
the whole HTTP API (``/openapi.json``)."""

from __future__ import annotations

from . import (  # noqa: F401 (routes)
    licenses,
    merchant,
    openapi,
    orders,
    products,
    stats,
    webhook_endpoints,
)
from .blueprint import bp

BLUEPRINTS = (bp, openapi.bp)
