"""What every request shares: settings, the store, the token signer, the payment provider and
the file storage."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app

from buybutton.config import Settings
from buybutton.payments import PaymentProvider
from buybutton.payments.providers import make_provider
from buybutton.storage import LocalStorage, Storage
from buybutton.store import Store
from buybutton.tokens import TokenSigner

from .cache import Generations, ResponseCache


@dataclass
class Runtime:
    settings: Settings
    store: Store
    signer: TokenSigner
    provider: PaymentProvider
    #: Uploaded files (digital products): ``$BUYBUTTON_HOME/files`` unless a test gives another.
    storage: Storage
    #: The current Unix time, for expiries the server picks (tests replace it and the signer's).
    clock: Callable[[], float] = time.time
    #: Rendered offers (embed JSON, share pages), invalidated by the store's writes.
    cache: ResponseCache = field(
        default_factory=lambda: ResponseCache(
            ttl_seconds=0, stale_seconds=0, max_entries=1, generations=Generations()
        )
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        store = Store.from_settings(settings)
        cache = ResponseCache(
            ttl_seconds=settings.cache_ttl_seconds,
            stale_seconds=settings.cache_stale_seconds,
            max_entries=settings.cache_max_entries,
            generations=Generations(settings.redis_url),
        )
        store.on_change(cache.invalidate)
        return cls(
            settings=settings,
            store=store,
            signer=TokenSigner(settings.secret_keys),
            provider=make_provider(settings, store),
            cache=cache,
            storage=LocalStorage.for_settings(settings),
        )


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["buybutton"]
    return rt
