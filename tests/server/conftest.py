import pytest

from buybutton.tokens import TokenSigner
from tests.support.accounts import TEST_KEYS
from tests.support.dashboard import make_login, sign_in
from tests.support.stripe_fake import LiveShop


@pytest.fixture
def api(client, merchant):
    """The test client speaking as the test merchant: ``api.post(path, json=…)``."""

    class MerchantClient:
        def __getattr__(self, method):
            def call(path, **kwargs):
                headers = {**merchant.headers, **kwargs.pop("headers", {})}
                return getattr(client, method)(path, headers=headers, **kwargs)

            return call

    return MerchantClient()


@pytest.fixture
def offer(api):
    """``offer(**product_fields)``: create a product through the API and mint a token for it."""

    def make(ref=None, **fields):
        product = api.post(
            "/v1/products", json={"name": "Mug", "amount": 1200, "currency": "eur", **fields}
        ).json
        body = {"ref": ref} if ref else {}
        token = api.post(f"/v1/products/{product['id']}/tokens", json=body).json
        return product, token

    return make


@pytest.fixture
def set_clock(app):
    """``set_clock(t)``: from now on the app's clock, and its signer's, read Unix time ``t``."""
    runtime = app.extensions["buybutton"]

    def set_to(now: float) -> None:
        runtime.clock = lambda: now
        runtime.signer = TokenSigner(TEST_KEYS, clock=lambda: now)

    return set_to


@pytest.fixture
def shop(stripe_shop: LiveShop) -> LiveShop:
    """In the server tests ``shop`` is the live shop paying through the fake Stripe."""
    return stripe_shop


@pytest.fixture
def login(store):
    """A merchant with a dashboard sign-in (``owner@shop.test``)."""
    return make_login(store)


@pytest.fixture
def dashboard(client, login):
    """The test client signed in to the dashboard as ``login``."""
    sign_in(client, login)
    return client
