"""Signing merchant webhooks: ``BuyButton-Signature: t=<unix>,v1=<hex HMAC-SHA256>``.

The receiver recomputes the HMAC of ``"{t}.{body}"`` with the endpoint's secret (docs/webhooks.md
shows how, and the SDK's ``Webhooks.construct_event`` does it).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "BuyButton-Signature"


def compute_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """Hex HMAC-SHA256, keyed by the endpoint secret (UTF-8), of ``"{timestamp}.{payload}"``."""
    message = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``BuyButton-Signature`` header value: ``t=<unix>,v1=<hex>``."""
    return f"t={timestamp},v1={compute_signature(payload, secret, timestamp)}"
