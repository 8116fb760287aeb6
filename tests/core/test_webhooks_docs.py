"""The verification code in docs/webhooks.md, run against a real signed delivery: what we tell
merchants to paste must accept our signatures and reject forgeries."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from buybutton import webhooks

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
SECRET = "whsec_docs_example_secret"


def snippet(marker: str) -> str:
    match = re.search(rf"<!-- tested: {marker} -->\n```\w+\n(.*?)```", DOC.read_text(), re.S)
    assert match, f"docs/webhooks.md lost its {marker} snippet"
    return match.group(1)


@pytest.fixture
def delivery():
    body = webhooks.event_payload(
        "evt_docs",
        "order.paid",
        int(time.time()),
        json.dumps({"object": "order", "id": "ord_docs", "status": "paid"}),
    )
    return body, webhooks.signature_header(body, SECRET, int(time.time()))


def forgeries(body: bytes, header: str):
    old = int(time.time()) - 3600
    yield body.replace(b"ord_docs", b"ord_evil"), header, SECRET
    yield body, header, "whsec_wrong"
    yield body, webhooks.signature_header(body, SECRET, old), SECRET
    yield body, "v1=" + header.split("v1=")[1], SECRET
    yield body, header[:-1] + "\u00e9", SECRET  # a non-ASCII forgery is a mismatch, no crash


def test_python_snippet_accepts_our_signature_and_rejects_forgeries(delivery):
    namespace: dict = {}
    exec(snippet("python-verify"), namespace)
    verify = namespace["verify_buybutton_webhook"]
    body, header = delivery
    assert verify(body, header, SECRET)["data"]["object"]["id"] == "ord_docs"
    for payload, head, secret in forgeries(body, header):
        with pytest.raises(ValueError):
            verify(payload, head, secret)


def test_node_snippet_accepts_our_signature_and_rejects_forgeries(delivery):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    body, header = delivery
    cases = [(body, header, SECRET), *forgeries(body, header)]
    script = (
        snippet("node-verify")
        + """
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map(([body, header, secret]) => {
  try { return verifyBuyButtonWebhook(Buffer.from(body, "utf8"), header, secret).data.object.id; }
  catch (e) { return "rejected: " + e.message; }
})));
"""
    )
    payload = json.dumps([[b.decode(), h, s] for b, h, s in cases])
    result = subprocess.run(
        [node, "-e", script], input=payload, capture_output=True, text=True, timeout=30, check=True
    )
    outcomes = json.loads(result.stdout)
    assert outcomes[0] == "ord_docs"
    assert all(o.startswith("rejected: ") for o in outcomes[1:]), outcomes
    assert outcomes[-1] == "rejected: signature mismatch"  # the non-ASCII one: no RangeError
