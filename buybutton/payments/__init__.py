"""Payment providers: :func:`make_provider` picks the one the settings ask for."""

from __future__ import annotations

from ..config import Settings
from ..store import Store
from .base import (CheckoutRequest, PaymentProvider, PaymentSession, ProviderEvent, Refund,
                   SavedCard, SavedCardPayment, SavedCardProvider)

__all__ = ["CheckoutRequest", "PaymentProvider", "PaymentSession", "ProviderEvent", "Refund",
           "SavedCard", "SavedCardPayment", "SavedCardProvider", "make_provider"]


def make_provider(settings: Settings, store: Store) -> PaymentProvider:
    """Stripe when ``STRIPE_SECRET_KEY`` is set, else the offline sandbox."""
    if settings.payment_provider == "stripe":
        from .stripe import StripeProvider

        return StripeProvider.from_settings(settings)
    from .sandbox import SandboxProvider

    return SandboxProvider(store)
