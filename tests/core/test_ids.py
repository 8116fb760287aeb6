"""Public ids: the prefix, then base62 characters, each uniform, drawn cheaply."""

from __future__ import annotations

import re
import string
from collections import Counter

from buybutton.ids import new_id


def test_ids_have_their_prefix_length_and_alphabet():
    assert re.fullmatch(r"req_[A-Za-z0-9]{16}", new_id("req"))
    assert re.fullmatch(r"cs_test_sbx_[A-Za-z0-9]{24}", new_id("cs_test_sbx", 24))
    assert len({new_id("ord") for _ in range(2000)}) == 2000


def test_every_character_of_the_alphabet_turns_up_evenly():
    counts = Counter(ch for _ in range(4000) for ch in new_id("x")[2:])
    assert set(counts) == set(string.ascii_letters + string.digits)
    expected = 4000 * 16 / 62
    assert all(0.8 * expected < n < 1.2 * expected for n in counts.values()), counts
