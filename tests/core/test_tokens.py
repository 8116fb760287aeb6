import base64
import json

import pytest

from buybutton.errors import InvalidToken, TokenExpired
from buybutton.tokens import TokenClaims, TokenSigner

CLAIMS = TokenClaims(
    merchant_id="mch_1", product_id="prod_1", amount=1200, currency="eur", generation=1, ref="insta"
)


def test_token_round_trips_its_claims():
    signer = TokenSigner(["k"])
    assert signer.verify_token(signer.issue_token(CLAIMS)) == CLAIMS


def test_token_payload_is_readable_but_not_forgeable():
    signer = TokenSigner(["k"])
    token = signer.issue_token(CLAIMS)
    body, signature = token.rsplit(".", 1)
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert payload["a"] == 1200  # the widget reads the price without a request
    payload["a"] = 1
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    with pytest.raises(InvalidToken):
        signer.verify_token(f"{forged}.{signature}")


def test_token_signed_with_another_key_is_invalid():
    token = TokenSigner(["attacker"]).issue_token(CLAIMS)
    with pytest.raises(InvalidToken):
        TokenSigner(["k"]).verify_token(token)


def test_rotated_keys_still_verify_old_tokens_and_sign_with_newest():
    old_token = TokenSigner(["old"]).issue_token(CLAIMS)
    rotated = TokenSigner(["old", "new"])
    assert rotated.verify_token(old_token) == CLAIMS
    new_token = rotated.issue_token(CLAIMS)
    assert TokenSigner(["new"]).verify_token(new_token) == CLAIMS
    with pytest.raises(InvalidToken):
        TokenSigner(["old"]).verify_token(new_token)


def test_token_expires_by_the_injected_clock():
    now = [1_000.0]
    signer = TokenSigner(["k"], clock=lambda: now[0])
    token = signer.issue_token(TokenClaims("m", "p", 1, "eur", 1, expires_at=1_060))
    assert signer.verify_token(token).expires_at == 1_060
    now[0] = 1_060
    with pytest.raises(TokenExpired):
        signer.verify_token(token)


@pytest.mark.parametrize("token", ["", None, 42, "x" * 5000, "not-a-token", "a.b.c"])
def test_garbage_tokens_are_invalid(token):
    with pytest.raises(InvalidToken):
        TokenSigner(["k"]).verify_token(token)


def test_signed_payload_of_wrong_shape_is_invalid():
    from itsdangerous import URLSafeSerializer

    from buybutton.tokens import PRODUCT_TOKEN_SALT

    serializer = URLSafeSerializer(["k"], salt=PRODUCT_TOKEN_SALT)
    for payload in ([1, 2], {"m": "x"}, {"m": "m", "p": "p", "a": "12", "c": "eur", "g": 1}):
        with pytest.raises(InvalidToken):
            TokenSigner(["k"]).verify_token(serializer.dumps(payload))


def test_order_refs_are_signed_and_purpose_bound():
    signer = TokenSigner(["k"])
    ref = signer.sign_order_ref("ord_1")
    assert signer.verify_order_ref(ref) == "ord_1"
    assert signer.verify_order_ref(ref[:-2] + "xx") is None
    # A product token is not an order reference (different salt).
    assert signer.verify_order_ref(signer.issue_token(CLAIMS)) is None
