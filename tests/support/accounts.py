"""The test signing keys and a merchant account with its API key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from buybutton import merchants
from buybutton.store import Store

TEST_KEYS = ("test-secret-key-older", "test-secret-key-newest")


@dataclass
class MerchantAccount:
    id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def create_account(
    store: Store, name: str = "Test Shop", allowed_origins: Iterable[str] = ()
) -> MerchantAccount:
    with store.transaction() as conn:
        merchant, api_key = merchants.create_merchant(conn, name, allowed_origins=allowed_origins)
    return MerchantAccount(merchant.id, api_key)
