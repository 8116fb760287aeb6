"""The core behind the dashboard: accounts and passwords, API keys as rows, offer links."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update

from buybutton import accounts, catalog, funnel, merchants, offers, orders
from buybutton.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    ProductUnavailable,
    TokenRevoked,
)
from buybutton.money import parse_price, price_input
from buybutton.store.schema import dashboard_accounts
from buybutton_server.routes import offline_links
from tests.support.accounts import create_account

LINKS = offline_links("http://shop.test")
T0 = 1_800_000_000


def test_an_account_signs_in_with_its_password_only(store, merchant):
    with store.transaction() as conn:
        account = accounts.create_account(
            conn, merchant.id, " Ana@Shop.Example ", "long password 1"
        )
    assert account.email == "ana@shop.example"
    with store.transaction() as conn:
        assert accounts.sign_in(conn, "ANA@shop.example", "long password 1").id == account.id
        for email, password in [
            ("ana@shop.example", "long password 2"),
            ("nobody@shop.example", "long password 1"),
            ("ana@shop.example", ""),
            (None, None),
            ("ana@shop.example", "x" * 5000),
        ]:
            with pytest.raises(AuthenticationFailed) as caught:
                accounts.sign_in(conn, email, password)
            assert caught.value.code == "sign_in_failed"
            assert caught.value.message == "The email or password is not right."


def test_passwords_are_stored_as_argon2id_hashes(store, merchant):
    with store.transaction() as conn:
        accounts.create_account(conn, merchant.id, "a@shop.example", "long password 1")
        stored = conn.execute(dashboard_accounts.select()).one().password_hash
    assert stored.startswith("$argon2id$") and "long password" not in stored


def test_an_outdated_hash_is_upgraded_at_sign_in(store, merchant):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("long password 1")
    with store.transaction() as conn:
        accounts.create_account(conn, merchant.id, "a@shop.example", "long password 1")
        conn.execute(update(dashboard_accounts).values(password_hash=weak))
    with store.transaction() as conn:
        accounts.sign_in(conn, "a@shop.example", "long password 1")
        stored = conn.execute(dashboard_accounts.select()).one().password_hash
    assert stored != weak and "m=65536" in stored


@pytest.mark.parametrize(
    "email", ["", "ana", "ana@", "@shop.example", "a@b", "a b@shop.example", "a@@b.c"]
)
def test_bad_emails_are_refused(store, merchant, email):
    with pytest.raises(InvalidRequest) as caught, store.transaction() as conn:
        accounts.create_account(conn, merchant.id, email, "long password 1")
    assert caught.value.param == "email"


def test_short_passwords_and_taken_emails_are_refused(store, merchant):
    with pytest.raises(InvalidRequest) as caught, store.transaction() as conn:
        accounts.create_account(conn, merchant.id, "a@shop.example", "short")
    assert caught.value.param == "password"
    with store.transaction() as conn:
        accounts.create_account(conn, merchant.id, "a@shop.example", "long password 1")
    with pytest.raises(Conflict) as caught, store.transaction() as conn:
        accounts.create_merchant_with_account(conn, "Other", "A@shop.example", "long password 2")
    assert caught.value.code == "email_taken"


def test_a_session_stands_until_the_password_changes(store, merchant):
    with store.transaction() as conn:
        account = accounts.create_account(
            conn, merchant.id, "a@shop.example", "long password 1", now=T0
        )
    with store.read() as conn:
        assert accounts.session_account(conn, account.id, account.password_changed_at) == account
    with store.transaction() as conn:
        changed = accounts.set_password(conn, "a@shop.example", "long password 2", now=T0)
    assert changed.password_changed_at > account.password_changed_at  # even within one second
    with store.read() as conn:
        assert accounts.session_account(conn, account.id, account.password_changed_at) is None
        assert accounts.session_account(conn, "acct_nope", 0) is None
        assert accounts.session_account(conn, None, None) is None


def test_api_keys_are_created_listed_by_last_four_and_revoked(store, merchant):
    with store.read() as conn:
        [first] = merchants.list_api_keys(conn, merchant.id)
        assert merchants.authenticate(conn, merchant.api_key).id == merchant.id
    assert first.last4 == merchant.api_key[-4:]
    with store.transaction() as conn:
        second, secret = merchants.create_api_key(conn, merchant.id)
    assert secret.startswith("bb_sk_") and second.last4 == secret[-4:]
    with store.transaction() as conn:
        merchants.revoke_api_key(conn, merchant.id, first.id)
        merchants.revoke_api_key(conn, merchant.id, first.id)  # again: a no-op
    with store.read() as conn:
        with pytest.raises(AuthenticationFailed):
            merchants.authenticate(conn, merchant.api_key)
        assert merchants.authenticate(conn, secret).id == merchant.id
        keys = merchants.list_api_keys(conn, merchant.id)
    assert [k.id for k in keys] == [second.id, first.id]
    assert keys[1].revoked_at is not None and keys[0].revoked_at is None


def test_a_key_is_revoked_only_by_its_merchant(store, merchant):
    other = create_account(store, "Other")
    with store.read() as conn:
        [key] = merchants.list_api_keys(conn, merchant.id)
    with pytest.raises(NotFound), store.transaction() as conn:
        merchants.revoke_api_key(conn, other.id, key.id)
    with store.read() as conn:
        assert merchants.authenticate(conn, merchant.api_key).id == merchant.id


def test_offer_links_are_recorded_listed_and_revoked_one_by_one(store, signer, make_product):
    product = make_product()
    with store.transaction() as conn:
        spring = offers.issue_link(conn, signer, product, links=LINKS, ref="spring", now=T0)
        summer = offers.issue_link(
            conn, signer, product, links=LINKS, ref="summer", expires_in=3600, now=T0
        )
    with store.read() as conn:
        listed = offers.list_links(conn, signer, product.merchant_id, product.id, now=T0)
    assert [(link.ref, link.status) for link in listed] == [("summer", "live"), ("spring", "live")]
    assert listed[1].token == spring["token"] and listed[0].expires_at == T0 + 3600
    with store.transaction() as conn:
        revoked = offers.revoke_link(
            conn, signer, product.merchant_id, product.id, spring["link_id"], now=T0
        )
    assert revoked.status == "revoked" and revoked.id == spring["link_id"]
    with store.read() as conn:
        with pytest.raises(TokenRevoked):
            catalog.resolve_token(conn, signer.verify_token(spring["token"]))
        assert catalog.resolve_token(conn, signer.verify_token(summer["token"])).id == product.id
        states = [
            link.status
            for link in offers.list_links(
                conn, signer, product.merchant_id, product.id, now=T0 + 3600
            )
        ]
    assert states == ["expired", "revoked"]


def test_a_price_change_withdraws_every_link(store, signer, make_product):
    product = make_product()
    with store.transaction() as conn:
        offers.issue_link(conn, signer, product, links=LINKS, now=T0)
        catalog.update_product(conn, product.merchant_id, product.id, {"amount": 1500})
        [link] = offers.list_links(conn, signer, product.merchant_id, product.id, now=T0)
    assert link.status == "withdrawn" and link.amount == 1200


def test_links_are_the_merchants_own(store, signer, make_product):
    product = make_product()
    other = create_account(store, "Other")
    with store.transaction() as conn:
        link = offers.issue_link(conn, signer, product, links=LINKS, now=T0)
    with pytest.raises(NotFound), store.transaction() as conn:
        offers.revoke_link(conn, signer, other.id, product.id, link["link_id"])
    second = make_product(name="Second")
    with pytest.raises(NotFound), store.transaction() as conn:  # the link of another product
        offers.revoke_link(conn, signer, product.merchant_id, second.id, link["link_id"])
    with pytest.raises(NotFound), store.read() as conn:
        offers.list_links(conn, signer, other.id, product.id)


def test_an_inactive_product_gets_no_link(store, signer, make_product):
    product = make_product(active=False)
    with pytest.raises(ProductUnavailable), store.transaction() as conn:
        offers.issue_link(conn, signer, product, links=LINKS)


def test_a_link_id_in_a_forged_place_does_not_sell(store, signer, make_product):
    """A token naming a link of another product is refused (the link must be the product's)."""
    first, second = make_product(), make_product(name="Other")
    with store.transaction() as conn:
        link = offers.issue_link(conn, signer, first, links=LINKS, now=T0)
    claims = catalog.offer_claims(second, link_id=link["link_id"])
    with pytest.raises(TokenRevoked), store.read() as conn:
        catalog.resolve_token(conn, signer.verify_token(signer.issue_token(claims)))


@pytest.mark.parametrize(
    "text, currency, amount",
    [
        ("12", "eur", 1200),
        ("12.5", "eur", 1250),
        ("12,50", "eur", 1250),
        ("1 234,56", "eur", 123456),
        ("1200", "jpy", 1200),
        ("0.125", "kwd", 125),
    ],
)
def test_prices_typed_by_people_are_read_exactly(text, currency, amount):
    assert parse_price(text, currency) == amount
    assert parse_price(price_input(amount, currency), currency) == amount


@pytest.mark.parametrize(
    "text, currency",
    [
        ("12.345", "eur"),
        ("1.5", "jpy"),
        ("", "eur"),
        ("1e3", "eur"),
        ("-1", "eur"),
        ("0", "eur"),
        ("1000000", "eur"),
        (None, "eur"),
    ],
)
def test_bad_prices_are_refused(text, currency):
    with pytest.raises(InvalidRequest) as caught:
        parse_price(text, currency)
    assert caught.value.code == "invalid_amount"


def test_the_funnel_of_one_product_counts_only_its_own(store, signer, merchant, make_product):
    mug, tote = make_product(name="Mug"), make_product(name="Tote")
    with store.transaction() as conn:
        for product in (mug, tote):
            claims = catalog.offer_claims(product, ref="post")
            funnel.record_beacon(conn, claims, "impression")
            orders.create_order(conn, claims, 1, provider="sandbox", ttl_seconds=1800)
    with store.read() as conn:
        everything = funnel.merchant_stats(conn, merchant.id)
        mine = funnel.merchant_stats(conn, merchant.id, product_id=mug.id)
    assert (everything["totals"]["impressions"], everything["totals"]["orders"]) == (2, 2)
    assert (mine["totals"]["impressions"], mine["totals"]["orders"]) == (1, 1)
    assert [row["product_id"] for row in mine["by_product"]] == [mug.id]
