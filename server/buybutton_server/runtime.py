"""What every request shares: settings, the store, the token signer and the payment provider."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from flask import current_app, request

from buybutton.config import Settings
from buybutton.payments import PaymentProvider
from buybutton.payments.providers import make_provider
from buybutton.store import Store
from buybutton.tokens import TokenSigner


@dataclass
class Runtime:
    settings: Settings
    store: Store
    signer: TokenSigner
    provider: PaymentProvider
    #: The current Unix time, for expiries the server picks (tests replace it and the signer's).
    clock: Callable[[], float] = time.time

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        store = Store.from_settings(settings)
        return cls(settings=settings, store=store, signer=TokenSigner(settings.secret_keys),
                   provider=make_provider(settings, store))


def runtime() -> Runtime:
    return current_app.extensions["buybutton"]


def public_url(path: str = "") -> str:
    """An absolute URL on this server: ``BUYBUTTON_PUBLIC_URL`` if set, else the request's host,
    which :func:`~.validation.refuse_untrusted_host` checked against the allowed hosts
    (loopback by default): a request naming another host was answered 400 before any view."""
    base = runtime().settings.public_url or request.host_url.rstrip("/")
    return base + path


def absolute_url(url: str | None) -> str | None:
    """``url`` made absolute when it is a path on this server; other URLs as they are."""
    if url and url.startswith("/") and not url.startswith("//"):
        return public_url(url)
    return url
