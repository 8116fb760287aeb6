"""A product's file (a digital good), uploaded and removed the same way by the API
(``POST/DELETE /v1/products/{id}/file``) and the dashboard's product page: streamed from the
request into storage (:class:`~.uploads.MultipartFile`), attached by the core, and a stored
file no product uses any more deleted."""

from __future__ import annotations

from buybutton import catalog, digital

from .runtime import Runtime
from .uploads import MultipartFile


def open_upload(rt: Runtime, merchant_id: str, product_id: str) -> MultipartFile:
    """The request's ``file`` part, opened (its file name read, nothing stored yet), after
    checking that the product is the merchant's (404 before reading a byte of the file)."""
    with rt.store.read() as conn:
        catalog.get_product(conn, product_id, merchant_id=merchant_id)
    upload = MultipartFile("file", max_bytes=rt.settings.max_upload_bytes)
    upload.open()
    return upload


def store_upload(
    rt: Runtime, merchant_id: str, product_id: str, upload: MultipartFile
) -> catalog.Product:
    """Stream an opened upload into storage and make it the product's file (replacing any)."""
    name = catalog.clean_file_name(upload.filename)
    stored = rt.storage.save(upload, max_bytes=rt.settings.max_upload_bytes)
    try:
        with rt.store.transaction() as conn:
            product, replaced = catalog.attach_file(
                conn, merchant_id, product_id, stored, name=name
            )
    except BaseException:
        digital.forget_file(
            rt.store, rt.storage, stored.key
        )  # e.g. the product was deleted during the upload
        raise
    digital.forget_file(rt.store, rt.storage, replaced)
    return product


def remove_file(rt: Runtime, merchant_id: str, product_id: str) -> catalog.Product:
    """Take the product's file away (its orders' downloads stop)."""
    with rt.store.transaction() as conn:
        product, released = catalog.detach_file(conn, merchant_id, product_id)
    digital.forget_file(rt.store, rt.storage, released)
    return product
