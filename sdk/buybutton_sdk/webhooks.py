"""Verifying the signed webhooks a buybutton server sends to your endpoints.

Each delivery carries ``BuyButton-Signature: t=<unix time>,v1=<hex>``, where the hex is
HMAC-SHA256 keyed with the endpoint's secret (``whsec_…``, as UTF-8) over ``"<t>.<raw body>"``.
While a secret is being rotated several ``v1=`` values may appear; one match is enough.
Verify the *raw* request body (e.g. Flask's ``request.get_data()``), not re-encoded JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

from .errors import SignatureVerificationError
from .models import Event

SIGNATURE_HEADER = "BuyButton-Signature"
DEFAULT_TOLERANCE = 300


def compute_signature(payload: bytes | str, secret: str, timestamp: int) -> str:
    """The hex ``v1`` signature of ``payload`` signed at ``timestamp`` with ``secret``."""
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def generate_signature_header(
    payload: bytes | str, secret: str, timestamp: int | None = None
) -> str:
    """A ``BuyButton-Signature`` value for ``payload``: for testing your own webhook handler."""
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={stamp},v1={compute_signature(payload, secret, stamp)}"


def _parse_header(sig_header: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in sig_header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return None, []
        elif key == "v1":
            signatures.append(value.strip())
    return timestamp, signatures


def verify_header(
    payload: bytes | str,
    sig_header: str | None,
    secret: str,
    *,
    tolerance: int | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check ``sig_header`` against ``payload``; raise :class:`SignatureVerificationError`.

    The timestamp must be at most ``tolerance`` seconds old (``None``: no age check), which
    stops a captured delivery from being replayed later.
    """
    if not sig_header or not isinstance(sig_header, str):
        raise SignatureVerificationError(f"No {SIGNATURE_HEADER} header.", sig_header)
    if not secret:
        raise SignatureVerificationError("No webhook secret to verify with.", sig_header)
    timestamp, signatures = _parse_header(sig_header)
    if timestamp is None:
        raise SignatureVerificationError(
            "The signature header has no valid timestamp (t=).", sig_header
        )
    if not signatures:
        raise SignatureVerificationError("The signature header has no v1 signature.", sig_header)
    expected = compute_signature(payload, secret, timestamp)
    # compare_digest raises TypeError on a non-ASCII str: such a (forged) value simply fails.
    if not any(
        candidate.isascii() and hmac.compare_digest(expected, candidate) for candidate in signatures
    ):
        raise SignatureVerificationError(
            "No signature matches the payload: check the endpoint secret and that you pass the "
            "raw request body.",
            sig_header,
        )
    current = time.time() if now is None else now
    if tolerance is not None and timestamp < current - tolerance:
        raise SignatureVerificationError("The signature's timestamp is too old.", sig_header)


def construct_event(
    payload: bytes | str,
    sig_header: str | None,
    secret: str,
    tolerance: int | None = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> Event:
    """Verify a delivery and return its :class:`~buybutton_sdk.models.Event`.

    Raises :class:`SignatureVerificationError` when the signature does not verify (or is too
    old), or when the verified payload is not an event object.
    """
    verify_header(payload, sig_header, secret, tolerance=tolerance, now=now)
    try:
        data = json.loads(payload.decode("utf-8") if isinstance(payload, bytes) else payload)
    except (ValueError, UnicodeDecodeError):
        raise SignatureVerificationError("The payload is not JSON.", sig_header) from None
    if not isinstance(data, dict):
        raise SignatureVerificationError("The payload is not an event object.", sig_header)
    return Event.from_dict(data)


class Webhooks:
    """``client.webhooks``: webhook verification with the client's clock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock

    def construct_event(
        self,
        payload: bytes | str,
        sig_header: str | None,
        secret: str,
        tolerance: int | None = DEFAULT_TOLERANCE,
    ) -> Event:
        """See :func:`buybutton_sdk.webhooks.construct_event`."""
        return construct_event(payload, sig_header, secret, tolerance, now=self._clock())
