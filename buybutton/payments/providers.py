"""The payment provider the settings ask for (:func:`make_provider`).

Apart from the interface (:mod:`.base`, which :mod:`buybutton.orders` uses), because the
providers themselves use the order state machine: the sandbox settles its payments through
:mod:`buybutton.orders`, so the package's ``__init__`` (imported with ``.base``) must not import
them.
"""

from __future__ import annotations

from ..config import Settings
from ..store import Store
from .base import PaymentProvider
from .sandbox import SandboxProvider
from .stripe import StripeProvider


def make_provider(settings: Settings, store: Store) -> PaymentProvider:
    """Stripe when ``STRIPE_SECRET_KEY`` is set, else the offline sandbox."""
    if settings.payment_provider == "stripe":
        return StripeProvider.from_settings(settings)
    return SandboxProvider(store)
