"""The ``<buy-button>`` widget's endpoints: its script (``/widget.js``), the product card it
shows (``/v1/embed/<token>``) and its funnel beacons (``/v1/funnel``, alias ``/v1/events``)."""

from __future__ import annotations

from . import embed, funnel, script  # noqa: F401 (routes)
from .blueprint import bp

__all__ = ["bp"]
