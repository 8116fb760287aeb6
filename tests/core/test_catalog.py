import pytest

from buybutton import catalog
from buybutton.errors import InvalidRequest, NotFound, ProductUnavailable, SoldOut, TokenRevoked


def test_create_product_stores_validated_fields(store, merchant):
    with store.transaction() as conn:
        product = catalog.create_product(
            conn,
            merchant.id,
            {
                "name": "  Mug  ",
                "amount": 1200,
                "currency": "EUR",
                "stock": 3,
                "image_url": "https://img.example/mug.png",
                "description": "Blue",
            },
        )
    assert (product.name, product.currency, product.stock, product.active) == (
        "Mug",
        "eur",
        3,
        True,
    )
    assert product.id.startswith("prod_") and product.token_generation == 1


@pytest.mark.parametrize(
    "fields, param",
    [
        ({"amount": 1200, "currency": "eur"}, "name"),
        ({"name": "", "amount": 1200, "currency": "eur"}, "name"),
        ({"name": "x" * 201, "amount": 1200, "currency": "eur"}, "name"),
        ({"name": "Mug", "currency": "eur"}, "amount"),
        ({"name": "Mug", "amount": -5, "currency": "eur"}, "amount"),
        ({"name": "Mug", "amount": 10**20, "currency": "eur"}, "amount"),
        ({"name": "Mug", "amount": 1200, "currency": "zzz"}, "currency"),
        ({"name": "Mug", "amount": 1200, "currency": "eur", "stock": -1}, "stock"),
        ({"name": "Mug", "amount": 1200, "currency": "eur", "stock": "5"}, "stock"),
        (
            {"name": "Mug", "amount": 1200, "currency": "eur", "image_url": "javascript:alert(1)"},
            "image_url",
        ),
        ({"name": "Mug", "amount": 1200, "currency": "eur", "active": "yes"}, "active"),
        ({"name": "Mug", "amount": 1200, "currency": "eur", "colour": "red"}, "colour"),
    ],
)
def test_create_product_rejects_bad_fields_naming_them(store, merchant, fields, param):
    with pytest.raises(InvalidRequest) as info, store.transaction() as conn:
        catalog.create_product(conn, merchant.id, fields)
    assert info.value.param == param


def test_products_are_private_to_their_merchant(store, make_product):
    product = make_product()
    with pytest.raises(NotFound), store.read() as conn:
        catalog.get_product(conn, product.id, merchant_id="mch_someone_else")


def test_changing_the_price_revokes_outstanding_tokens(
    store, merchant, make_product, signer, make_token
):
    product = make_product()
    claims = signer.verify_token(make_token(product))
    with store.transaction() as conn:
        catalog.update_product(conn, merchant.id, product.id, {"name": "Big mug"})
        assert catalog.resolve_token(conn, claims).name == "Big mug"  # a rename keeps offers
        catalog.update_product(conn, merchant.id, product.id, {"amount": 1500})
    with pytest.raises(TokenRevoked), store.read() as conn:
        catalog.resolve_token(conn, claims)


def test_revoke_tokens_bumps_the_generation(store, merchant, make_product, signer, make_token):
    product = make_product()
    claims = signer.verify_token(make_token(product))
    with store.transaction() as conn:
        assert catalog.revoke_tokens(conn, merchant.id, product.id).token_generation == 2
    with pytest.raises(TokenRevoked), store.read() as conn:
        catalog.resolve_token(conn, claims)
    fresh = signer.verify_token(make_token(catalog_product(store, product.id)))
    with store.read() as conn:
        assert catalog.resolve_token(conn, fresh).id == product.id


def catalog_product(store, product_id):
    with store.read() as conn:
        return catalog.get_product(conn, product_id)


@pytest.mark.parametrize("change", [{"active": False}, "delete"])
def test_inactive_or_deleted_products_are_unavailable(
    store, merchant, make_product, signer, make_token, change
):
    product = make_product()
    claims = signer.verify_token(make_token(product))
    with store.transaction() as conn:
        if change == "delete":
            catalog.delete_product(conn, merchant.id, product.id)
        else:
            catalog.update_product(conn, merchant.id, product.id, change)
    with pytest.raises(ProductUnavailable), store.read() as conn:
        catalog.resolve_token(conn, claims)


def test_token_for_unknown_product_is_not_found(store, signer):
    from buybutton.tokens import TokenClaims

    with pytest.raises(NotFound) as info, store.read() as conn:
        catalog.resolve_token(conn, TokenClaims("mch_x", "prod_missing", 100, "eur", 1))
    assert info.value.code == "product_not_found"


def test_reserve_stock_counts_down_and_refuses_overselling(store, make_product):
    product = make_product(stock=2)
    with store.transaction() as conn:
        assert catalog.reserve_stock(conn, product.id, 2) is True
        with pytest.raises(SoldOut):
            catalog.reserve_stock(conn, product.id, 1)
        catalog.release_stock(conn, product.id, 1)
        assert catalog.get_product(conn, product.id).stock == 1


def test_unlimited_stock_is_never_counted(store, make_product):
    product = make_product()
    with store.transaction() as conn:
        assert catalog.reserve_stock(conn, product.id, 100) is False
        assert catalog.get_product(conn, product.id).stock is None


def test_list_products_paginates_newest_first(store, merchant, make_product):
    made = [make_product(name=f"P{i}") for i in range(5)]
    with store.read() as conn:
        first, more = catalog.list_products(conn, merchant.id, limit=2)
        second, more2 = catalog.list_products(
            conn, merchant.id, limit=2, starting_after=first[-1].id
        )
        last, more3 = catalog.list_products(
            conn, merchant.id, limit=2, starting_after=second[-1].id
        )
    assert [p.name for p in first + second + last] == ["P4", "P3", "P2", "P1", "P0"]
    assert (more, more2, more3) == (True, True, False)
    assert len(made) == 5


def test_offer_rejects_bad_ref(make_product):
    product = make_product()
    for ref in ("", "x" * 65, "tab\there", 12):
        with pytest.raises(InvalidRequest):
            catalog.offer_claims(product, ref=ref)
