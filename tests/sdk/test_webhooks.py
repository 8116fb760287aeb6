"""construct_event verifies BuyButton-Signature exactly as the contract defines it.

Signatures here are computed independently (hmac over f"{t}.{body}"), not with the SDK's helper.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from buybutton_sdk import (
    Client,
    Event,
    Order,
    SignatureVerificationError,
    construct_event,
    generate_signature_header,
)

SECRET = "whsec_test_secret"
NOW = 1_800_000_000
ORDER = {
    "id": "ord_1",
    "object": "order",
    "status": "paid",
    "amount": 1200,
    "currency": "eur",
    "ref": "insta-post-42",
}
PAYLOAD = json.dumps(
    {
        "id": "evt_1",
        "object": "event",
        "type": "order.paid",
        "created": NOW,
        "data": {"object": ORDER},
    }
).encode()


def sign(payload: bytes, secret: str = SECRET, t: int = NOW) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()


def test_valid_signature_returns_typed_event():
    event = construct_event(PAYLOAD, f"t={NOW},v1={sign(PAYLOAD)}", SECRET, now=NOW + 10)
    assert isinstance(event, Event)
    assert (event.id, event.type, event.created) == ("evt_1", "order.paid", NOW)
    assert isinstance(event.order, Order) and event.order.ref == "insta-post-42"
    assert event.data["object"] == ORDER
    assert event.to_dict() == json.loads(PAYLOAD)


def test_str_payload_is_accepted():
    text = PAYLOAD.decode()
    assert construct_event(text, f"t={NOW},v1={sign(PAYLOAD)}", SECRET, now=NOW).id == "evt_1"


def test_any_matching_v1_is_enough_during_rotation():
    header = f"t={NOW},v1={sign(PAYLOAD, 'whsec_old')},v1={sign(PAYLOAD)}"
    assert construct_event(PAYLOAD, header, SECRET, now=NOW).id == "evt_1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"t={NOW}",
        f"v1={sign(PAYLOAD)}",
        f"t=abc,v1={sign(PAYLOAD)}",
        f"t={NOW},v1={sign(PAYLOAD, 'whsec_other')}",
        f"t={NOW + 1},v1={sign(PAYLOAD)}",
        f"t={NOW},v0={sign(PAYLOAD)}",
        f"t={NOW},v1=\u00e9{sign(PAYLOAD)[1:]}",
    ],
)
def test_bad_headers_are_rejected(header):
    with pytest.raises(SignatureVerificationError) as caught:
        construct_event(PAYLOAD, header, SECRET, now=NOW)
    assert caught.value.sig_header == header


def test_tampered_payload_is_rejected():
    tampered = PAYLOAD.replace(b"1200", b"1")
    with pytest.raises(SignatureVerificationError):
        construct_event(tampered, f"t={NOW},v1={sign(PAYLOAD)}", SECRET, now=NOW)


def test_old_timestamp_is_rejected_beyond_tolerance():
    header = f"t={NOW},v1={sign(PAYLOAD)}"
    assert construct_event(PAYLOAD, header, SECRET, now=NOW + 300).id == "evt_1"
    with pytest.raises(SignatureVerificationError, match="too old"):
        construct_event(PAYLOAD, header, SECRET, now=NOW + 301)
    assert construct_event(PAYLOAD, header, SECRET, tolerance=3600, now=NOW + 301)
    assert construct_event(PAYLOAD, header, SECRET, tolerance=None, now=NOW + 10**6)


def test_signed_non_json_payload_is_rejected():
    with pytest.raises(SignatureVerificationError, match="not JSON"):
        construct_event(b"hello", f"t={NOW},v1={sign(b'hello')}", SECRET, now=NOW)


def test_client_webhooks_use_the_client_clock():
    header = f"t={NOW},v1={sign(PAYLOAD)}"
    fresh = Client(api_key="bb_sk_k", base_url="https://buy.test", clock=lambda: NOW + 5)
    stale = Client(api_key="bb_sk_k", base_url="https://buy.test", clock=lambda: NOW + 500)
    assert fresh.webhooks.construct_event(PAYLOAD, header, SECRET).type == "order.paid"
    with pytest.raises(SignatureVerificationError):
        stale.webhooks.construct_event(PAYLOAD, header, SECRET)


def test_generate_signature_header_matches_the_contract():
    assert generate_signature_header(PAYLOAD, SECRET, NOW) == f"t={NOW},v1={sign(PAYLOAD)}"
