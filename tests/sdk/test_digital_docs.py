"""The examples of docs/fulfilment.md's "Digital goods and licence keys" run as written against a
live server: the curl upload, the SDK block, the command line and the licence check."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import requests

from buybutton import digital
from tests.support.accounts import TEST_KEYS
from tests.support.forms import submit_form

DOC = Path(__file__).resolve().parents[2] / "docs" / "fulfilment.md"
PDF = b"%PDF-1.7\n" + b"0" * 5000 + b"\n%%EOF\n"


def section() -> str:
    text = DOC.read_text()
    return text.split("## Digital goods and licence keys", 1)[1].split("\n## ", 1)[0]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", section(), flags=re.S)


def _fill(text: str, live_server: str, api_key: str, product_id: str) -> str:
    return (
        text.replace("https://buy.example.com", live_server)
        .replace("bb_sk_…", api_key)
        .replace("prod_…", product_id)
    )


def test_the_digital_goods_examples_run(
    live_server, live_client, merchant, store, settings, tmp_path, monkeypatch
):
    product = live_client.products.create(
        name="Field guide", amount=900, currency="eur", license_keys=True
    )
    (tmp_path / "guide.pdf").write_bytes(PDF)
    upload_curl, cli, verify_curl = blocks("sh")

    # curl: the upload
    command = _fill(upload_curl, live_server, merchant.api_key, product.id).replace("\\\n", " ")
    answer = subprocess.run(
        shlex.split(command) + ["--silent"], cwd=tmp_path, capture_output=True, check=True
    )
    assert json.loads(answer.stdout)["file"]["name"] == "guide.pdf"

    # the SDK block
    [code] = blocks("python")
    monkeypatch.chdir(tmp_path)
    filled = _fill(code, live_server, merchant.api_key, product.id)
    exec(compile(filled, str(DOC), "exec"), {"bb": live_client})
    assert live_client.products.retrieve(product.id).file is None

    # the command line, on the same database and storage as the live server
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BUYBUTTON_HOME": str(settings.home),
        "BUYBUTTON_SECRET_KEYS": ",".join(TEST_KEYS),
    }
    for line in cli.strip().splitlines():
        argv = shlex.split(_fill(line, live_server, merchant.api_key, product.id))
        assert argv[0] == "buybutton"
        done = subprocess.run(
            [sys.executable, "-m", "buybutton.cli", *argv[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    assert "Removed the file" in done.stdout

    # a purchase, then curl: the licence check
    token = live_client.tokens.create(product.id).token
    browser = requests.Session()
    started = submit_form(browser, f"{live_server}/buy/{token}", form_class="checkout")
    submit_form(
        browser,
        started.url,
        {"email": "ana@example.com", "card_number": "4242424242424242"},
        form_class="card-form",
    )
    [order] = live_client.orders.list(status="paid")
    with store.read() as conn:
        key = digital.get_entitlement(conn, order.id).license_key
    command = _fill(verify_curl, live_server, merchant.api_key, product.id).replace("7K3QF-…", key)
    answer = subprocess.run(shlex.split(command) + ["--silent"], capture_output=True, check=True)
    assert json.loads(answer.stdout)["valid"] is True
