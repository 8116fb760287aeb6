"""Every operation's real answers match the document: each one is driven to a success and to at
least one error through the Flask test client, and each body is validated against the document's
schema for that status and content type, with undocumented fields refused."""

from __future__ import annotations

import copy
import io
import re
import time
from dataclasses import replace

import pytest
from openapi_schema_validator import OAS31Validator

from buybutton import catalog, digital
from buybutton_server import create_app
from buybutton_server.api.openapi import document
from tests.support.forms import submit_form

SHIPPABLE = {
    "amount": 2500,
    "currency": "eur",
    "sku": "TOTE-1",
    "gtin": "4006381333931",
    "shipping": {
        "countries": ["FR", "BE"],
        "rates": [
            {
                "id": "colissimo",
                "name": "Colissimo",
                "amount": 490,
                "delivery_estimate": {"min_days": 2, "max_days": 4},
            }
        ],
    },
}
BUYER_FORM = {
    "email": "camille@example.fr",
    "name": "Camille Martin",
    "address_line1": "8 rue de la Paix",
    "address_city": "Paris",
    "address_postal_code": "75002",
    "address_country": "FR",
    "shipping_rate": "colissimo",
    "card_number": "4242 4242 4242 4242",
}
TRACKING = {
    "carrier": "Colissimo",
    "tracking_number": "6A12345678901",
    "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
}


def strict(doc: dict) -> dict:
    """``doc`` with every object schema that lists properties closed to others: a field the
    server sends but the document does not name fails validation."""
    doc = copy.deepcopy(doc)
    pending = [doc["components"]["schemas"], doc["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return doc


class Contract:
    """Checks answers against the document and records which operations answered what."""

    def __init__(self, client, doc: dict):
        self.client, self.doc = client, strict(doc)
        self.seen: dict[str, set[str]] = {}  # operationId -> {"2xx", "error"}

    def operation(self, method: str, template: str) -> dict:
        item = self.doc["paths"][template]
        return item[method.lower()]

    def call(
        self,
        method: str,
        template: str,
        expect: int,
        *,
        path: dict | None = None,
        query: str = "",
        **kwargs,
    ):
        url = template.format(**(path or {})) + (f"?{query}" if query else "")
        response = self.client.open(url, method=method, **kwargs)
        assert response.status_code == expect, (method, url, response.get_data(as_text=True)[:300])
        self.check(method, template, response)
        return response

    def check(self, method: str, template: str, response) -> None:
        operation = self.operation(method, template)
        status = str(response.status_code)
        documented = operation["responses"].get(status)
        assert documented is not None, f"{method} {template} answered {status}, not documented"
        if "$ref" in documented:
            documented = self.doc["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
        content = documented.get("content")
        if content is None:
            assert response.data == b"", f"{method} {template} {status} has a body"
        else:
            media = response.mimetype
            assert media in content, (
                f"{method} {template} {status} sent {media}, not in {list(content)}"
            )
            schema = content[media]["schema"]
            if "contentMediaType" in schema:  # bytes (an image): nothing for JSON Schema to check
                assert schema["contentMediaType"] == media and response.data
                schema = {}
            body = (
                response.json
                if media == "application/json"
                else None
                if not schema
                else response.get_data(as_text=True)
            )
            validator = OAS31Validator(
                {**schema, "components": self.doc["components"]},
                format_checker=OAS31Validator.FORMAT_CHECKER,
            )
            errors = [
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(body)
            ]
            assert not errors, f"{method} {template} {status}: {errors}"
        kind = (
            "2xx"
            if response.status_code < 300
            else "error"
            if response.status_code >= 400
            else "3xx"
        )
        self.seen.setdefault(operation["operationId"], set()).add(kind)


@pytest.fixture
def contract(settings):
    app = create_app(replace(settings, webhook_allow_private=True))
    app.config["TESTING"] = True
    yield Contract(app.test_client(), document("http://shop.test"))
    app.extensions["buybutton"].store.dispose()


def test_every_operation_answers_as_documented(contract, merchant, store, signer):
    c, auth = contract, {"headers": merchant.headers}

    # merchant
    c.call("GET", "/v1/merchant", 200, **auth)
    c.call("GET", "/v1/merchant", 401)
    c.call("PATCH", "/v1/merchant", 200, json={"allowed_origins": ["https://shop.example"]}, **auth)
    c.call(
        "PATCH",
        "/v1/merchant",
        200,
        json={
            "email": "orders@shop.example",
            "support_email": "help@shop.example",
            "return_policy": {"days": 30, "text": "Unused items, 30 days."},
        },
        **auth,
    )
    c.call("PATCH", "/v1/merchant", 400, json={"support_email": "nobody"}, **auth)
    c.call(
        "PATCH", "/v1/merchant", 400, json={"allowed_origins": ["https://shop.example/x"]}, **auth
    )
    nobody = {"headers": {"Authorization": "Bearer bb_sk_wrong"}}

    # products
    product = c.call(
        "POST",
        "/v1/products",
        201,
        json={
            "name": "Mug",
            "amount": 1200,
            "currency": "EUR",
            "stock": 5,
            "in_feed": True,
            "image_url": "https://cdn.example.com/mug.png",
        },
        **auth,
    ).json
    c.call("POST", "/v1/products", 400, json={"amount": 1200, "currency": "eur"}, **auth)
    c.call("GET", "/v1/products", 200, query="limit=1", **auth)
    c.call("GET", "/v1/products", 401, **nobody)
    c.call("GET", "/v1/products", 400, query="limit=0", **auth)
    pid = {"id": product["id"]}
    c.call("GET", "/v1/products/{id}", 200, path=pid, **auth)
    c.call("GET", "/v1/products/{id}", 404, path={"id": "prod_missing"}, **auth)
    c.call("PATCH", "/v1/products/{id}", 200, path=pid, json={"description": "Blue."}, **auth)
    c.call("PATCH", "/v1/products/{id}", 400, path=pid, json={"amount": -1}, **auth)
    c.call("POST", "/v1/products/{id}/revoke_tokens", 200, path=pid, **auth)
    c.call("POST", "/v1/products/{id}/revoke_tokens", 404, path={"id": "prod_missing"}, **auth)
    pdf = {"file": (io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "guide.pdf")}
    c.call("POST", "/v1/products/{id}/file", 200, path=pid, data=pdf, **auth)
    c.call("POST", "/v1/products/{id}/file", 415, path=pid, json={"file": "x"}, **auth)
    c.call("DELETE", "/v1/products/{id}/file", 200, path=pid, **auth)
    c.call("DELETE", "/v1/products/{id}/file", 404, path=pid, **auth)
    token = c.call(
        "POST", "/v1/products/{id}/tokens", 201, path=pid, json={"ref": "post-1"}, **auth
    ).json
    c.call("POST", "/v1/products/{id}/tokens", 400, path=pid, json={"expires_in": 5}, **auth)
    c.call("GET", "/v1/products/{id}/links", 200, path=pid, **auth)
    c.call("GET", "/v1/products/{id}/links", 404, path={"id": "prod_missing"}, **auth)
    another = c.call("POST", "/v1/products/{id}/tokens", 201, path=pid, **auth).json
    c.call(
        "POST",
        "/v1/products/{id}/links/{link}/revoke",
        200,
        path={**pid, "link": another["link_id"]},
        **auth,
    )
    c.call(
        "POST",
        "/v1/products/{id}/links/{link}/revoke",
        404,
        path={**pid, "link": "lnk_missing"},
        **auth,
    )
    inactive = c.call(
        "POST",
        "/v1/products",
        201,
        json={"name": "Old mug", "amount": 900, "currency": "eur", "active": False},
        **auth,
    ).json
    c.call("POST", "/v1/products/{id}/tokens", 410, path={"id": inactive["id"]}, **auth)
    reused = {"Idempotency-Key": "key-reused-1", **merchant.headers}
    c.call(
        "POST",
        "/v1/products",
        201,
        json={"name": "A", "amount": 1, "currency": "eur"},
        headers=reused,
    )
    c.call(
        "POST",
        "/v1/products",
        409,
        json={"name": "B", "amount": 1, "currency": "eur"},
        headers=reused,
    )

    # the widget and the checkout
    tok = {"token": token["token"]}
    c.call("GET", "/v1/embed/{token}", 200, path=tok, query="locale=de")
    c.call("GET", "/v1/embed/{token}", 400, path={"token": "forged"})
    c.call("POST", "/v1/products/{id}/revoke_tokens", 200, path=pid, **auth)
    c.call("GET", "/v1/embed/{token}", 410, path={"token": token["token"]})  # token_revoked
    token = c.call("POST", "/v1/products/{id}/tokens", 201, path=pid, **auth).json
    with store.read() as conn:
        mug = catalog.get_product(conn, product["id"])
    expired = signer.issue_token(catalog.offer_claims(mug, expires_at=int(time.time()) - 1))
    c.call("GET", "/v1/embed/{token}", 410, path={"token": expired})  # token_expired
    c.call("POST", "/v1/funnel", 204, json={"type": "impression", "token": token["token"]})
    c.call("POST", "/v1/funnel", 400, json={"type": "purchase", "token": token["token"]})
    c.call("POST", "/v1/events", 204, json={"type": "impression", "token": token["token"]})
    c.call("POST", "/v1/events", 400, json={"type": "purchase", "token": token["token"]})
    c.call("POST", "/v1/events", 410, json={"type": "click", "token": expired})
    started = c.call(
        "POST", "/v1/checkout", 201, json={"token": token["token"], "quantity": 2}
    ).json
    c.call("POST", "/v1/checkout", 409, json={"token": token["token"], "quantity": 4})
    c.call("POST", "/v1/checkout", 400, json={})
    c.call(
        "POST",
        "/v1/checkout",
        403,
        json={"token": token["token"]},
        headers={"Origin": "https://blog.example"},
    )  # cross_origin_request
    pending = c.call("POST", "/v1/checkout", 201, json={"token": token["token"]}).json
    clicked = {"checkout_id": "0123456789abcdef0123456789abcdef"}
    c.call("POST", "/v1/checkout", 201, json={"token": token["token"], **clicked})
    c.call("GET", "/v1/checkouts/{id}", 200, path={"id": clicked["checkout_id"]})
    c.call("GET", "/v1/checkouts/{id}", 400, path={"id": "not-an-id"})

    # orders
    paid = submit_form(
        c.client,
        started["checkout_url"],
        {"email": "shopper@example.com", "card_number": "4242 4242 4242 4242"},
        form_class="card-form",
    )
    assert paid.status_code == 303
    c.call("GET", "/v1/orders", 200, query="status=paid", **auth)
    c.call("GET", "/v1/orders", 400, query="status=lost", **auth)
    oid = {"id": started["order_id"]}
    c.call("GET", "/v1/orders/{id}", 200, path=oid, **auth)
    c.call("GET", "/v1/orders/{id}", 404, path={"id": "ord_missing"}, **auth)
    assert (
        c.call("POST", "/v1/orders/{id}/refund", 200, path=oid, **auth).json["status"] == "refunded"
    )
    c.call("POST", "/v1/orders/{id}/refund", 409, path={"id": pending["order_id"]}, **auth)
    c.call("GET", "/v1/licenses/{key}", 404, path={"key": "ABCDE-FGHJK-MNPQR-STVWX-YZ012"}, **auth)
    licensed = c.call(
        "POST",
        "/v1/products",
        201,
        json={"name": "App", "amount": 500, "currency": "eur", "license_keys": True},
        **auth,
    ).json
    app_token = c.call("POST", "/v1/products/{id}/tokens", 201, path={"id": licensed["id"]}, **auth)
    licensed_order = c.client.post("/v1/checkout", json={"token": app_token.json["token"]}).json
    submit_form(
        c.client,
        licensed_order["checkout_url"],
        {"email": "ana@example.com", "card_number": "4242 4242 4242 4242"},
        form_class="card-form",
    )
    with store.read() as conn:
        key = digital.get_entitlement(conn, licensed_order["order_id"]).license_key
    assert c.call("GET", "/v1/licenses/{key}", 200, path={"key": key}, **auth).json["valid"]

    # fulfilment: a product that ships, bought with an address, shipped, delivered, exported
    tote = c.call("POST", "/v1/products", 201, json={**SHIPPABLE, "name": "Tote"}, **auth).json
    c.call("POST", "/v1/products", 400, json={**SHIPPABLE, "shipping": {"rates": []}}, **auth)
    tote_token = c.call("POST", "/v1/products/{id}/tokens", 201, path={"id": tote["id"]}, **auth)
    bought = c.call("POST", "/v1/checkout", 201, json={"token": tote_token.json["token"]}).json
    shipped = submit_form(c.client, bought["checkout_url"], BUYER_FORM, form_class="card-form")
    assert shipped.status_code == 303, shipped.text
    tid = {"id": bought["order_id"]}
    c.call("GET", "/v1/orders", 200, query="fulfillment=unfulfilled", **auth)
    c.call("GET", "/v1/orders", 400, query="fulfillment=lost", **auth)
    c.call("GET", "/v1/orders.csv", 200, query="fulfillment=unfulfilled", **auth)
    c.call("GET", "/v1/orders.csv", 401, **nobody)
    c.call("GET", "/v1/orders.csv", 400, query="fulfillment=lost", **auth)
    c.call("POST", "/v1/orders/{id}/fulfill", 400, path=tid, json={"carrier": 5}, **auth)
    c.call("POST", "/v1/orders/{id}/fulfill", 200, path=tid, json=TRACKING, **auth)
    c.call("POST", "/v1/orders/{id}/fulfill", 409, path=oid, **auth)  # refunded
    c.call("POST", "/v1/orders/{id}/fulfill", 404, path={"id": "ord_missing"}, **auth)
    c.call("POST", "/v1/orders/{id}/deliver", 200, path=tid, **auth)
    c.call("POST", "/v1/orders/{id}/deliver", 409, path={"id": pending["order_id"]}, **auth)
    c.call("POST", "/v1/orders/{id}/deliver", 401, path=tid, **nobody)
    c.call("GET", "/v1/stats", 200, **auth)
    c.call("GET", "/v1/stats", 401, **nobody)
    c.call("GET", "/v1/stats", 400, query="from=yesterday", **auth)
    c.call("GET", "/v1/stats/refs", 200, query="limit=1", **auth)
    c.call("GET", "/v1/stats/refs", 400, query="starting_after=nope", **auth)
    c.call("GET", "/v1/stats/refs", 401, **nobody)
    c.call("GET", "/v1/stats/products", 200, query="sort=paid_orders&from=2026-01-01", **auth)
    c.call("GET", "/v1/stats/products", 400, query="sort=name", **auth)

    # webhook endpoints
    endpoint = c.call(
        "POST",
        "/v1/webhook_endpoints",
        201,
        json={"url": "http://127.0.0.1:9/hooks", "events": ["order.paid"]},
        **auth,
    ).json
    c.call(
        "POST",
        "/v1/webhook_endpoints",
        400,
        json={"url": "http://127.0.0.1:9/hooks", "events": ["order.lost"]},
        **auth,
    )
    c.call("GET", "/v1/webhook_endpoints", 200, **auth)
    c.call("GET", "/v1/webhook_endpoints", 401, **nobody)
    eid = {"id": endpoint["id"]}
    c.call("GET", "/v1/webhook_endpoints/{id}", 200, path=eid, **auth)
    c.call("GET", "/v1/webhook_endpoints/{id}", 404, path={"id": "we_missing"}, **auth)
    c.call("DELETE", "/v1/webhook_endpoints/{id}", 200, path=eid, **auth)
    c.call("DELETE", "/v1/webhook_endpoints/{id}", 404, path=eid, **auth)
    c.call("DELETE", "/v1/products/{id}", 200, path={"id": inactive["id"]}, **auth)
    c.call("DELETE", "/v1/products/{id}", 404, path={"id": inactive["id"]}, **auth)

    # social surfaces
    mid = {"id": merchant.id}
    feed = c.call("GET", "/v1/feeds/{id}.csv", 200, path=mid)
    assert product["id"] in feed.get_data(as_text=True)
    c.call("GET", "/v1/feeds/{id}.csv", 404, path={"id": "mch_missing"})
    c.call("GET", "/v1/feeds/{id}.xml", 200, path=mid)
    c.call("GET", "/v1/feeds/{id}.xml", 404, path={"id": "mch_missing"})
    share = f"url={token['share_url']}"
    c.call("GET", "/oembed", 200, query=share)
    assert c.call("GET", "/oembed", 200, query=share + "&format=xml").mimetype == "text/xml"
    c.call("GET", "/oembed", 404, query="url=http://shop.test/p/forged")
    c.call("GET", "/oembed", 501, query=share + "&format=yaml")
    tok = {"token": token["token"]}
    assert c.call("GET", "/p/{token}/qr.svg", 200, path=tok).data.startswith(b"<svg")
    c.call("GET", "/p/{token}/qr.svg", 404, path={"token": "forged"})
    assert c.call("GET", "/p/{token}/qr.png", 200, path=tok, query="size=4").data[:4] == b"\x89PNG"
    c.call("GET", "/p/{token}/qr.png", 400, path=tok, query="size=1000")
    c.call("GET", "/p/{token}/card.png", 200, path=tok)
    c.call("GET", "/p/{token}/card.png", 410, path={"token": expired})

    # operators and tools
    c.call("GET", "/healthz", 200)
    c.call("GET", "/healthz", 400, query="probe=%00")
    c.call("GET", "/openapi.json", 200)
    c.call("GET", "/openapi.json", 400, query="probe=%00")

    operations = {
        op["operationId"]
        for item in c.doc["paths"].values()
        for key, op in item.items()
        if key != "parameters"
    }
    untested = {
        op: sorted({"2xx", "error"} - c.seen.get(op, set()))
        for op in operations
        if not {"2xx", "error"} <= c.seen.get(op, set())
    }
    assert untested == {}


def test_an_undocumented_field_in_an_answer_fails_the_check(contract, merchant):
    """The check is strict: were the server to send a field the document does not name, or omit
    a required one, the test above would fail."""
    created = contract.client.post(
        "/v1/products",
        headers=merchant.headers,
        json={"name": "Mug", "amount": 1200, "currency": "eur"},
    )
    schema = contract.operation("POST", "/v1/products")["responses"]["201"]["content"][
        "application/json"
    ]["schema"]
    validator = OAS31Validator({**schema, "components": contract.doc["components"]})
    assert validator.is_valid(created.json)
    assert not validator.is_valid({**created.json, "secret_field": 1})
    assert not validator.is_valid({k: v for k, v in created.json.items() if k != "stock"})


def test_error_answers_of_every_status_use_the_shared_error_schema():
    doc = document()
    for path, item in doc["paths"].items():
        for key, operation in item.items():
            if key == "parameters":
                continue
            for status, answer in operation["responses"].items():
                if (path, status) == ("/healthz", "503"):
                    continue  # not ready: the health report itself
                if re.fullmatch(r"[45]\d\d", status):
                    assert answer.get("$ref") in (
                        "#/components/responses/Error",
                        "#/components/responses/PageError",
                    ), (path, status)


def test_health_answer_of_an_unreachable_database_is_as_documented(settings):
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    broken = replace(settings, database_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/none")
    app = create_app(broken)
    contract = Contract(app.test_client(), document("http://shop.test"))
    answer = contract.call("GET", "/healthz", 503)
    assert answer.json["status"] == "unavailable" and "payment_provider" not in answer.json
    app.extensions["buybutton"].store.dispose()
