"""The OpenAPI document is valid, covers every JSON route, and the API keeps its promises under
fuzzing: whatever schemathesis sends, no 5xx and every error in the one JSON shape."""

import re
from dataclasses import replace

import schemathesis
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from openapi_spec_validator import validate

from buybutton_server import create_app
from buybutton_server.openapi import document

JSON_PREFIXES = ("/v1/", "/healthz", "/openapi.json", "/oembed")


def test_document_is_valid_openapi_3_1(client):
    served = client.get("/openapi.json")
    assert served.status_code == 200
    validate(served.json)
    assert served.json == document()


def rule_paths(rule: str) -> list[str]:
    """The OpenAPI paths of a Flask rule: ``<any(csv, xml):kind>`` gives one path per choice,
    other variables become ``{name}`` (``{…_id}`` → ``{id}``)."""
    choice = re.search(r"<any\(([^)]*)\):\w+>", rule)
    if choice:
        return [path for option in choice.group(1).split(",")
                for path in rule_paths(rule[:choice.start()] + option.strip() + rule[choice.end():])]
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
    return [re.sub(r"\{\w+_id\}", "{id}", path)]


def test_every_json_route_is_documented(app):
    documented = {(path, method.upper()) for path, item in document()["paths"].items()
                  for method in item if method != "parameters"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(JSON_PREFIXES):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.rule, method) == ("/v1/products/<product_id>", "POST"):
                continue  # an alias of PATCH for clients that cannot send PATCH
            for path in rule_paths(rule.rule):
                assert (path, method) in documented, f"{method} {path} is not documented"


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
        @hypothesis_settings(max_examples=12, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.headers = {**(case.headers or {}), **merchant.headers}
            response = case.call(app=app)
            assert response.status_code < 500, (operation.label, response.text)
            if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith("application/json"):
                assert set(response.json()["error"]) == {"type", "code", "message", "param"}

        fuzz()
