"""SDK fixtures: a client whose sleeps are recorded instead of slept, and a live server."""

from __future__ import annotations

import pytest

from buybutton_sdk import Client
from tests.support.sdk_client import API_KEY, BASE


@pytest.fixture
def sleeps() -> list:
    return []


@pytest.fixture
def bb(sleeps) -> Client:
    """A client of ``https://buy.test`` (intercepted by ``responses``): jitter fixed at its
    maximum, sleeps recorded, clock at 1 800 000 000."""
    client = Client(
        api_key=API_KEY,
        base_url=BASE,
        timeout=5,
        max_retries=2,
        sleep=sleeps.append,
        random=lambda: 1.0,
        clock=lambda: 1_800_000_000,
    )
    yield client
    client.close()


@pytest.fixture
def live_server(live_url):
    """The real app on 127.0.0.1 (a random port); its links point at this very server."""
    return live_url


@pytest.fixture
def live_client(live_server, merchant) -> Client:
    """An SDK client of the live server, as the test merchant."""
    client = Client(api_key=merchant.api_key, base_url=live_server, timeout=10, max_retries=0)
    yield client
    client.close()
