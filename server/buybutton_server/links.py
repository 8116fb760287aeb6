"""Absolute URLs of this server's pages, built from its routes (``url_for``), never by hand.

With ``BUYBUTTON_PUBLIC_URL`` set, links name it, whatever host a request carried; without it,
they name the request's host, which :func:`~.validation.refuse_untrusted_host` checked against
the allowed hosts (loopback by default): a request naming another host was answered 400 before
any view ran. Outside a request (the command line) :func:`.routes.offline_links` builds the same
links from the same URL map.

:class:`Links` is what the core receives (:class:`buybutton.offers.OfferLinks`): the core knows
no route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, overload
from urllib.parse import urlsplit

import buybutton_widget
from flask import current_app, request, url_for
from werkzeug.routing import Map

from .runtime import runtime

#: ``build(endpoint, **values)`` → an absolute URL.
Build = Callable[..., str]


def public_url(path: str = "") -> str:
    """An absolute URL on this server: ``BUYBUTTON_PUBLIC_URL`` if set, else the request's
    (validated) host; for what no route builds (a product's stored ``/static/…`` image)."""
    base = runtime().settings.public_url or request.host_url.rstrip("/")
    return base + path


@overload
def absolute_url(url: str) -> str: ...


@overload
def absolute_url(url: None) -> None: ...


def absolute_url(url: str | None) -> str | None:
    """``url`` made absolute when it is a path on this server; other URLs as they are."""
    if url and url.startswith("/") and not url.startswith("//"):
        return public_url(url)
    return url


def map_builder(url_map: Map, base_url: str) -> Build:
    """A builder of absolute URLs on ``base_url`` (an origin: ``scheme://host[:port]``)."""
    parts = urlsplit(base_url)
    adapter = url_map.bind(parts.netloc, url_scheme=parts.scheme)
    return lambda endpoint, **values: adapter.build(endpoint, values, force_external=True)


def external_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)``, absolute, on the public URL (or the request's host)."""
    public = runtime().settings.public_url
    if public is None:
        return url_for(endpoint, _external=True, **values)
    return map_builder(current_app.url_map, public)(endpoint, **values)


@dataclass(frozen=True, slots=True)
class Links:
    """The links of offers, orders and the widget, built by ``build`` on ``base_url``."""

    build: Build
    base_url: str

    # -- buybutton.offers.OfferLinks --
    def share_url(self, token: str, ref: str | None = None) -> str:
        return self.build("social.share_page", token=token, ref=ref)

    def buy_url(self, token: str, ref: str | None = None) -> str:
        return self.build("shopper.buy_page", token=token, ref=ref)

    def qr_url(self, token: str) -> str:
        return self.build("social.qr_code", token=token, kind="svg")

    def widget_script_url(self) -> str:
        return self.build("widget.widget_script")

    def absolute(self, url: str | None) -> str | None:
        if url and url.startswith("/") and not url.startswith("//"):
            return self.base_url + url
        return url

    # -- the server's own --
    def pinned_widget_url(self) -> str:
        """The versioned (immutable, cacheable for a year) URL of the current widget."""
        return self.build("widget.widget_script", v=buybutton_widget.asset().version)

    def embed_url(self, token: str) -> str:
        return self.build("social.embed_card", token=token)

    def card_image_url(self, token: str) -> str:
        return self.build("social.card_image", token=token)

    def oembed_url(self, share_url: str, fmt: str) -> str:
        return self.build("social.oembed", url=share_url, format=fmt)

    def download_url(self, token: str) -> str:
        """A paid order's download link (:class:`buybutton.digital.DownloadLinks`)."""
        return self.build("shopper.download", token=token)

    def order_url(self, order_ref: str, **query: str) -> str:
        """The order status page of a signed order reference."""
        return self.build("shopper.order_page", ref=order_ref, **query)


def request_links() -> Links:
    """The links of the current request's server (see the module's docstring)."""
    return Links(build=external_url, base_url=public_url())
