"""Public identifiers: a short type prefix and 16 random base62 characters (~95 bits)."""

from __future__ import annotations

import os
import string

_ALPHABET = string.ascii_letters + string.digits
_BASE = len(_ALPHABET)
# Random bytes drawn per id: enough that the few draws refused (to keep every character
# uniform) are rare, for the longest id asked for so far.
_SPACE: dict[int, tuple[int, int, int]] = {}


def _space(length: int) -> tuple[int, int, int]:
    """(bytes to draw, ids of this length, largest multiple of that below 256**bytes)."""
    if length not in _SPACE:
        span = _BASE**length
        size = (span.bit_length() + 7) // 8 + 2  # 16 more bits: refusals below 1 in 65,536
        _SPACE[length] = (size, span, (256**size // span) * span)
    return _SPACE[length]


def new_id(prefix: str, length: int = 16) -> str:
    """A fresh random id such as ``prod_3kT9x…``; ``prefix`` names what it identifies.

    One read of the OS's random source per id (not one per character): each character stays
    uniform over the 62 letters and digits, as draws beyond the last whole multiple of the id
    space are refused and drawn again."""
    size, span, limit = _space(length)
    while True:
        number = int.from_bytes(os.urandom(size))
        if number < limit:
            break
    number %= span
    chars = []
    for _ in range(length):
        number, digit = divmod(number, _BASE)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_" + "".join(chars)
