"""The OpenAPI document is the contract: it is valid, Redocly's linter finds nothing in it, a client
generated from it with openapi-python-client compiles, imports and works against the live server,
it covers every route (and only real ones), and the API keeps its promises under fuzzing:
whatever schemathesis sends, no 5xx and every error in the one JSON shape."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from openapi_spec_validator import validate

from buybutton.errors import ERROR_CODES, ERROR_TYPES, BuyButtonError
from buybutton_server import create_app
from buybutton_server.api.openapi import document
from buybutton_server.errors import _HTTP_CODES
from tests.support.services import service_unavailable

REPO = Path(__file__).resolve().parents[2]
JSON_PREFIXES = ("/v1/", "/healthz", "/openapi.json", "/oembed")
# Not JSON, but API resources all the same (a token's qr_url names one): documented too.
IMAGE_ROUTES = ("/p/<token>/qr.<any(svg, png):kind>", "/p/<token>/card.png")


def test_document_is_valid_openapi_3_1(client):
    served = client.get("/openapi.json")
    assert served.status_code == 200
    validate(served.json)
    assert served.json == document("http://shop.test")
    assert served.json["servers"] == [
        {"url": "http://shop.test", "description": "This buybutton server"}
    ]


def test_served_document_passes_redocly_lint_without_any_problem(client, tmp_path):
    """``redocly lint`` (npm, installed by ``make install``) with the recommended rules, each
    warning an error (redocly.yaml): no missing servers, operationIds, licence, 4xx answers…"""
    redocly = REPO / "node_modules" / ".bin" / "redocly"
    if shutil.which("node") is None or not redocly.exists():
        service_unavailable("the OpenAPI lint needs node and `npm ci` (run `make install`)")
    path = tmp_path / "openapi.json"
    path.write_bytes(client.get("/openapi.json").data)
    env = {
        **os.environ,
        "REDOCLY_TELEMETRY": "off",
        "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
        "NO_COLOR": "1",
    }
    linted = subprocess.run(
        [str(redocly), "lint", str(path), "--config", str(REPO / "redocly.yaml"), "--format=json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    report = json.loads(linted.stdout)
    problems = [
        f"{p['severity']} {p['ruleId']} at {p['location'][0]['pointer']}: {p['message']}"
        for p in report["problems"]
    ]
    assert problems == [], "\n".join(problems)
    assert linted.returncode == 0 and report["totals"]["errors"] == 0, linted.stderr


# The generator has no notion of these media types; told to treat them as bytes, it returns the
# raw body (the document itself says what they are).
GENERATOR_CONFIG = """\
post_hooks: []
content_type_overrides:
  image/png: application/octet-stream
  image/svg+xml: application/octet-stream
  application/rss+xml: application/octet-stream
"""


def test_generated_python_client_compiles_imports_and_calls_the_live_server(
    live_url, merchant, tmp_path, monkeypatch
):
    """openapi-python-client, fed the served document, writes a client without one warning; it
    compiles, imports, creates and retrieves a product, and parses an error as ``Error``."""
    config = tmp_path / "generator.yaml"
    config.write_text(GENERATOR_CONFIG)
    out = tmp_path / "generated"
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--url",
            f"{live_url}/openapi.json",
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(out / "bb_api"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    for source in sorted(out.rglob("*.py")):
        compile(source.read_text(), str(source), "exec")  # SyntaxError names the file

    monkeypatch.syspath_prepend(str(out))
    try:
        from bb_api import AuthenticatedClient
        from bb_api.api.products import create_product, retrieve_product
        from bb_api.models import Error, ErrorCode, Product, ProductCreate

        with AuthenticatedClient(base_url=live_url, token=merchant.api_key) as api:
            created = create_product.sync(
                client=api, body=ProductCreate(name="Mug", amount=1200, currency="eur", stock=3)
            )
            assert isinstance(created, Product)
            assert (created.name, created.amount, created.currency, created.stock) == (
                "Mug",
                1200,
                "eur",
                3,
            )
            fetched = retrieve_product.sync(created.id, client=api)
            assert fetched.id == created.id and fetched.token_generation == 1
            missing = retrieve_product.sync_detailed("prod_missing", client=api)
            assert missing.status_code == 404 and isinstance(missing.parsed, Error)
            assert missing.parsed.error.code is ErrorCode.PRODUCT_NOT_FOUND
    finally:
        for name in [
            name for name in sys.modules if name == "bb_api" or name.startswith("bb_api.")
        ]:
            del sys.modules[name]


def raised_codes() -> set[str]:
    """Every error code the code base raises: ``code="…"`` arguments and class defaults."""
    import buybutton
    import buybutton_server

    codes = {cls.code for cls in _subclasses(BuyButtonError)} | set(_HTTP_CODES.values())
    for package in (buybutton, buybutton_server):
        for source in Path(package.__file__).parent.rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Call):  # raise NotFound(…, code="…")
                    values = [kw.value for kw in node.keywords if kw.arg == "code"]
                elif isinstance(node, ast.ClassDef):  # class SoldOut(Conflict): code = "…"
                    values = [
                        item.value
                        for item in node.body
                        if isinstance(item, ast.Assign)
                        and [getattr(t, "id", None) for t in item.targets] == ["code"]
                    ]
                else:
                    continue
                codes |= {
                    value.value
                    for value in values
                    if isinstance(value, ast.Constant) and isinstance(value.value, str)
                }
    return codes


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_error_code_enum_lists_every_code_the_server_raises():
    enum = document()["components"]["schemas"]["ErrorCode"]["enum"]
    assert enum == list(ERROR_CODES)
    missing = raised_codes() - set(enum)
    assert not missing, f"add these codes to buybutton.errors.ERROR_CODES: {sorted(missing)}"
    types = {cls.type for cls in _subclasses(BuyButtonError)} | {
        "invalid_request_error",
        "api_error",
    }
    assert (
        types <= set(document()["components"]["schemas"]["ErrorType"]["enum"]) == set(ERROR_TYPES)
    )


def test_docs_api_lists_every_error_code():
    text = (REPO / "docs" / "api.md").read_text()
    assert [code for code in ERROR_CODES if f"`{code}`" not in text] == []


def rule_paths(rule: str) -> list[str]:
    """The OpenAPI paths of a Flask rule: ``<any(csv, xml):kind>`` gives one path per choice,
    other variables become ``{name}`` (``{…_id}`` → ``{id}``)."""
    choice = re.search(r"<any\(([^)]*)\):\w+>", rule)
    if choice:
        return [
            path
            for option in choice.group(1).split(",")
            for path in rule_paths(rule[: choice.start()] + option.strip() + rule[choice.end() :])
        ]
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
    return [re.sub(r"\{\w+_id\}", "{id}", path)]


def routes(app, *, api_only: bool) -> set[tuple[str, str]]:
    """``(path, method)`` of the app's routes (all, or the JSON and image routes only)."""
    found = set()
    for rule in app.url_map.iter_rules():
        if api_only and not rule.rule.startswith(JSON_PREFIXES) and rule.rule not in IMAGE_ROUTES:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if api_only and (rule.rule, method) == ("/v1/products/<product_id>", "POST"):
                continue  # an alias of PATCH for clients that cannot send PATCH
            found |= {(path, method) for path in rule_paths(rule.rule)}
    return found


def test_documented_operations_are_exactly_the_api_routes(app):
    documented = {
        (path, method.upper())
        for path, item in document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    undocumented = routes(app, api_only=True) - documented
    assert not undocumented, f"routes missing from the document: {sorted(undocumented)}"
    unrouted = documented - routes(app, api_only=False)
    assert not unrouted, f"documented but not routed: {sorted(unrouted)}"


def test_api_never_fails_on_any_input(settings, merchant, make_product):
    """Every documented operation, fuzzed from its schema: no 5xx, errors in the one shape."""
    # On SQLite and on PostgreSQL: PostgreSQL refuses input SQLite takes (NUL characters).
    app = create_app(replace(settings, checkout_rate_limit="100000/minute"))
    make_product(stock=1000)
    schema = schemathesis.openapi.from_dict(document())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def fuzz(case):
            case.headers = {**(case.headers or {}), **merchant.headers}
            response = case.call(app=app)
            assert response.status_code < 500, (operation.label, response.text)  # noqa: B023 (fuzz runs within this iteration)
            if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith(
                "application/json"
            ):
                assert set(response.json()["error"]) == {"type", "code", "message", "param"}

        fuzz()
