"""The fake Stripe's fixtures, registered once for the whole suite by ``tests/conftest.py``.

- ``fake_stripe_server``: localstripe (with Checkout Sessions) on loopback, one per test run
  (localstripe's aiohttp application is a module global whose router freezes once started).
- ``fake_stripe``: that server, emptied before and after the test.
- ``stripe_shop``: a live shop paying through the fake Stripe, which sends its webhooks there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stripe_fake import FakeStripe, LiveShop, start_fake_stripe


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripe]:
    fake, stop = start_fake_stripe()
    yield fake
    stop()


@pytest.fixture
def fake_stripe(fake_stripe_server: FakeStripe) -> Iterator[FakeStripe]:
    """The loopback fake Stripe, emptied for this test."""
    fake_stripe_server.reset()
    yield fake_stripe_server
    fake_stripe_server.reset()


@pytest.fixture
def stripe_shop(tmp_path: Path, sqlite_url: str, fake_stripe: FakeStripe) -> Iterator[LiveShop]:
    """A live shop paying through the fake Stripe, which sends its webhooks there."""
    shop = LiveShop(tmp_path, sqlite_url, fake_stripe)
    fake_stripe.register_webhook(f"{shop.url}/webhooks/stripe")
    yield shop
    shop.close()
