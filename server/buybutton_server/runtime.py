"""What every request shares: settings, the store, the token signer, the payment provider and
the file storage."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from buybutton.config import Settings
from buybutton.payments import PaymentProvider
from buybutton.payments.providers import make_provider
from buybutton.storage import LocalStorage, Storage
from buybutton.store import Store
from buybutton.tokens import TokenSigner


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

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        store = Store.from_settings(settings)
        return cls(
            settings=settings,
            store=store,
            signer=TokenSigner(settings.secret_keys),
            provider=make_provider(settings, store),
            storage=LocalStorage.for_settings(settings),
        )


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["buybutton"]
    return rt
