"""A full purchase through the sandbox, as a shopper's browser and a merchant's backend do it."""

from tests.support.forms import submit_form


def test_full_purchase_through_sandbox_marks_order_paid(client, merchant):
    created = client.post(
        "/v1/products",
        headers=merchant.headers,
        json={"name": "Mug", "amount": 1200, "currency": "eur", "stock": 5},
    )
    assert created.status_code == 201
    offer = client.post(
        f"/v1/products/{created.json['id']}/tokens",
        headers=merchant.headers,
        json={"ref": "insta-42"},
    ).json

    started = client.post("/v1/checkout", json={"token": offer["token"], "quantity": 2})
    assert started.status_code == 201
    paid = submit_form(
        client,
        started.json["checkout_url"],
        {"email": "shopper@example.com", "card_number": "4242 4242 4242 4242"},
        form_class="card-form",
    )
    assert paid.status_code == 303
    assert client.get(paid.location).status_code == 200

    order = client.get(f"/v1/orders/{started.json['order_id']}", headers=merchant.headers).json
    assert (order["status"], order["amount"], order["amount_paid"], order["ref"]) == (
        "paid",
        2400,
        2400,
        "insta-42",
    )
    product = client.get(f"/v1/products/{created.json['id']}", headers=merchant.headers).json
    assert product["stock"] == 3
