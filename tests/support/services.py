"""Services the tests need (PostgreSQL, Redis, Chromium, npm): skip or fail when one is missing."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_SERVICES = os.environ.get("BUYBUTTON_REQUIRE_SERVICES") == "1"


def service_unavailable(message: str) -> NoReturn:
    """Skip (on a developer's machine) or fail (in CI) a test whose service is missing."""
    if REQUIRE_SERVICES:
        pytest.fail(message + " (required: BUYBUTTON_REQUIRE_SERVICES=1)")
    pytest.skip(message)
