"""``GET /v1/feeds/<merchant>.csv|xml``: a merchant's catalog feed (Meta, Google Merchant Center)."""

from __future__ import annotations

from flask import Response
from flask.typing import ResponseReturnValue

from buybutton import feeds

from ..errors import answers_json
from ..links import public_url, request_links
from ..runtime import runtime
from .blueprint import bp


@bp.get("/v1/feeds/<merchant_id>.<any(csv, xml):kind>")
@answers_json
def catalog_feed(merchant_id: str, kind: str) -> ResponseReturnValue:
    rt, links = runtime(), request_links()
    with rt.store.read() as conn:
        feed = feeds.build_feed(
            conn,
            rt.signer,
            merchant_id,
            share_url=links.share_url,
            image_url=lambda product, token: (
                links.absolute(product.image_url) or links.card_image_url(token)
            ),
            link_ttl=rt.settings.feed_link_ttl_seconds,
            now=rt.clock(),
        )
    headers = {"Cache-Control": "public, max-age=300"}
    if kind == "csv":
        return Response(feeds.feed_csv(feed), mimetype="text/csv", headers=headers)
    return Response(
        feeds.feed_rss(feed, link=public_url("/")), mimetype="application/rss+xml", headers=headers
    )
