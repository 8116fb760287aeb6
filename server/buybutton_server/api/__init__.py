"""The merchant API: products and their tokens, orders, the merchant, webhook endpoints, stats
(all on :data:`.blueprint.bp`, ``/v1/…``, Bearer auth), and the OpenAPI document that describes
the whole HTTP API (``/openapi.json``)."""

from __future__ import annotations

from . import merchant, openapi, orders, products, stats, webhook_endpoints  # noqa: F401 (routes)
from .blueprint import bp

BLUEPRINTS = (bp, openapi.bp)
