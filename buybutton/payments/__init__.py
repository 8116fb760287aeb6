"""Payment providers: the interface every provider implements (:mod:`.base`), the offline
sandbox (:mod:`.sandbox`), Stripe (:mod:`.stripe`), and :func:`.providers.make_provider`, which
picks the one the settings ask for (import it from ``buybutton.payments.providers``: the
providers depend on :mod:`buybutton.orders`, which depends on this package's interface)."""

from __future__ import annotations

from .base import (
    CheckoutRequest,
    PaymentProvider,
    PaymentSession,
    ProviderEvent,
    Refund,
    SavedCard,
    SavedCardPayment,
    SavedCardProvider,
)

__all__ = [
    "CheckoutRequest",
    "PaymentProvider",
    "PaymentSession",
    "ProviderEvent",
    "Refund",
    "SavedCard",
    "SavedCardPayment",
    "SavedCardProvider",
]
