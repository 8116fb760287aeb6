"""The shopper's side: the buy page and its checkout, the order page and its downloads, one click with a saved card
(all on :data:`.blueprint.bp`), the sandbox's test checkout page (:data:`.sandbox.bp`), and the
CSRF checks every shopper form passes (:mod:`.csrf`)."""

from __future__ import annotations

from . import buy, checkout, downloads, oneclick, order_page, sandbox  # noqa: F401 (routes)
from .blueprint import bp

BLUEPRINTS = (bp, sandbox.bp)
