"""What every request shares: settings, the store, the token signer and the payment provider."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

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
    def from_settings(cls, settings: Settings) -> Runtime:
        store = Store.from_settings(settings)
        return cls(
            settings=settings,
            store=store,
            signer=TokenSigner(settings.secret_keys),
            provider=make_provider(settings, store),
        )


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["buybutton"]
    return rt
