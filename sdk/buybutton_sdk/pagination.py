"""Cursor pagination: iterate a list across pages without thinking about them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import APIError
from .models import APIObject

T = TypeVar("T", bound=APIObject)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items (newest first) and whether more follow."""

    data: list[T]
    has_more: bool
    url: str | None = None


class ListIterator(Generic[T]):
    """The result of a ``list()`` call: iterating it yields every item, newest first, fetching
    the next page (``starting_after`` the last id seen) only when the current one is used up.

    ``limit`` is the page size (1-100). Nothing is fetched until you iterate or ask for
    :meth:`first_page`.
    """

    def __init__(
        self,
        fetch: Callable[[dict[str, Any]], Mapping[str, Any]],
        cls: type[T],
        params: Mapping[str, Any],
    ) -> None:
        self._fetch = fetch
        self._cls = cls
        self._params = dict(params)

    def _page(self, starting_after: str | None) -> Page[T]:
        params = dict(self._params)
        if starting_after is not None:
            params["starting_after"] = starting_after
        body = self._fetch(params)
        if not isinstance(body, Mapping) or not isinstance(body.get("data", []), list):
            raise APIError("The server answered a list request with something that is not a list.")
        return Page(
            data=[self._cls.from_dict(item) for item in body.get("data", [])],
            has_more=bool(body.get("has_more")),
            url=body.get("url"),
        )

    def first_page(self) -> Page[T]:
        """Just the first page (one request)."""
        return self._page(self._params.get("starting_after"))

    def pages(self) -> Iterator[Page[T]]:
        """Every page in turn, one request each."""
        page = self.first_page()
        while True:
            yield page
            if not page.has_more or not page.data:
                return
            # The cursor is the id of the last item seen (every listed object has one).
            page = self._page(str(page.data[-1]._raw["id"]))

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data
