"""The idempotency-key store, on SQLite and PostgreSQL, with an injected clock."""

import secrets
import uuid

import pytest

from buybutton import idempotency
from buybutton.errors import Conflict, InvalidRequest
from buybutton.idempotency import Claim, StoredResponse
from tests.support.accounts import create_account

NOW = 1_800_000_000
CREATED = StoredResponse(status=201, body='{"id":"prod_1"}', content_type="application/json")


def fingerprint(body: bytes = b'{"name":"Mug"}') -> str:
    return idempotency.request_fingerprint("POST", "/v1/products", body)


def test_first_claim_runs_and_its_response_is_replayed(store, merchant):
    held = idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW)
    assert isinstance(held, Claim)
    idempotency.record(store, held, CREATED)
    assert idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW + 60) == CREATED


def test_same_key_with_other_body_is_rejected_as_reused(store, merchant):
    idempotency.record(
        store, idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW), CREATED
    )
    with pytest.raises(Conflict) as caught:
        idempotency.claim(store, merchant.id, "k1", fingerprint(b'{"name":"Cup"}'), now=NOW)
    assert caught.value.code == "idempotency_key_reused"


def test_key_still_in_flight_is_in_use(store, merchant):
    idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW)
    with pytest.raises(Conflict) as caught:
        idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW + 1)
    assert caught.value.code == "idempotency_key_in_use"


def test_abandoned_claim_is_taken_over_after_lock_timeout(store, merchant):
    first = idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW)
    later = NOW + idempotency.LOCK_TIMEOUT_SECONDS + 1
    second = idempotency.claim(store, merchant.id, "k1", fingerprint(), now=later)
    assert isinstance(second, Claim) and second.pk == first.pk
    idempotency.record(store, first, CREATED)  # the stale holder can no longer write
    idempotency.record(store, second, StoredResponse(200, "{}", "application/json"))
    replay = idempotency.claim(store, merchant.id, "k1", fingerprint(), now=later)
    assert replay == StoredResponse(200, "{}", "application/json")


def test_server_error_releases_the_key(store, merchant):
    held = idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW)
    idempotency.record(store, held, StoredResponse(503, '{"error":{}}', "application/json"))
    assert isinstance(idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW), Claim)


def test_key_expires_after_24_hours(store, merchant):
    idempotency.record(
        store, idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW), CREATED
    )
    almost = NOW + idempotency.KEY_TTL_SECONDS - 1
    assert idempotency.claim(store, merchant.id, "k1", fingerprint(), now=almost) == CREATED
    expired = NOW + idempotency.KEY_TTL_SECONDS
    fresh = idempotency.claim(store, merchant.id, "k1", fingerprint(b'{"other":1}'), now=expired)
    assert isinstance(fresh, Claim)


def test_keys_are_per_merchant(store, merchant):
    other = create_account(store, "Other Shop")
    idempotency.claim(store, merchant.id, "k1", fingerprint(), now=NOW)
    assert isinstance(idempotency.claim(store, other.id, "k1", fingerprint(), now=NOW), Claim)


def test_purge_expired_deletes_only_old_keys(store, merchant):
    idempotency.claim(store, merchant.id, "old", fingerprint(), now=NOW)
    idempotency.claim(store, merchant.id, "new", fingerprint(), now=NOW + 3600)
    assert idempotency.purge_expired(store, now=NOW + idempotency.KEY_TTL_SECONDS) == 1
    with pytest.raises(Conflict):
        idempotency.claim(store, merchant.id, "new", fingerprint(), now=NOW + 3601)


def test_fingerprint_ignores_json_key_order_and_spacing():
    assert fingerprint(b'{"a": 1, "b": 2}') == fingerprint(b'{"b":2,"a":1}')
    assert fingerprint(b'{"a":1}') != fingerprint(b'{"a":2}')
    assert idempotency.request_fingerprint("POST", "/v1/a", b"") != idempotency.request_fingerprint(
        "POST", "/v1/b", b""
    )


@pytest.mark.parametrize(
    "key",
    ["", "   ", "x" * 256, "bad\nkey", "tab\tkey", "del\x7fkey", "caf\u00e9-1", "\u00a0", 42, None],
)
def test_invalid_keys_are_rejected_naming_the_header(key):
    with pytest.raises(InvalidRequest) as caught:
        idempotency.validate_idempotency_key(key)
    assert (caught.value.param, caught.value.code) == ("Idempotency-Key", "invalid_idempotency_key")


@pytest.mark.parametrize(
    "key", ["x", "k" * 255, str(uuid.uuid4()), secrets.token_urlsafe(24), "order 42/refund?#~!"]
)
def test_the_one_key_rule_takes_printable_ascii_from_1_to_255(key):
    assert idempotency.validate_idempotency_key(key) == key


def test_cli_purges_expired_keys(store, merchant, database_url, tmp_path, monkeypatch, capsys):
    import time

    from buybutton import cli

    idempotency.claim(store, merchant.id, "old", fingerprint(), now=time.time() - 2 * 86400)
    idempotency.claim(store, merchant.id, "recent", fingerprint())
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert cli.main(["db", "purge-idempotency-keys"]) == 0
    assert "Deleted 1 idempotency key(s)" in capsys.readouterr().out
    with pytest.raises(Conflict):
        idempotency.claim(store, merchant.id, "recent", fingerprint())
