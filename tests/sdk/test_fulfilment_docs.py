"""The examples of docs/fulfilment.md run as written against a live server: a sandbox purchase
of a product that ships, then the SDK block and the curl commands of the fulfilment section."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import requests

from tests.support.forms import submit_form

DOC = Path(__file__).resolve().parents[2] / "docs" / "fulfilment.md"
SHIPPING = {"countries": ["FR"], "rates": [{"id": "std", "name": "La Poste", "amount": 490}]}


def section(title: str) -> str:
    text = DOC.read_text()
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def paid_order(live_server: str, live_client) -> str:
    product = live_client.products.create(
        name="Tote", amount=1900, currency="eur", shipping=SHIPPING
    )
    token = live_client.tokens.create(product.id).token
    browser = requests.Session()
    started = submit_form(browser, f"{live_server}/buy/{token}", form_class="checkout")
    paid = submit_form(
        browser,
        started.url,
        {
            "email": "camille@example.fr",
            "name": "Camille Martin",
            "address_line1": "8 rue de la Paix",
            "address_city": "Paris",
            "address_postal_code": "75002",
            "address_country": "FR",
            "card_number": "4242424242424242",
        },
        form_class="card-form",
    )
    assert paid.status_code == 200 and "/orders/" in paid.url
    [order] = live_client.orders.list(fulfillment="unfulfilled")
    return order.id


def test_sdk_example_lists_ships_delivers_and_exports(
    live_server, live_client, capsys, tmp_path, monkeypatch
):
    order_id = paid_order(live_server, live_client)
    [code] = re.findall(r"```python\n(.*?)```", section("Fulfilment"), flags=re.S)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(DOC), "exec"), {"bb": live_client})
    assert capsys.readouterr().out == f"{order_id} Camille Martin 75002\n"
    assert live_client.orders.retrieve(order_id).fulfillment.status == "delivered"
    assert "8 rue de la Paix" in (tmp_path / "to-ship.csv").read_text()


@pytest.mark.skipif(not Path("/usr/bin/curl").exists(), reason="the curl examples need curl")
def test_curl_examples_ship_deliver_and_export(live_server, live_client, merchant, tmp_path):
    order_id = paid_order(live_server, live_client)
    [block] = re.findall(
        r"```sh\n(curl -s -X POST .*?/fulfill.*?)```", section("Fulfilment"), flags=re.S
    )
    commands = [c for c in block.replace("\\\n", " ").splitlines() if c.strip()]
    assert len(commands) == 3
    for command in commands:
        argv = [
            part.replace("http://127.0.0.1:8000", live_server)
            .replace("ord_…", order_id)
            .replace("$KEY", merchant.api_key)
            for part in shlex.split(
                command.replace(
                    '"Authorization: Bearer $KEY"', f'"Authorization: Bearer {merchant.api_key}"'
                )
            )
        ]
        subprocess.run(argv, check=True, cwd=tmp_path, capture_output=True, timeout=30)
    assert live_client.orders.retrieve(order_id).fulfillment.status == "delivered"
    assert (tmp_path / "to-ship.csv").read_text().startswith("order_id,created_at")
