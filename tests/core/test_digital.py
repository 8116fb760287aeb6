"""Digital goods in the core: entitlements made once at payment, licence keys, the download
window and count (the concurrency of counting: tests/postgres/test_download_races.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from buybutton import catalog, digital, orders
from buybutton.digital import DownloadPolicy, normalize_license_key
from buybutton.errors import Forbidden, Gone, NotFound
from buybutton.payments.base import ProviderEvent
from buybutton.storage import StoredFile

NOW = 1_000_000
POLICY = DownloadPolicy(ttl_seconds=3600, limit=2)


class Links:
    def download_url(self, token: str) -> str:
        return f"http://shop.test/downloads/{token}"


@pytest.fixture
def order_of(store, make_product, merchant):
    """``order_of(file=True, license_keys=False)``: a pending order of a new product."""

    def make(*, file: bool = True, license_keys: bool = False) -> str:
        product = make_product(license_keys=license_keys)
        with store.transaction() as conn:
            if file:
                catalog.attach_file(
                    conn,
                    merchant.id,
                    product.id,
                    StoredFile("b" * 64, 10, "b" * 64, "application/pdf"),
                    name="guide.pdf",
                )
            return orders.create_order(
                conn, catalog.offer_claims(product), 1, provider="sandbox", ttl_seconds=600, now=NOW
            ).id

    return make


def _pay(store, order_id: str, now: int = NOW) -> None:
    with store.transaction() as conn:
        orders.mark_paid(conn, order_id, amount=None, currency=None, payment_id="pi_1", now=now)


def test_a_licence_key_is_five_groups_of_crockford_base32():
    key = digital.new_license_key()
    groups = key.split("-")
    assert len(groups) == 5 and all(len(g) == 5 for g in groups)
    assert set(key.replace("-", "")) <= set(digital.LICENSE_ALPHABET)
    assert digital.new_license_key() != key


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("abcde-fghjk-mnpqr-stvwx-yz012", "ABCDE-FGHJK-MNPQR-STVWX-YZ012"),
        ("ABCDE FGHJK MNPQR STVWX YZ012", "ABCDE-FGHJK-MNPQR-STVWX-YZ012"),
        ("0OIL1" * 5, "00111-00111-00111-00111-00111"),
    ],
)
def test_licence_keys_are_read_as_people_type_them(typed, stored):
    assert normalize_license_key(typed) == stored


@pytest.mark.parametrize("bad", ["", "ABCDE", "U" * 25, None, 12345, "A" * 100])
def test_what_cannot_be_a_licence_key_is_none(bad):
    assert normalize_license_key(bad) is None


def test_payment_grants_one_entitlement_with_a_key_whatever_the_duplicates(store, order_of):
    order_id = order_of(license_keys=True)
    event = ProviderEvent(
        id="evt_1",
        kind="paid",
        type="checkout.session.completed",
        order_id=order_id,
        amount=1200,
        currency="eur",
        payment_id="pi_1",
    )
    orders.apply_provider_event(store, "sandbox", event, now=NOW)
    with store.read() as conn:
        first = digital.get_entitlement(conn, order_id)
    assert first is not None and normalize_license_key(first.license_key) == first.license_key
    orders.apply_provider_event(store, "sandbox", event, now=NOW + 5)  # replayed
    again = replace(event, id="evt_2")  # another event of the same payment
    orders.apply_provider_event(store, "sandbox", again, now=NOW + 9)
    with store.transaction() as conn:
        assert digital.grant(conn, order_id, now=NOW + 10) == first
        assert digital.get_entitlement(conn, order_id) == first
    assert first.created_at == NOW


def test_a_product_without_licence_keys_gets_none(store, order_of):
    order_id = order_of()
    _pay(store, order_id)
    with store.read() as conn:
        assert digital.get_entitlement(conn, order_id).license_key is None


def test_downloads_follow_the_order_the_window_and_the_count(store, order_of):
    order_id = order_of()
    with store.transaction() as conn, pytest.raises(Forbidden) as unpaid:
        digital.claim_download(conn, order_id, POLICY, now=NOW)
    assert unpaid.value.code == "download_not_paid"
    _pay(store, order_id)
    with store.transaction() as conn:
        assert digital.claim_download(conn, order_id, POLICY, now=NOW + 1).downloads_left == 1
        assert digital.check_download(conn, order_id, POLICY, now=NOW + 2).downloads_left == 1
        assert digital.claim_download(conn, order_id, POLICY, now=NOW + 2).downloads_left == 0
    with store.transaction() as conn, pytest.raises(Gone) as used_up:
        digital.claim_download(conn, order_id, POLICY, now=NOW + 3)
    assert used_up.value.code == "download_limit_reached"
    with store.transaction() as conn, pytest.raises(Gone) as expired:
        digital.check_download(conn, order_id, POLICY, now=NOW + 3600)
    assert expired.value.code == "download_expired"


def test_the_window_opens_at_the_payment_and_a_refund_closes_it(store, order_of):
    order_id = order_of()
    _pay(store, order_id, now=NOW + 500)
    with store.transaction() as conn:
        assert digital.check_download(conn, order_id, POLICY, now=NOW + 4000).expires_at == (
            NOW + 500 + 3600
        )
        orders.mark_refunded(conn, order_id, now=NOW + 4001)
    with store.transaction() as conn, pytest.raises(Gone) as refunded:
        digital.claim_download(conn, order_id, POLICY, now=NOW + 4002)
    assert refunded.value.code == "download_refunded"


def test_a_product_without_a_file_has_nothing_to_download(store, order_of):
    order_id = order_of(file=False)
    _pay(store, order_id)
    with store.read() as conn, pytest.raises(NotFound) as missing:
        digital.check_download(conn, order_id, POLICY, now=NOW)
    assert missing.value.code == "file_not_found"


def test_order_delivery_gives_the_link_the_count_and_the_key(store, signer, order_of):
    order_id = order_of(license_keys=True)
    with store.read() as conn:
        assert (
            digital.order_delivery(
                conn, order_id, signer=signer, links=Links(), policy=POLICY, now=NOW
            )
            is None
        )  # not paid
    _pay(store, order_id)
    with store.read() as conn:
        delivery = digital.order_delivery(
            conn, order_id, signer=signer, links=Links(), policy=POLICY, now=NOW + 1
        )
    assert delivery.status == "available" and delivery.available
    assert signer.verify_download(delivery.download_url.rsplit("/", 1)[1]) == order_id
    assert (delivery.downloads_left, delivery.downloads_allowed) == (2, 2)
    assert delivery.expires_at == NOW + 3600 and delivery.file.name == "guide.pdf"
    assert delivery.license_key is not None
    with store.read() as conn:
        late = digital.order_delivery(
            conn, order_id, signer=signer, links=Links(), policy=POLICY, now=NOW + 3600
        )
    assert late.status == "expired" and not late.available


def test_an_order_of_a_plain_product_delivers_nothing(store, signer, order_of):
    order_id = order_of(file=False)
    _pay(store, order_id)
    with store.read() as conn:
        assert (
            digital.order_delivery(
                conn, order_id, signer=signer, links=Links(), policy=POLICY, now=NOW
            )
            is None
        )


def test_download_tokens_are_not_order_references(signer):
    token = signer.sign_download("ord_1")
    assert signer.verify_download(token) == "ord_1"
    assert signer.verify_order_ref(token) is None
    assert signer.verify_download(signer.sign_order_ref("ord_1")) is None
    assert signer.verify_download("x" * 1000) is None
