"""Uploaded product images: which stored sizes are public, and which upload a product shows.

:func:`buybutton.images.process_image` checks, cleans and stores an upload in three sizes (do it
before opening a transaction: it takes a while). :func:`attach_image` then records the sizes as
servable and makes the 600×600 square the product's ``image_url`` (``/images/<key>.jpg``, a path
on the server). The URL names the SHA-256 of the bytes, so it never shows a stale image and can
be cached for a year. :func:`product_image` gives the card (1200×630, for ``og:image``) of a
product whose image is still its upload.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from . import catalog
from .images import ImageVariant, ProcessedImage
from .store.schema import images, product_images

IMAGE_PATH_PREFIX = "/images/"
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True, slots=True)
class ServedImage:
    """One public size: ``key``, ``content_type``, pixel ``width`` and ``height``."""

    key: str
    content_type: str
    width: int
    height: int

    @property
    def path(self) -> str:
        return image_path(self.key, self.content_type)


@dataclass(frozen=True, slots=True)
class ProductImage:
    """The sizes of a product's current upload."""

    product_id: str
    original: ServedImage
    card: ServedImage
    square: ServedImage


def image_path(key: str, content_type: str) -> str:
    """The server path of a stored size: ``/images/<sha256>.<ext>``."""
    return f"{IMAGE_PATH_PREFIX}{key}.{_EXTENSIONS[content_type]}"


def _record(conn: Connection, variant: ImageVariant, stamp: int) -> None:
    if conn.execute(select(images.c.pk).where(images.c.key == variant.key)).first() is None:
        conn.execute(
            insert(images).values(
                key=variant.key,
                content_type=variant.content_type,
                width=variant.width,
                height=variant.height,
                size=variant.size,
                created_at=stamp,
            )
        )


def attach_image(
    conn: Connection,
    merchant_id: str,
    product_id: str,
    processed: ProcessedImage,
    *,
    now: float | None = None,
) -> catalog.Product:
    """Make ``processed`` (stored by :func:`~buybutton.images.process_image`) the image of the
    merchant's product; :class:`~buybutton.errors.NotFound` if it is not theirs."""
    catalog.get_product(conn, product_id, merchant_id=merchant_id)
    stamp = int(now if now is not None else time.time())
    for variant in (processed.original, processed.card, processed.square):
        _record(conn, variant, stamp)
    keys = {
        "original_key": processed.original.key,
        "card_key": processed.card.key,
        "square_key": processed.square.key,
        "updated_at": stamp,
    }
    done = conn.execute(
        update(product_images).where(product_images.c.product_id == product_id).values(**keys)
    )
    if done.rowcount == 0:
        conn.execute(insert(product_images).values(product_id=product_id, **keys))
    square = processed.square
    return catalog.update_product(
        conn,
        merchant_id,
        product_id,
        {"image_url": image_path(square.key, square.content_type)},
        now=stamp,
    )


def served_image(conn: Connection, key: str) -> ServedImage | None:
    """The public size stored under ``key``, or ``None`` (not an image size we serve)."""
    row = conn.execute(select(images).where(images.c.key == key)).first()
    if row is None:
        return None
    return ServedImage(row.key, row.content_type, row.width, row.height)


def product_image(conn: Connection, product: catalog.Product) -> ProductImage | None:
    """The sizes of ``product``'s uploaded image, if its ``image_url`` is still that upload."""
    row = conn.execute(
        select(product_images).where(product_images.c.product_id == product.id)
    ).first()
    if row is None:
        return None
    sizes = {
        r.key: ServedImage(r.key, r.content_type, r.width, r.height)
        for r in conn.execute(
            select(images).where(images.c.key.in_([row.original_key, row.card_key, row.square_key]))
        )
    }
    try:
        found = ProductImage(
            product.id, sizes[row.original_key], sizes[row.card_key], sizes[row.square_key]
        )
    except KeyError:
        return None
    return found if product.image_url == found.square.path else None
