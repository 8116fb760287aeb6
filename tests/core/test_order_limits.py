"""Limits against inventory hoarding: a per-product maximum per order, a cap on the units one
client holds in unpaid orders, and a per-product hold time shorter than the payment session."""

import pytest

from buybutton import catalog, orders
from buybutton.checkout import client_key, start_checkout
from buybutton.errors import InvalidRequest, RateLimited
from buybutton.payments.base import CheckoutRequest, ProviderEvent
from buybutton.payments.sandbox import SandboxProvider

SECRET = "test-secret"
ALICE = client_key(SECRET, "203.0.113.7")
BOB = client_key(SECRET, "198.51.100.9")


def new_order(store, signer, token, quantity, *, client=None, limit=0, now=1_000, ttl=1800):
    with store.transaction() as conn:
        return orders.create_order(
            conn,
            signer.verify_token(token),
            quantity,
            provider="sandbox",
            ttl_seconds=ttl,
            client_key=client,
            max_held_units=limit,
            now=now,
        )


def stock_of(store, product):
    with store.read() as conn:
        return catalog.get_product(conn, product.id).stock


def test_one_order_takes_at_most_ten_units_by_default(store, signer, make_product, make_token):
    product = make_product(stock=100)
    assert product.max_per_order == 10
    with pytest.raises(InvalidRequest) as info:
        new_order(store, signer, make_token(product), 11)
    assert (info.value.param, info.value.code) == ("quantity", "quantity_over_max")
    assert "at most 10" in info.value.message
    assert stock_of(store, product) == 100  # nothing reserved
    assert new_order(store, signer, make_token(product), 10).quantity == 10


def test_merchant_sets_the_maximum_per_order(store, signer, merchant, make_product, make_token):
    product = make_product(stock=100, max_per_order=2)
    with pytest.raises(InvalidRequest, match="at most 2"):
        new_order(store, signer, make_token(product), 3)
    with store.transaction() as conn:
        product = catalog.update_product(conn, merchant.id, product.id, {"max_per_order": 50})
    assert new_order(store, signer, make_token(product), 50).quantity == 50


@pytest.mark.parametrize(
    "field, value",
    [
        ("max_per_order", 0),
        ("max_per_order", 101),
        ("max_per_order", None),
        ("max_per_order", True),
        ("max_per_order", "5"),
        ("hold_seconds", 119),
        ("hold_seconds", 86401),
        ("hold_seconds", 1.5),
    ],
)
def test_limit_fields_are_validated(store, merchant, field, value):
    with store.transaction() as conn, pytest.raises(InvalidRequest) as info:
        catalog.create_product(
            conn, merchant.id, {"name": "Mug", "amount": 1200, "currency": "eur", field: value}
        )
    assert info.value.param == field


def test_a_client_holds_at_most_the_cap_in_unpaid_orders(store, signer, make_product, make_token):
    mugs, cups = make_product(stock=100), make_product(stock=100)
    new_order(store, signer, make_token(mugs), 8, client=ALICE, limit=12)
    with pytest.raises(RateLimited) as info:
        new_order(store, signer, make_token(cups), 5, client=ALICE, limit=12)  # across products
    assert (info.value.status, info.value.code, info.value.param) == (
        429,
        "too_many_held_units",
        "quantity",
    )
    assert "12" in info.value.message
    assert stock_of(store, cups) == 100
    assert new_order(store, signer, make_token(cups), 4, client=ALICE, limit=12).quantity == 4
    # Another shopper is not affected.
    assert new_order(store, signer, make_token(cups), 10, client=BOB, limit=12).quantity == 10


def test_paid_and_lapsed_orders_no_longer_count_as_held(store, signer, make_product, make_token):
    product = make_product(stock=100)
    first = new_order(store, signer, make_token(product), 10, client=ALICE, limit=10, now=1_000)
    with store.transaction() as conn:
        orders.mark_paid(conn, first.id, amount=12000, currency="eur", payment_id="pi_1")
    second = new_order(store, signer, make_token(product), 10, client=ALICE, limit=10, now=1_000)
    with pytest.raises(RateLimited):
        new_order(store, signer, make_token(product), 1, client=ALICE, limit=10, now=1_000)
    # Once the hold is over the units are no longer this client's, swept or not.
    assert second.expires_at == 2_800
    assert (
        new_order(store, signer, make_token(product), 1, client=ALICE, limit=10, now=2_800).quantity
        == 1
    )


def test_unlimited_stock_is_not_capped(store, signer, make_product, make_token):
    product = make_product()  # stock None: nobody can hoard it
    for _ in range(3):
        new_order(store, signer, make_token(product), 10, client=ALICE, limit=10)


def test_client_key_hides_the_address_and_groups_an_ipv6_subscriber():
    assert ALICE != BOB and "203.0.113.7" not in ALICE and len(ALICE) == 32
    assert client_key(SECRET, "2001:db8:1:2::1") == client_key(SECRET, "2001:db8:1:2:ffff::9")
    assert client_key(SECRET, "2001:db8:1:2::1") != client_key(SECRET, "2001:db8:1:3::1")
    assert client_key(SECRET, "::ffff:203.0.113.7") == ALICE
    assert client_key("another-secret", "203.0.113.7") != ALICE
    assert client_key(SECRET, None) is None


def test_product_hold_is_shorter_than_the_server_default(store, signer, make_product, make_token):
    product = make_product(stock=5, hold_seconds=300)
    order = new_order(store, signer, make_token(product), 2, now=1_000, ttl=1800)
    assert order.expires_at == 1_300
    assert orders.expire_stale_orders(store, now=1_299) == 0
    assert orders.expire_stale_orders(store, now=1_300) == 1
    assert stock_of(store, product) == 5
    # A payment after the hold lapsed is the late-payment path: paid, its stock taken again.
    late = orders.apply_provider_event(
        store,
        "sandbox",
        ProviderEvent(
            id="evt_late",
            kind="paid",
            type="test.paid",
            order_id=order.id,
            amount=2400,
            currency="eur",
            payment_id="pi_late",
        ),
        now=1_500,
    )
    assert (late.status, late.stock_reserved, late.flag) == ("paid", True, None)
    assert stock_of(store, product) == 3


def test_sandbox_session_lapses_with_the_product_hold(store, signer, make_product, make_token):
    product = make_product(stock=5, hold_seconds=600)
    provider = SandboxProvider(store, clock=lambda: 1_000)
    order = start_checkout(
        store,
        signer,
        provider,
        make_token(product),
        1,
        ttl_seconds=1800,
        return_urls=lambda o: ("http://s/ok", "http://s/no"),
        now=1_000,
    )
    assert provider.get_checkout(order.provider_session_id).expires_at == 1_600


def test_stripe_session_stays_open_30_minutes_when_the_hold_is_shorter():
    # Stripe refuses a Checkout Session expiring sooner than 30 minutes: the stock hold (the
    # order's expires_at) may be shorter; the session is not.
    import stripe

    from buybutton.payments.stripe import MIN_SESSION_SECONDS, StripeProvider

    provider = StripeProvider(stripe.StripeClient("sk_test_x"), clock=lambda: 1_000)
    request = CheckoutRequest(
        order_id="ord_1",
        merchant_id="mch_1",
        product_id="prod_1",
        product_name="Mug",
        product_image_url=None,
        unit_amount=1200,
        quantity=1,
        currency="eur",
        success_url="http://s/ok",
        cancel_url="http://s/no",
        expires_at=1_300,
        created_at=1_000,
    )
    assert provider.checkout_session_params(request)["expires_at"] == 1_000 + MIN_SESSION_SECONDS
