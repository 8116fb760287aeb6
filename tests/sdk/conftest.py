"""SDK fixtures: a client whose sleeps are recorded instead of slept, and a live server."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from werkzeug.serving import make_server

from buybutton_sdk import Client

BASE = "https://buy.test"
API_KEY = "bb_sk_unit_test_key"


@pytest.fixture
def sleeps() -> list:
    return []


@pytest.fixture
def bb(sleeps) -> Client:
    """A client of ``https://buy.test`` (intercepted by ``responses``): jitter fixed at its
    maximum, sleeps recorded, clock at 1 800 000 000."""
    client = Client(api_key=API_KEY, base_url=BASE, timeout=5, max_retries=2,
                    sleep=sleeps.append, random=lambda: 1.0, clock=lambda: 1_800_000_000)
    yield client
    client.close()


@pytest.fixture
def live_server(settings):
    """The real app on 127.0.0.1 (a random port) in a thread; yields its base URL.

    ``public_url`` is unset so links the server makes (checkout URLs, share links) point at
    this very server."""
    from buybutton_server import create_app

    app = create_app(replace(settings, public_url=None))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for the next poll.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        app.extensions["buybutton"].store.dispose()


@pytest.fixture
def live_client(live_server, merchant) -> Client:
    """An SDK client of the live server, as the test merchant."""
    client = Client(api_key=merchant.api_key, base_url=live_server, timeout=10, max_retries=0)
    yield client
    client.close()
