"""Public identifiers: a short type prefix and 16 random base62 characters (~95 bits)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 16) -> str:
    """A fresh random id such as ``prod_3kT9x…``; ``prefix`` names what it identifies."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))
