"""The API's resources, one service each, hanging off :class:`~buybutton_sdk.Client`.

Every mutating method takes an optional ``idempotency_key``: without one the SDK generates a key
per call (reused by its own retries); pass your own (e.g. derived from your record's id) to make
a call safe to repeat across restarts of your program too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from ._http import HTTPClient, MultipartUpload
from .models import (
    DeletedObject,
    License,
    Merchant,
    Order,
    Product,
    Stats,
    Token,
    WebhookEndpoint,
)
from .pagination import ListIterator


class _Unset:
    """Marks a parameter not given, where ``None`` is a meaningful value (e.g. unlimited stock)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # typed Any so it fits every parameter's default


def _segment(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("an id must be a non-empty string")
    return quote(value, safe="")


def _has_fileno(file: IO[bytes]) -> bool:
    try:
        file.fileno()
    except (AttributeError, OSError, ValueError):  # BytesIO: io.UnsupportedOperation
        return False
    return True


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not UNSET}


class _Service:
    def __init__(self, http: HTTPClient) -> None:
        self._http = http

    def _list(self, path: str, cls: Any, params: dict[str, Any]) -> ListIterator[Any]:
        return ListIterator(
            lambda query: self._http.request("GET", path, params=query).body, cls, params
        )


class ProductsService(_Service):
    """``/v1/products``: what you sell."""

    def create(
        self,
        *,
        name: str,
        amount: int,
        currency: str,
        description: str | _Unset = UNSET,
        image_url: str | None | _Unset = UNSET,
        stock: int | None | _Unset = UNSET,
        active: bool | _Unset = UNSET,
        allow_promotion_codes: bool | _Unset = UNSET,
        max_per_order: int | _Unset = UNSET,
        hold_seconds: int | None | _Unset = UNSET,
        in_feed: bool | _Unset = UNSET,
        license_keys: bool | _Unset = UNSET,
        shipping: Mapping[str, Any] | None | _Unset = UNSET,
        sku: str | None | _Unset = UNSET,
        gtin: str | None | _Unset = UNSET,
        mpn: str | None | _Unset = UNSET,
        brand: str | None | _Unset = UNSET,
        idempotency_key: str | None = None,
    ) -> Product:
        """Create a product priced ``amount`` minor units of ``currency`` (``1200, "eur"`` is
        €12.00). ``stock`` ``None`` (the default) is unlimited. ``max_per_order`` (default 10)
        caps one order's quantity; ``hold_seconds`` (120–86400, default the server's checkout
        TTL) is how long an unpaid order holds its stock; ``in_feed=True`` lists it in your
        public catalog feeds (off by default); ``license_keys=True`` gives each paid order a
        licence key. ``shipping``: ``None`` (it does not ship) or
        ``{"countries": ["FR", "BE"], "rates": [{"id": "colissimo", "name": "Colissimo",
        "amount": 490, "delivery_estimate": {"min_days": 2, "max_days": 4}}]}``; checkout then
        asks for an address and a rate. ``sku``, ``gtin``, ``mpn``, ``brand``: identifiers
        for merchant listings (optional)."""
        body = {
            "name": name,
            "amount": amount,
            "currency": currency,
            **_given(
                description=description,
                image_url=image_url,
                stock=stock,
                active=active,
                allow_promotion_codes=allow_promotion_codes,
                max_per_order=max_per_order,
                hold_seconds=hold_seconds,
                in_feed=in_feed,
                license_keys=license_keys,
                shipping=shipping,
                sku=sku,
                gtin=gtin,
                mpn=mpn,
                brand=brand,
            ),
        }
        return Product.from_response(
            self._http.request(
                "POST", "/v1/products", json_body=body, idempotency_key=idempotency_key
            )
        )

    def retrieve(self, product_id: str) -> Product:
        """The product ``product_id``; :class:`~buybutton_sdk.NotFoundError` if not yours."""
        return Product.from_response(
            self._http.request("GET", f"/v1/products/{_segment(product_id)}")
        )

    def update(
        self,
        product_id: str,
        *,
        name: str | _Unset = UNSET,
        description: str | _Unset = UNSET,
        image_url: str | None | _Unset = UNSET,
        amount: int | _Unset = UNSET,
        currency: str | _Unset = UNSET,
        stock: int | None | _Unset = UNSET,
        active: bool | _Unset = UNSET,
        allow_promotion_codes: bool | _Unset = UNSET,
        max_per_order: int | _Unset = UNSET,
        hold_seconds: int | None | _Unset = UNSET,
        in_feed: bool | _Unset = UNSET,
        license_keys: bool | _Unset = UNSET,
        shipping: Mapping[str, Any] | None | _Unset = UNSET,
        sku: str | None | _Unset = UNSET,
        gtin: str | None | _Unset = UNSET,
        mpn: str | None | _Unset = UNSET,
        brand: str | None | _Unset = UNSET,
        idempotency_key: str | None = None,
    ) -> Product:
        """Change the fields given (``stock=None`` makes it unlimited, ``hold_seconds=None`` the
        server's default hold). Changing the price or currency revokes the product's
        outstanding tokens: mint new ones."""
        body = _given(
            name=name,
            description=description,
            image_url=image_url,
            amount=amount,
            currency=currency,
            stock=stock,
            active=active,
            allow_promotion_codes=allow_promotion_codes,
            max_per_order=max_per_order,
            hold_seconds=hold_seconds,
            in_feed=in_feed,
            license_keys=license_keys,
            shipping=shipping,
            sku=sku,
            gtin=gtin,
            mpn=mpn,
            brand=brand,
        )
        return Product.from_response(
            self._http.request(
                "PATCH",
                f"/v1/products/{_segment(product_id)}",
                json_body=body,
                idempotency_key=idempotency_key,
            )
        )

    def delete(self, product_id: str, *, idempotency_key: str | None = None) -> DeletedObject:
        """Withdraw the product: its tokens stop selling; its orders stay."""
        return DeletedObject.from_response(
            self._http.request(
                "DELETE", f"/v1/products/{_segment(product_id)}", idempotency_key=idempotency_key
            )
        )

    def list(
        self,
        *,
        active: bool | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> ListIterator[Product]:
        """Your products, newest first, across all pages as you iterate; ``limit`` is the page
        size (1-100), ``active`` filters."""
        return self._list(
            "/v1/products",
            Product,
            {"active": active, "limit": limit, "starting_after": starting_after},
        )

    def upload_file(
        self,
        product_id: str,
        file: str | os.PathLike[str] | IO[bytes],
        *,
        filename: str | None = None,
        idempotency_key: str | None = None,
    ) -> Product:
        """Make ``file`` (a path, or a binary file open for reading) the product's download:
        paid orders get a link to it. Streamed from disk, never read into memory whole; it
        replaces the product's previous file. ``filename`` (default: the file's own name) is
        what shoppers save it as. The server judges its type from its bytes; over the server's
        limit (200 MB by default) it answers ``file_too_large`` (an
        :class:`~buybutton_sdk.InvalidRequestError`, status 413)."""
        if isinstance(file, (str, os.PathLike)):
            with open(file, "rb") as opened:
                return self.upload_file(
                    product_id,
                    opened,
                    filename=filename or Path(file).name,
                    idempotency_key=idempotency_key,
                )
        name = filename or Path(str(getattr(file, "name", "") or "download")).name
        start = file.tell() if file.seekable() else 0
        size = os.fstat(file.fileno()).st_size - start if _has_fileno(file) else None
        if size is None:
            file.seek(0, os.SEEK_END)
            size = file.tell() - start
            file.seek(start)
        return Product.from_response(
            self._http.request(
                "POST",
                f"/v1/products/{_segment(product_id)}/file",
                upload=MultipartUpload("file", name, file, size=size),
                idempotency_key=idempotency_key,
            )
        )

    def delete_file(self, product_id: str, *, idempotency_key: str | None = None) -> Product:
        """Remove the product's file: its paid orders' download links stop working."""
        return Product.from_response(
            self._http.request(
                "DELETE",
                f"/v1/products/{_segment(product_id)}/file",
                idempotency_key=idempotency_key,
            )
        )

    def revoke_tokens(self, product_id: str, *, idempotency_key: str | None = None) -> Product:
        """Make every token of the product issued so far stop selling."""
        return Product.from_response(
            self._http.request(
                "POST",
                f"/v1/products/{_segment(product_id)}/revoke_tokens",
                json_body={},
                idempotency_key=idempotency_key,
            )
        )


class TokensService(_Service):
    """``/v1/products/{id}/tokens``: signed offers of a product, with snippet and share links."""

    def create(
        self,
        product_id: str,
        *,
        ref: str | None = None,
        expires_in: int | None = None,
        expires_at: int | None = None,
        idempotency_key: str | None = None,
    ) -> Token:
        """Mint a token for ``product_id`` at its current price. ``ref`` tags the campaign
        (it comes back on the orders); ``expires_in`` seconds or ``expires_at`` Unix time
        bound the offer (give one at most)."""
        body = {
            k: v
            for k, v in {"ref": ref, "expires_in": expires_in, "expires_at": expires_at}.items()
            if v is not None
        }
        return Token.from_response(
            self._http.request(
                "POST",
                f"/v1/products/{_segment(product_id)}/tokens",
                json_body=body,
                idempotency_key=idempotency_key,
            )
        )


class OrdersService(_Service):
    """``/v1/orders``: what shoppers bought."""

    def list(
        self,
        *,
        status: str | None = None,
        ref: str | None = None,
        product_id: str | None = None,
        fulfillment: str | None = None,
        created_gte: int | None = None,
        created_lt: int | None = None,
        limit: int | None = None,
        starting_after: str | None = None,
    ) -> ListIterator[Order]:
        """Your orders, newest first, filtered by ``status``, ``ref``, ``product_id`` and
        ``fulfillment`` (``"unfulfilled"``: paid orders still to ship) and creation time
        (``created_gte`` ≤ created < ``created_lt``, Unix seconds)."""
        return self._list(
            "/v1/orders",
            Order,
            {
                "status": status,
                "ref": ref,
                "product_id": product_id,
                "created[gte]": created_gte,
                "created[lt]": created_lt,
                "fulfillment": fulfillment,
                "limit": limit,
                "starting_after": starting_after,
            },
        )

    def retrieve(self, order_id: str) -> Order:
        """The order ``order_id``."""
        return Order.from_response(self._http.request("GET", f"/v1/orders/{_segment(order_id)}"))

    def refund(self, order_id: str, *, idempotency_key: str | None = None) -> Order:
        """Refund a paid order in full; a refunded order is returned as it is.
        :class:`~buybutton_sdk.ConflictError` (``order_not_refundable``) if it is not paid."""
        return Order.from_response(
            self._http.request(
                "POST",
                f"/v1/orders/{_segment(order_id)}/refund",
                json_body={},
                idempotency_key=idempotency_key,
            )
        )

    def fulfill(
        self,
        order_id: str,
        *,
        carrier: str | None = None,
        tracking_number: str | None = None,
        tracking_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """Mark a paid order shipped (``order.shipped`` is sent to your webhooks once), with
        its carrier and tracking, each optional. Repeating it changes nothing (new tracking
        details replace the old). :class:`~buybutton_sdk.ConflictError`
        (``order_not_fulfillable``) for an order not paid, refunded, or with nothing to ship."""
        body = {
            key: value
            for key, value in (
                ("carrier", carrier),
                ("tracking_number", tracking_number),
                ("tracking_url", tracking_url),
            )
            if value is not None
        }
        return Order.from_response(
            self._http.request(
                "POST",
                f"/v1/orders/{_segment(order_id)}/fulfill",
                json_body=body,
                idempotency_key=idempotency_key,
            )
        )

    def deliver(self, order_id: str, *, idempotency_key: str | None = None) -> Order:
        """Mark a paid order delivered (``order.delivered``); idempotent. Errors as
        :meth:`fulfill`."""
        return Order.from_response(
            self._http.request(
                "POST",
                f"/v1/orders/{_segment(order_id)}/deliver",
                json_body={},
                idempotency_key=idempotency_key,
            )
        )

    def export_csv(
        self,
        *,
        status: str | None = None,
        fulfillment: str | None = None,
        product_id: str | None = None,
        ref: str | None = None,
    ) -> str:
        """Your orders as CSV text (oldest first, buyer and address included, formula-safe),
        filtered like :meth:`list`: ``export_csv(fulfillment="unfulfilled")`` is what to ship."""
        response = self._http.request(
            "GET",
            "/v1/orders.csv",
            params={
                "status": status,
                "fulfillment": fulfillment,
                "product_id": product_id,
                "ref": ref,
            },
        )
        return str(response.body)


def _day(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


class StatsService(_Service):
    """``/v1/stats``: impressions, clicks, orders and revenue, per ref and per product, over a
    period of UTC days (``from_`` and ``to`` included: dates or ``"YYYY-MM-DD"``)."""

    def retrieve(
        self,
        *,
        from_: date | str | None = None,
        to: date | str | None = None,
        sort: str | None = None,
        limit: int | None = None,
    ) -> Stats:
        """The totals and the top ``limit`` refs and products ranked by ``sort`` (``orders``,
        ``paid_orders``, ``refunded_orders``, ``impressions`` or ``clicks``; most first)."""
        params = {"from": _day(from_), "to": _day(to), "sort": sort, "limit": limit}
        return Stats.from_response(
            self._http.request(
                "GET", "/v1/stats", params={k: v for k, v in params.items() if v is not None}
            )
        )

    def by_ref(
        self,
        *,
        from_: date | str | None = None,
        to: date | str | None = None,
        sort: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every ref's funnel over the period, ranked by ``sort``, fetching ``limit`` rows per
        request as the iteration goes."""
        return self._ranking("/v1/stats/refs", from_, to, sort, limit)

    def by_product(
        self,
        *,
        from_: date | str | None = None,
        to: date | str | None = None,
        sort: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every product's funnel over the period (with its ``name``), as :meth:`by_ref`."""
        return self._ranking("/v1/stats/products", from_, to, sort, limit)

    def _ranking(
        self,
        path: str,
        from_: date | str | None,
        to: date | str | None,
        sort: str | None,
        limit: int | None,
    ) -> Iterator[dict[str, Any]]:
        params = {"from": _day(from_), "to": _day(to), "sort": sort, "limit": limit}
        query = {k: v for k, v in params.items() if v is not None}
        while True:
            body = self._http.request("GET", path, params=query).body
            yield from body.get("data", [])
            cursor = body.get("next_cursor")
            if not body.get("has_more") or not cursor:
                return
            query = {**query, "starting_after": cursor}


class LicensesService(_Service):
    """``/v1/licenses``: the licence keys of your paid orders (products with
    ``license_keys=True``)."""

    def retrieve(self, key: str) -> License:
        """The licence ``key`` (case, spaces and dashes do not matter): ``valid`` while its
        order is paid; :class:`~buybutton_sdk.NotFoundError` if it is not one of yours."""
        return License.from_response(self._http.request("GET", f"/v1/licenses/{_segment(key)}"))


class MerchantService(_Service):
    """``/v1/merchant``: your own account and its settings."""

    def retrieve(self) -> Merchant:
        """Your merchant account."""
        return Merchant.from_response(self._http.request("GET", "/v1/merchant"))

    def update(
        self,
        *,
        allowed_origins: Sequence[str] | _Unset = UNSET,
        email: str | None | _Unset = UNSET,
        support_email: str | None | _Unset = UNSET,
        return_policy: Mapping[str, Any] | None | _Unset = UNSET,
        idempotency_key: str | None = None,
    ) -> Merchant:
        """Change the settings given: ``allowed_origins`` replaces the list of your sites'
        origins (``["https://shop.example"]``); ``email`` (new-order notifications) and
        ``support_email`` (shown to buyers), ``None`` clears them; ``return_policy``
        ``{"days": 30, "text": "…"}`` or ``None``. A bad value is an
        :class:`~buybutton_sdk.InvalidRequestError` naming it, and nothing changes."""
        body = _given(
            allowed_origins=(
                list(allowed_origins)
                if not isinstance(allowed_origins, _Unset)
                else allowed_origins
            ),
            email=email,
            support_email=support_email,
            return_policy=dict(return_policy)
            if isinstance(return_policy, Mapping)
            else return_policy,
        )
        return Merchant.from_response(
            self._http.request(
                "PATCH", "/v1/merchant", json_body=body, idempotency_key=idempotency_key
            )
        )


class WebhookEndpointsService(_Service):
    """``/v1/webhook_endpoints``: URLs of yours that receive signed events."""

    def create(
        self, *, url: str, events: Sequence[str], idempotency_key: str | None = None
    ) -> WebhookEndpoint:
        """Register ``url`` for ``events`` (e.g. ``["order.paid"]``). The answer's ``secret``
        is shown this once: store it to verify deliveries."""
        return WebhookEndpoint.from_response(
            self._http.request(
                "POST",
                "/v1/webhook_endpoints",
                json_body={"url": url, "events": list(events)},
                idempotency_key=idempotency_key,
            )
        )

    def list(
        self, *, limit: int | None = None, starting_after: str | None = None
    ) -> ListIterator[WebhookEndpoint]:
        """Your webhook endpoints, newest first."""
        return self._list(
            "/v1/webhook_endpoints",
            WebhookEndpoint,
            {"limit": limit, "starting_after": starting_after},
        )

    def retrieve(self, endpoint_id: str) -> WebhookEndpoint:
        """The endpoint ``endpoint_id`` (without its secret)."""
        return WebhookEndpoint.from_response(
            self._http.request("GET", f"/v1/webhook_endpoints/{_segment(endpoint_id)}")
        )

    def delete(self, endpoint_id: str, *, idempotency_key: str | None = None) -> DeletedObject:
        """Stop deliveries to the endpoint and remove it."""
        return DeletedObject.from_response(
            self._http.request(
                "DELETE",
                f"/v1/webhook_endpoints/{_segment(endpoint_id)}",
                idempotency_key=idempotency_key,
            )
        )
