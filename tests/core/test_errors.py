"""The one error catalogue: every error class, type and code lives in ``buybutton.errors``."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import buybutton
from buybutton import errors
from buybutton.errors import ERROR_CODES, ERROR_TYPES, BuyButtonError, ErrorCode, ErrorType

CORE = Path(buybutton.__file__).parent
# Launch the Flask app (the server package's side); importing them needs gunicorn, not Flask.
SERVER_SIDE = {"buybutton.serving", "buybutton.buffering_worker"}


def core_modules() -> list[str]:
    return ["buybutton"] + [
        info.name
        for info in pkgutil.walk_packages([str(CORE)], "buybutton.")
        if ".migrations" not in info.name and info.name not in SERVER_SIDE
    ]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_exception_class_of_the_core_is_defined_in_errors():
    elsewhere = set()
    for name in core_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseException)
                and cls.__module__.startswith("buybutton")
                and cls.__module__ != "buybutton.errors"
            ):
                elsewhere.add(f"{cls.__module__}.{cls.__qualname__}")
    assert elsewhere == set()


def test_the_core_names_error_codes_by_the_catalogue_not_by_string():
    literals = []
    for source in CORE.rglob("*.py"):
        if source == CORE / "errors.py":
            continue
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
            literals += [
                f"{source.relative_to(CORE)}:{value.lineno}"
                for value in values
                if isinstance(value, ast.Constant)
            ]
    assert literals == []


def test_error_codes_and_types_are_derived_from_the_enums():
    assert ERROR_CODES == {code.value: code.description for code in ErrorCode}
    assert all(description.strip() for description in ERROR_CODES.values())
    assert ERROR_TYPES == tuple(ErrorType)
    assert ErrorCode.SOLD_OUT == "sold_out" and f"{ErrorCode.SOLD_OUT}" == "sold_out"


def test_every_error_class_carries_a_catalogued_code_and_type():
    for cls in _subclasses(BuyButtonError):
        assert isinstance(cls.code, ErrorCode), cls
        assert isinstance(cls.type, ErrorType), cls


def test_an_error_answer_serializes_codes_as_plain_strings():
    import json

    body = json.dumps(errors.SoldOut("Only 1 left.", param="quantity").to_dict())
    assert json.loads(body) == {
        "type": "invalid_request_error",
        "code": "sold_out",
        "message": "Only 1 left.",
        "param": "quantity",
    }


def test_rate_limited_is_the_one_429_and_takes_a_retry_after():
    exc = errors.RateLimited("Too many requests; slow down and retry.", retry_after=7)
    assert (exc.status, exc.type, exc.code, exc.retry_after) == (
        429,
        "rate_limit_error",
        "rate_limited",
        7,
    )
    held = errors.RateLimited("You hold too many.", code=ErrorCode.TOO_MANY_HELD_UNITS)
    assert held.retry_after is None and held.code == "too_many_held_units"
    assert not hasattr(errors, "Unprocessable")
