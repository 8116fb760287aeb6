import pytest

from buybutton import orders
from buybutton.checkout import start_checkout
from buybutton.errors import Gone, InvalidRequest, PaymentDeclined
from buybutton.payments.sandbox import SandboxProvider

URLS = ("http://shop.test/orders/r?checkout=success", "http://shop.test/orders/r?checkout=canceled")


@pytest.fixture
def clock():
    return [10_000.0]


@pytest.fixture
def provider(store, clock):
    return SandboxProvider(store, clock=lambda: clock[0])


@pytest.fixture
def order(store, signer, provider, make_product, make_token, clock):
    token = make_token(make_product(stock=4))
    return start_checkout(
        store,
        signer,
        provider,
        token,
        1,
        return_urls=lambda o: URLS,
        ttl_seconds=1800,
        now=clock[0],
    )


def status(store, order):
    with store.read() as conn:
        return orders.get_order(conn, order.id)


def test_checkout_opens_a_sandbox_session(order, provider):
    assert order.checkout_url == f"/sandbox/checkout/{order.provider_session_id}"
    session = provider.retrieve_session(order.provider_session_id)
    assert (session.status, session.paid, session.amount_total, session.order_id) == (
        "open",
        False,
        1200,
        order.id,
    )


@pytest.mark.parametrize("card", ["4242 4242 4242 4242", "4242-4242-4242-4242", "4242424242424242"])
def test_success_card_pays_the_order(store, provider, order, card):
    assert provider.pay(order.provider_session_id, card) == URLS[0]
    paid = status(store, order)
    assert (paid.status, paid.amount_paid) == ("paid", 1200)
    assert paid.payment_id.startswith("pi_sbx_")
    assert provider.retrieve_session(order.provider_session_id).paid


def test_paying_twice_charges_once(store, provider, order):
    provider.pay(order.provider_session_id, "4242424242424242")
    first = status(store, order).payment_id
    assert provider.pay(order.provider_session_id, "4242424242424242") == URLS[0]
    assert status(store, order).payment_id == first


def test_declined_card_leaves_order_pending_and_retryable(store, provider, order):
    with pytest.raises(PaymentDeclined) as info:
        provider.pay(order.provider_session_id, "4000 0000 0000 0002")
    assert (info.value.status, info.value.code) == (402, "card_declined")
    assert "declined" in info.value.message
    assert status(store, order).status == "pending"
    provider.pay(order.provider_session_id, "4242 4242 4242 4242")
    assert status(store, order).status == "paid"


@pytest.mark.parametrize("card", ["1234 5678 9012 3456", "abcd", "", None])
def test_other_cards_are_invalid(provider, order, card):
    with pytest.raises(InvalidRequest) as info:
        provider.pay(order.provider_session_id, card)
    assert (info.value.code, info.value.param) == ("invalid_card", "card_number")


def test_lapsed_session_cannot_be_paid_and_expires_the_order(store, provider, order, clock):
    clock[0] += 1800
    with pytest.raises(Gone) as info:
        provider.pay(order.provider_session_id, "4242424242424242")
    assert info.value.code == "session_expired"
    assert status(store, order).status == "expired"


def test_cancel_cancels_the_order_and_frees_stock(store, provider, order):
    assert provider.cancel(order.provider_session_id) == URLS[1]
    assert status(store, order).status == "canceled"
    with pytest.raises(Gone):
        provider.pay(order.provider_session_id, "4242424242424242")


def test_refund_through_the_sandbox(store, provider, order, merchant):
    provider.pay(order.provider_session_id, "4242424242424242")
    refunded = orders.refund_order(store, provider, merchant.id, order.id)
    assert refunded.status == "refunded"
    assert orders.refund_order(store, provider, merchant.id, order.id).status == "refunded"


def test_same_idempotency_key_returns_the_same_session(
    store, signer, provider, make_product, make_token
):
    token = make_token(make_product())
    first = start_checkout(
        store,
        signer,
        provider,
        token,
        1,
        return_urls=lambda o: URLS,
        ttl_seconds=1800,
        checkout_key="key-123456",
    )
    again = start_checkout(
        store,
        signer,
        provider,
        token,
        1,
        return_urls=lambda o: URLS,
        ttl_seconds=1800,
        checkout_key="key-123456",
    )
    assert (again.id, again.provider_session_id) == (first.id, first.provider_session_id)


def test_payment_racing_a_cancel_that_won_is_not_sent_to_success(
    store, provider, order, monkeypatch
):
    """The shopper pays in one tab while the cancel of another tab commits first."""
    opened = provider.get_checkout(order.provider_session_id)
    provider.cancel(order.provider_session_id)
    monkeypatch.setattr(provider, "get_checkout", lambda session_id: opened)
    with pytest.raises(Gone):
        provider.pay(order.provider_session_id, "4242424242424242")
    assert status(store, order).status == "canceled"


class Crash(Exception):
    """Stands for the process dying between accepting the card and paying the order."""


def _crash(*args, **kwargs):
    raise Crash()


def _written(store, order):
    from sqlalchemy import func, select

    from buybutton.store.schema import events, provider_events

    with store.read() as conn:
        return (
            conn.execute(
                select(func.count())
                .select_from(provider_events)
                .where(provider_events.c.order_id == order.id)
            ).scalar_one(),
            conn.execute(
                select(func.count()).select_from(events).where(events.c.order_id == order.id)
            ).scalar_one(),
        )


def test_crash_between_card_and_order_writes_nothing(store, provider, order, monkeypatch):
    monkeypatch.setattr(orders, "mark_paid", _crash)
    with pytest.raises(Crash):
        provider.pay(order.provider_session_id, "4242 4242 4242 4242")
    # Nothing half-written: the session is still open, unpaid, and the order pending.
    session = provider.retrieve_session(order.provider_session_id)
    assert (session.status, session.paid, session.payment_id) == ("open", False, None)
    assert status(store, order).status == "pending"
    assert _written(store, order) == (0, 0)
    monkeypatch.undo()
    # So the shopper's retry pays it, once.
    assert provider.pay(order.provider_session_id, "4242 4242 4242 4242") == URLS[0]
    assert status(store, order).status == "paid"
    assert provider.retrieve_session(order.provider_session_id).paid
    assert _written(store, order) == (1, 1)


def test_crash_while_closing_a_session_leaves_it_open(store, provider, order, monkeypatch):
    monkeypatch.setattr(orders, "mark_canceled", _crash)
    with pytest.raises(Crash):
        provider.cancel(order.provider_session_id)
    assert provider.retrieve_session(order.provider_session_id).status == "open"
    assert status(store, order).status == "pending"
    monkeypatch.undo()
    assert provider.cancel(order.provider_session_id) == URLS[1]
    assert status(store, order).status == "canceled"
