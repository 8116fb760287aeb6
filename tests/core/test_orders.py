import threading

import pytest
from sqlalchemy import func, select

from buybutton import catalog, orders
from buybutton.checkout import start_checkout
from buybutton.errors import Conflict, InvalidRequest, NotFound, SoldOut
from buybutton.payments.base import ProviderEvent
from buybutton.payments.sandbox import SandboxProvider
from buybutton.store import Store
from buybutton.store.schema import events

TTL = 1800


def new_order(store, signer, token, quantity=1, now=1_000):
    with store.transaction() as conn:
        return orders.create_order(
            conn, signer.verify_token(token), quantity, provider="sandbox", ttl_seconds=TTL, now=now
        )


def stock_of(store, product):
    with store.read() as conn:
        return catalog.get_product(conn, product.id).stock


def event_types(store, order_id):
    with store.read() as conn:
        return (
            conn.execute(
                select(events.c.type).where(events.c.order_id == order_id).order_by(events.c.pk)
            )
            .scalars()
            .all()
        )


def apply(store, kind, order, event_id, **fields):
    return orders.apply_provider_event(
        store,
        "sandbox",
        ProviderEvent(id=event_id, kind=kind, type=f"test.{kind}", order_id=order.id, **fields),
    )


def test_create_order_reserves_stock_and_copies_the_offer(store, signer, make_product, make_token):
    product = make_product(stock=5)
    order = new_order(store, signer, make_token(product, ref="insta"), quantity=2)
    assert (order.status, order.amount, order.unit_amount, order.ref, order.expires_at) == (
        "pending",
        2400,
        1200,
        "insta",
        1_000 + TTL,
    )
    assert order.stock_reserved and stock_of(store, product) == 3


@pytest.mark.parametrize("quantity", [0, -1, 101, 1.5, "2", True, None])
def test_create_order_rejects_bad_quantities(store, signer, make_product, make_token, quantity):
    token = make_token(make_product())
    with pytest.raises(InvalidRequest) as info:
        new_order(store, signer, token, quantity=quantity)
    assert info.value.param == "quantity"


def test_create_order_refuses_more_than_the_stock(store, signer, make_product, make_token):
    product = make_product(stock=1)
    with pytest.raises(SoldOut):
        new_order(store, signer, make_token(product), quantity=2)
    assert stock_of(store, product) == 1


@pytest.mark.parametrize("quantity", [3, 100])  # 100 × 50,000,000 overflows PostgreSQL's integer
def test_create_order_refuses_a_total_above_the_largest_amount(
    store, signer, make_product, make_token, quantity
):
    """99,999,999 is the largest amount a product may cost, and the largest Stripe charges."""
    product = make_product(amount=50_000_000, stock=500)
    with pytest.raises(InvalidRequest) as info:
        new_order(store, signer, make_token(product), quantity=quantity)
    assert info.value.param == "quantity"
    assert stock_of(store, product) == 500


def test_mark_paid_is_idempotent(store, signer, make_product, make_token):
    order = new_order(store, signer, make_token(make_product()))
    for _ in range(3):
        with store.transaction() as conn:
            paid = orders.mark_paid(conn, order.id, amount=1200, currency="eur", payment_id="pi_1")
    assert (paid.status, paid.amount_paid, paid.payment_id) == ("paid", 1200, "pi_1")
    assert event_types(store, order.id) == ["order.paid"]


def test_payment_of_the_wrong_amount_flags_instead_of_paying(
    store, signer, make_product, make_token
):
    order = new_order(store, signer, make_token(make_product()))
    with store.transaction() as conn:
        flagged = orders.mark_paid(conn, order.id, amount=1, currency="eur", payment_id="pi_x")
    assert (flagged.status, flagged.flag, flagged.amount_paid) == ("pending", "amount_mismatch", 1)
    with store.transaction() as conn:
        other = orders.mark_paid(conn, order.id, amount=1200, currency="usd", payment_id="pi_y")
    assert other.status == "pending"
    assert event_types(store, order.id) == ["order.flagged", "order.flagged"]


def test_expiry_gives_stock_back_once(store, signer, make_product, make_token):
    product = make_product(stock=3)
    order = new_order(store, signer, make_token(product), quantity=2)
    for _ in range(2):
        with store.transaction() as conn:
            assert orders.mark_expired(conn, order.id).status == "expired"
    assert stock_of(store, product) == 3
    with store.transaction() as conn:
        orders.mark_canceled(conn, order.id)  # not pending any more: no change
    assert stock_of(store, product) == 3 and event_types(store, order.id) == ["order.expired"]


def test_expired_after_paid_leaves_order_paid(store, signer, make_product, make_token):
    product = make_product(stock=3)
    order = new_order(store, signer, make_token(product))
    apply(store, "paid", order, "evt_1", amount=1200, currency="eur", payment_id="pi_1")
    apply(store, "expired", order, "evt_2")
    with store.read() as conn:
        assert orders.get_order(conn, order.id).status == "paid"
    assert stock_of(store, product) == 2


def test_payment_after_expiry_still_pays_and_re_reserves(store, signer, make_product, make_token):
    product = make_product(stock=1)
    order = new_order(store, signer, make_token(product))
    with store.transaction() as conn:
        orders.mark_expired(conn, order.id)
    assert stock_of(store, product) == 1
    paid = apply(store, "paid", order, "evt_late", amount=1200, currency="eur", payment_id="pi_1")
    assert (paid.status, paid.flag, stock_of(store, product)) == ("paid", None, 0)


def test_late_payment_when_sold_out_is_paid_and_flagged_oversold(
    store, signer, make_product, make_token
):
    product = make_product(stock=1)
    token = make_token(product)
    late = new_order(store, signer, token)
    with store.transaction() as conn:
        orders.mark_expired(conn, late.id)
    new_order(store, signer, token)  # someone else took the last one
    paid = apply(store, "paid", late, "evt_late", amount=1200, currency="eur", payment_id="pi_1")
    assert (paid.status, paid.flag) == ("paid", "oversold")


def paid_meanwhile(store, order, monkeypatch):
    """Pay ``order``, then make the next :func:`orders.get_order` answer with the order as it was
    before: a second payment event that read the order just before the first one committed."""
    with store.read() as conn:
        stale = orders.get_order(conn, order.id)
    apply(store, "paid", order, "evt_first", amount=1200, currency="eur", payment_id="pi_1")
    real_get_order, reads = orders.get_order, iter([stale])
    monkeypatch.setattr(
        orders,
        "get_order",
        lambda conn, order_id, **kw: next(reads, None) or real_get_order(conn, order_id, **kw),
    )


def test_late_payment_that_loses_the_race_keeps_no_second_reservation(
    store, signer, make_product, make_token, monkeypatch
):
    product = make_product(stock=5)
    order = new_order(store, signer, make_token(product))
    with store.transaction() as conn:
        orders.mark_expired(conn, order.id)
    paid_meanwhile(store, order, monkeypatch)
    assert stock_of(store, product) == 4
    with store.transaction() as conn:
        again = orders.mark_paid(conn, order.id, amount=1200, currency="eur", payment_id="pi_1")
    assert (again.status, stock_of(store, product)) == ("paid", 4)


def test_wrong_amount_reported_after_the_order_was_paid_does_not_flag_it(
    store, signer, make_product, make_token, monkeypatch
):
    order = new_order(store, signer, make_token(make_product()))
    paid_meanwhile(store, order, monkeypatch)
    with store.transaction() as conn:
        again = orders.mark_paid(conn, order.id, amount=999, currency="eur", payment_id="pi_2")
    assert (again.status, again.flag, again.amount_paid, again.payment_id) == (
        "paid",
        None,
        1200,
        "pi_1",
    )
    assert event_types(store, order.id) == ["order.paid"]


def test_refund_reported_before_payment_ends_refunded(store, signer, make_product, make_token):
    order = new_order(store, signer, make_token(make_product()))
    apply(store, "refunded", order, "evt_refund")
    apply(store, "paid", order, "evt_paid", amount=1200, currency="eur", payment_id="pi_1")
    with store.read() as conn:
        assert orders.get_order(conn, order.id).status == "refunded"


def test_replayed_provider_event_changes_nothing(store, signer, make_product, make_token):
    order = new_order(store, signer, make_token(make_product()))
    first = apply(store, "paid", order, "evt_same", amount=1200, currency="eur", payment_id="pi_1")
    assert first.status == "paid"
    for _ in range(4):
        assert apply(store, "paid", order, "evt_same", amount=1200, currency="eur") is None
    assert event_types(store, order.id) == ["order.paid"]


def test_event_for_unknown_order_is_recorded_and_ignored(store):
    event = ProviderEvent(id="evt_x", kind="paid", type="t", order_id="ord_nope", amount=1)
    assert orders.apply_provider_event(store, "sandbox", event) is None
    assert orders.apply_provider_event(store, "sandbox", event) is None


def test_expire_stale_orders_only_touches_lapsed_pending_orders(
    store, signer, make_product, make_token
):
    product = make_product(stock=5)
    token = make_token(product)
    stale = new_order(store, signer, token, now=1_000)
    fresh = new_order(store, signer, token, now=2_000)
    assert orders.expire_stale_orders(store, now=1_000 + TTL) == 1
    with store.read() as conn:
        assert orders.get_order(conn, stale.id).status == "expired"
        assert orders.get_order(conn, fresh.id).status == "pending"
    assert stock_of(store, product) == 4


def test_list_orders_filters_by_status_and_ref(store, signer, merchant, make_product, make_token):
    product = make_product()
    a = new_order(store, signer, make_token(product, ref="a"))
    new_order(store, signer, make_token(product, ref="b"))
    apply(store, "paid", a, "evt_a", amount=1200, currency="eur")
    with store.read() as conn:
        paid, _ = orders.list_orders(conn, merchant.id, status="paid")
        tagged, _ = orders.list_orders(conn, merchant.id, ref="b")
        with pytest.raises(InvalidRequest):
            orders.list_orders(conn, merchant.id, status="shipped")
    assert [o.id for o in paid] == [a.id] and [o.ref for o in tagged] == ["b"]


def test_refund_order_needs_a_paid_order(store, signer, merchant, make_product, make_token):
    order = new_order(store, signer, make_token(make_product()))
    provider = SandboxProvider(store)
    with pytest.raises(Conflict) as info:
        orders.refund_order(store, provider, merchant.id, order.id)
    assert info.value.code == "order_not_refundable"
    with pytest.raises(NotFound):
        orders.refund_order(store, provider, "mch_other", order.id)


def test_concurrent_checkouts_never_oversell(database_url, signer, make_product, make_token):
    """50 shoppers click at once on a product with 10 left: exactly 10 orders."""
    product = make_product(stock=10)
    token = make_token(product)
    store = Store(database_url)
    provider = SandboxProvider(store)
    outcomes: list[str] = []
    barrier = threading.Barrier(50)

    def shopper():
        barrier.wait()
        try:
            start_checkout(
                store,
                signer,
                provider,
                token,
                1,
                ttl_seconds=TTL,
                return_urls=lambda o: ("http://s/ok", "http://s/cancel"),
            )
            outcomes.append("order")
        except SoldOut:
            outcomes.append("sold_out")

    threads = [threading.Thread(target=shopper) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    with store.read() as conn:
        created = conn.execute(select(func.count()).select_from(orders.orders)).scalar_one()
    store.dispose()
    assert (outcomes.count("order"), outcomes.count("sold_out"), created) == (10, 40, 10)
    assert stock_of_url(database_url, product) == 0


def stock_of_url(url, product):
    store = Store(url)
    try:
        return stock_of(store, product)
    finally:
        store.dispose()


def test_payment_after_a_declined_card_clears_the_failure_flag(
    store, signer, make_product, make_token
):
    order = new_order(store, signer, make_token(make_product()))
    apply(store, "payment_failed", order, "evt_declined")
    with store.read() as conn:
        assert orders.get_order(conn, order.id).flag == "payment_failed"
    paid = apply(store, "paid", order, "evt_paid", amount=1200, currency="eur", payment_id="pi_2")
    assert (paid.status, paid.flag) == ("paid", None)
