"""The one API error shape: ``{"error": {type, code, message, param}}``."""

from __future__ import annotations

from typing import Any


def assert_error(response: Any, status: int, code: str, param: str | None = None) -> Any:
    """The one error shape, with the expected status, code and field; returns the error."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.json["error"]
    assert set(error) == {"type", "code", "message", "param"}
    assert error["code"] == code and error["message"]
    if param is not None:
        assert error["param"] == param
    return error
