"""The SDK is its own small distribution: requests is its only dependency, it ships py.typed,
and importing it loads nothing of the server's."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import buybutton_sdk

SDK = Path(__file__).resolve().parents[2] / "sdk"


def test_installed_distribution_depends_on_requests_only():
    # The metadata pip wrote when it installed ./sdk (make install does, editable).
    requirements = importlib.metadata.requires("buybutton-sdk") or []
    assert [re.split(r"[<>=!~ ;]", r, maxsplit=1)[0] for r in requirements] == ["requests"]
    assert importlib.metadata.version("buybutton-sdk") == buybutton_sdk.__version__


def test_package_ships_py_typed():
    config = tomllib.loads((SDK / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["package-data"]["buybutton_sdk"] == ["py.typed"]
    assert (Path(buybutton_sdk.__file__).parent / "py.typed").is_file()


def test_importing_the_sdk_loads_neither_the_core_nor_flask():
    code = (
        "import sys, buybutton_sdk; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('buybutton', 'buybutton_server', 'flask', 'sqlalchemy')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
