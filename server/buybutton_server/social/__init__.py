"""Social surfaces of an offer: the share page and its iframe card, oEmbed, QR codes, the social
card image and the catalog feeds, all on :data:`.blueprint.bp`."""

from __future__ import annotations

from . import feeds, images, oembed, pages  # noqa: F401 (routes)
from .blueprint import bp

__all__ = ["bp"]
