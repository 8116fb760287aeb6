"""A real, stateful fake Stripe on loopback for flow tests: localstripe (PyPI, GPL, test-only) plus
a small Checkout Session resource it lacks, and helpers to sign webhooks exactly as Stripe does.

localstripe serves customers, payment methods, PaymentIntents, refunds and signed webhooks. It has
no Checkout Sessions, so :class:`CheckoutSession` adds one: ``POST /v1/checkout/sessions`` (with the
parameters buybutton sends, unknown ones rejected as Stripe does, Idempotency-Key honored
with the same parameters and refused with others),
``GET /v1/checkout/sessions/{id}``, ``POST /v1/checkout/sessions/{id}/expire``, and a fake hosted
payment page ``/_config/checkout/{id}`` that confirms a real localstripe PaymentIntent (3-D Secure
cards are "authenticated" there, as on Stripe's page) and emits a signed
``checkout.session.completed`` through localstripe's own webhook delivery.

The fixtures are in :mod:`tests.support.stripe_fixtures`. The server runs in a thread of the test process, on 127.0.0.1 and a free port; localstripe's
pickling of its state to a fixed file shared by every instance is switched off.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field

import pytest
import requests
from sqlalchemy import func, select

from buybutton import orders
from buybutton.config import Settings
from buybutton.store import Store
from buybutton.store.schema import events
from tests.support.accounts import TEST_KEYS, create_account
from tests.support.loopback import LoopbackServer

aiohttp_web = pytest.importorskip("aiohttp.web", reason="flow tests need aiohttp (test extra)")
ls_resources = pytest.importorskip(
    "localstripe.resources", reason="flow tests need localstripe (test extra)"
)
with warnings.catch_warnings():  # localstripe registers plain-function handlers aiohttp frowns on
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe import server as ls_server  # noqa: E402
from localstripe import webhooks as ls_webhooks  # noqa: E402
from localstripe.errors import UserError  # noqa: E402
from localstripe.resources import (  # noqa: E402
    Customer,
    Event,
    PaymentIntent,
    PaymentMethod,
    StripeObject,
    try_convert_to_bool,
    try_convert_to_int,
)

SECRET_KEY = "sk_test_buybutton_local"
WEBHOOK_SECRET = "whsec_buybutton_local_test"
CURRENCIES = {"eur", "usd", "gbp", "chf", "jpy", "sek", "dkk", "nok", "pln", "cad", "aud"}
SESSION_PARAMS = {
    "mode",
    "line_items",
    "client_reference_id",
    "metadata",
    "payment_intent_data",
    "success_url",
    "cancel_url",
    "expires_at",
    "allow_promotion_codes",
    "customer",
    "customer_creation",
}


def sign_payload(
    payload: bytes | str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload``."""
    import stripe

    text = payload.decode() if isinstance(payload, bytes) else payload
    return stripe.WebhookSignature.generate_signature_header(
        text, secret, int(time.time()) if timestamp is None else timestamp
    )


def stripe_event(
    type_: str, obj: dict, *, event_id: str | None = None, created: int | None = None
) -> dict:
    """A Stripe event envelope (API shape) around ``obj``."""
    return {
        "id": event_id or f"evt_{abs(hash((type_, obj.get('id'), time.time_ns()))):x}",
        "object": "event",
        "type": type_,
        "api_version": "2026-10-28.endive",
        "created": created or int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }


class CheckoutSession(StripeObject):
    """The subset of Stripe's Checkout Session that buybutton uses, with Stripe's validation."""

    object = "checkout.session"
    _id_prefix = "cs_test_"
    _base_url = ""

    def __init__(
        self,
        mode=None,
        line_items=None,
        client_reference_id=None,
        metadata=None,
        payment_intent_data=None,
        success_url=None,
        cancel_url=None,
        expires_at=None,
        allow_promotion_codes=None,
        customer=None,
        customer_creation=None,
        customer_email=None,
        customer_update=None,
        shipping_address_collection=None,
        shipping_options=None,
        **kwargs,
    ):
        if kwargs:
            raise UserError(400, "Received unknown parameter: " + ", ".join(kwargs))
        expires_at = try_convert_to_int(expires_at)
        now = int(time.time())
        try:
            assert mode == "payment"
            assert isinstance(line_items, list) and len(line_items) == 1
            assert isinstance(success_url, str) and success_url.startswith("http")
            assert isinstance(cancel_url, str) and cancel_url.startswith("http")
            assert customer_creation in (None, "always", "if_required")
            assert customer is None or (isinstance(customer, str) and customer.startswith("cus_"))
            assert expires_at is None or isinstance(expires_at, int)
            assert customer_email is None or customer is None  # Stripe refuses both
            allowed = (shipping_address_collection or {}).get("allowed_countries")
            assert shipping_address_collection is None or (allowed and isinstance(allowed, list))
            for option in shipping_options or []:
                data = option["shipping_rate_data"]
                assert data["type"] == "fixed_amount" and data["display_name"]
                assert data["fixed_amount"]["currency"] == (
                    (line_items[0].get("price_data") or {}).get("currency")
                )
                for end in ("minimum", "maximum"):
                    estimate = (data.get("delivery_estimate") or {}).get(end)
                    assert estimate is None or estimate["unit"] == "business_day"
        except AssertionError:
            raise UserError(400, "Bad request") from None
        if expires_at is not None and not now + 1800 <= expires_at <= now + 86400:
            raise UserError(
                400,
                "The `expires_at` timestamp must be between 30 minutes and "
                "24 hours from Checkout Session creation.",
                {"param": "expires_at"},
            )
        item = line_items[0]
        price = item.get("price_data") or {}
        currency = price.get("currency")
        if currency not in CURRENCIES:
            raise UserError(
                400,
                f"Invalid currency: {currency}. Stripe currently supports these "
                "currencies: " + ", ".join(sorted(CURRENCIES)),
                {"param": "line_items[0][price_data][currency]"},
            )
        unit_amount, quantity = (
            try_convert_to_int(price.get("unit_amount")),
            try_convert_to_int(item.get("quantity")),
        )
        if not isinstance(unit_amount, int) or not isinstance(quantity, int) or quantity < 1:
            raise UserError(400, "Bad request")
        if customer is not None:
            Customer._api_retrieve(customer)  # 404 for an unknown customer, as Stripe does
        super().__init__()
        self.mode = mode
        self.status = "open"
        self.payment_status = "unpaid"
        self.currency = currency
        self.amount_subtotal = self.amount_total = unit_amount * quantity
        self.client_reference_id = client_reference_id
        self.metadata = metadata or {}
        self.customer = customer
        self.payment_intent = None
        self.success_url = success_url
        self.cancel_url = cancel_url
        self.expires_at = expires_at or now + 86400
        self.allow_promotion_codes = try_convert_to_bool(allow_promotion_codes) or None
        self.url = f"{self._base_url}/_config/checkout/{self.id}"
        self._line_items = line_items
        self._payment_intent_data = payment_intent_data or {}
        self._customer_creation = customer_creation
        self._customer_update = customer_update or {}
        self.customer_email = customer_email
        self.customer_details = None
        # API versions from 2025-03-31 put the address here (shipping_details is gone).
        self.collected_information = None
        self.shipping_cost = None
        self._allowed_countries = (shipping_address_collection or {}).get("allowed_countries")
        self._shipping_options = [
            {
                "id": f"shr_fake_{index}",
                "amount": try_convert_to_int(o["shipping_rate_data"]["fixed_amount"]["amount"]),
                "name": o["shipping_rate_data"]["display_name"],
            }
            for index, o in enumerate(shipping_options or [])
        ]

    def _collect(self, form) -> None:
        """What Stripe's hosted page collects: the email, and an address and a rate when the
        session ships (in one of its countries)."""
        email = form.get("email") or self.customer_email or "shopper@example.com"
        self.customer_details = {"email": email, "name": form.get("name"), "phone": None}
        if self._allowed_countries is None:
            return
        country = form.get("country", "FR")
        if country not in self._allowed_countries:
            raise UserError(400, "This country is not allowed.")
        option = self._shipping_options[int(form.get("shipping_option") or 0)]
        self.collected_information = {
            "shipping_details": {
                "name": form.get("name") or "Camille Martin",
                "address": {
                    "line1": form.get("line1") or "8 rue de la Paix",
                    "line2": None,
                    "city": form.get("city") or "Paris",
                    "postal_code": form.get("postal_code") or "75002",
                    "state": None,
                    "country": country,
                },
            }
        }
        self.shipping_cost = {
            "amount_subtotal": option["amount"],
            "amount_tax": 0,
            "amount_total": option["amount"],
            "shipping_rate": option["id"],
        }
        self.amount_total = self.amount_subtotal + option["amount"]

    def _pay(self, card: str) -> None:
        """What Stripe's hosted page does when the shopper pays with ``card``."""
        if self.status != "open":
            raise UserError(400, "This Checkout Session is no longer open.")
        if card.startswith("pm_"):
            method = PaymentMethod._api_retrieve(card)
        else:
            method = PaymentMethod(
                type="card",
                card={"number": card, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
            )
        customer = self.customer
        created = customer is None and self._customer_creation == "always"
        if created:
            details = self.customer_details or {}
            customer = Customer(email=details.get("email"), name=details.get("name")).id
        shipped = (self.collected_information or {}).get("shipping_details")
        if customer and shipped and (created or self._customer_update.get("shipping") == "auto"):
            # Stripe keeps the address with the customer (its ``shipping``).
            Customer._api_retrieve(customer).shipping = shipped
        if customer and self._payment_intent_data.get("setup_future_usage"):
            PaymentMethod._api_attach(method.id, customer=customer)
        intent = PaymentIntent._api_create(
            amount=self.amount_total,
            currency=self.currency,
            customer=customer,
            payment_method=method.id,
            metadata=self._payment_intent_data.get("metadata") or {},
            confirm=True,
        )
        if intent.status == "requires_action":  # the shopper passes 3-D Secure on this page
            intent = PaymentIntent._api_authenticate(
                intent.id, client_secret=intent.client_secret, success=True
            )
        self.status, self.payment_status = "complete", "paid"
        self.payment_intent, self.customer = intent.id, customer
        ls_webhooks.schedule_webhook(Event("checkout.session.completed", self))

    def _expire(self) -> None:
        if self.status != "open":
            raise UserError(400, "Only an open Checkout Session can be expired.")
        self.status = "expired"
        ls_webhooks.schedule_webhook(Event("checkout.session.expired", self))


_payment_intent_init = PaymentIntent.__init__


def _payment_intent_with_shipping(self, shipping=None, **params):
    """localstripe's PaymentIntent, plus Stripe's ``shipping`` (one click for goods that ship)."""
    _payment_intent_init(self, **params)
    if shipping is not None:
        address = shipping.get("address") or {}
        if not shipping.get("name") or not address.get("line1") or not address.get("country"):
            raise UserError(400, "shipping needs a name, address[line1] and address[country]")
    self.shipping = shipping


PaymentIntent.__init__ = _payment_intent_with_shipping


@dataclass
class FakeStripe:
    """The running fake: its base URL and what it saw."""

    base_url: str
    loop: asyncio.AbstractEventLoop | None = None
    idempotency_keys: list = field(default_factory=list)
    _idempotent: dict = field(default_factory=dict)

    def session(self, session_id: str) -> CheckoutSession:
        return CheckoutSession._api_retrieve(session_id)

    def payment_intents(self) -> list:
        return [v for k, v in ls_resources.store.items() if k.startswith("payment_intent:")]

    def sessions(self) -> list:
        return [v for k, v in ls_resources.store.items() if k.startswith("checkout.session:")]

    def register_webhook(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        ls_webhooks.register_webhook("buybutton", url, secret, None)

    def reset(self) -> None:
        """Forget everything, including webhooks still waiting to be sent to a previous test."""
        if self.loop is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(_cancel_pending(), self.loop).result(10)
        ls_resources.store.clear()
        ls_webhooks._webhooks.clear()
        self.idempotency_keys.clear()
        self._idempotent.clear()


async def _cancel_pending() -> None:
    current = asyncio.current_task()
    for task in asyncio.all_tasks():
        if task is not current and task.get_coro().__name__ == "_send_webhook":
            task.cancel()


def _add_routes(app, fake: FakeStripe) -> None:
    json_response = ls_server.json_response

    async def create_session(request):
        key = request.headers.get("Idempotency-Key")
        fake.idempotency_keys.append(key)
        data = await ls_server.get_post_data(request) or {}
        if key and key in fake._idempotent:  # Stripe answers a replayed key with the first result
            session_id, first = fake._idempotent[key]
            if data != first:  # ... and refuses it with other parameters
                raise UserError(
                    400,
                    "Keys for idempotent requests can only be used with the "
                    "same parameters they were first used with.",
                )
            return json_response(CheckoutSession._api_retrieve(session_id)._export())
        session = CheckoutSession._api_create(**data)
        if key:
            fake._idempotent[key] = (session.id, data)
        return json_response(session._export())

    async def retrieve_session(request):
        return json_response(CheckoutSession._api_retrieve(request.match_info["id"])._export())

    async def expire_session(request):
        session = CheckoutSession._api_retrieve(request.match_info["id"])
        session._expire()
        return json_response(session._export())

    async def hosted_page(request):
        session = CheckoutSession._api_retrieve(request.match_info["id"])
        html = (
            f"<!doctype html><title>Fake Stripe Checkout</title><p>{session.amount_total} "
            f"{session.currency}</p><form method=post><input name=card "
            f"value=4242424242424242><button>Pay</button></form>"
        )
        return aiohttp_web.Response(text=html, content_type="text/html")

    async def hosted_pay(request):
        session = CheckoutSession._api_retrieve(request.match_info["id"])
        form = await request.post()
        try:
            session._collect(form)
            session._pay(form.get("card") or "4242424242424242")
        except UserError as exc:
            message = exc.body["error"].get("message", "declined")
            return aiohttp_web.Response(status=exc.code, text=message, content_type="text/html")
        raise aiohttp_web.HTTPSeeOther(session.success_url)

    router = app.router
    router.add_post("/v1/checkout/sessions", create_session)
    router.add_get("/v1/checkout/sessions/{id}", retrieve_session)
    router.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    router.add_get("/_config/checkout/{id}", hosted_page)
    router.add_post("/_config/checkout/{id}", hosted_pay)


def start_fake_stripe() -> tuple[FakeStripe, callable]:
    """Start localstripe (with Checkout Sessions) on 127.0.0.1; returns the fake and a stopper."""
    # localstripe pickles its whole state to one fixed file on every write: not here.
    ls_resources.Store.dump_to_disk = lambda self: None
    ls_resources.Store.try_load_from_disk = lambda self: None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    fake = FakeStripe(base_url=f"http://127.0.0.1:{port}")
    CheckoutSession._base_url = fake.base_url
    app = ls_server.app  # a module global whose router freezes once started: one server per run
    _add_routes(app, fake)
    ls_resources.store.clear()
    loop = fake.loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = aiohttp_web.AppRunner(app, access_log=None)

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(aiohttp_web.SockSite(runner, sock).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="localstripe", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("localstripe did not start")

    def stop():
        fake.reset()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return fake, stop


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll ``predicate`` (webhooks arrive asynchronously, about 1 s after the payment)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(interval)


COOKIE = "bb_saved_card"


class LiveShop:
    """The Flask app served over real HTTP on 127.0.0.1, configured for the fake Stripe."""

    def __init__(self, tmp_path, sqlite_url, fake):
        from buybutton_server import create_app

        # Serving starts before the app exists: the app's settings need the server's URL.
        self.server = LoopbackServer(self._dispatch)
        self.url = self.server.url
        self.settings = Settings(
            home=tmp_path,
            database_url=sqlite_url,
            secret_keys=TEST_KEYS,
            public_url=self.url,
            stripe_secret_key=SECRET_KEY,
            stripe_webhook_secret=WEBHOOK_SECRET,
            stripe_api_base=fake.base_url,
        )
        self.app = create_app(self.settings)
        self.store: Store = self.app.extensions["buybutton"].store
        self.merchant = create_account(self.store)

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def close(self):
        self.server.stop()
        self.store.dispose()

    def offer(self, **product) -> str:
        fields = {"name": "Ceramic mug", "amount": 1200, "currency": "eur", "stock": 5, **product}
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {self.merchant.api_key}"
        created = api.post(f"{self.url}/v1/products", json=fields)
        assert created.status_code == 201, created.text
        return api.post(f"{self.url}/v1/products/{created.json()['id']}/tokens", json={}).json()[
            "token"
        ]

    def order(self, order_id):
        with self.store.read() as conn:
            return orders.get_order(conn, order_id)

    def only_order(self):
        with self.store.read() as conn:
            found, _ = orders.list_orders(conn, self.merchant.id)
        assert len(found) == 1, found
        return found[0]

    def paid_events(self) -> int:
        with self.store.read() as conn:
            return conn.execute(
                select(func.count()).select_from(events).where(events.c.type == "order.paid")
            ).scalar()
