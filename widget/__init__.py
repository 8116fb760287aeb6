"""The ``<buy-button>`` widget's JavaScript and CSS, shipped inside the ``buybutton`` distribution.

The repo folder ``widget/`` is installed as the package ``buybutton_widget`` (a setuptools
``package-dir`` mapping in pyproject.toml), so the server finds ``buy-button.js`` and
``buy-button.css`` the same way in an editable install and in a built wheel. There is no build
step outside the server: at first request it minifies the script (rjsmin) and the stylesheet
(rcssmin), puts the stylesheet into the script as a string literal (one request for the page),
and compresses the result (gzip and brotli), once per process.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import brotli  # type: ignore[import-untyped]

FILENAME = "buy-button.js"
CSS_FILENAME = "buy-button.css"
# The string literal in buy-button.js that the minified stylesheet replaces.
CSS_PLACEHOLDER = '"__BUYBUTTON_CSS__"'


@dataclass(frozen=True)
class WidgetAsset:
    """The widget as served: minified bytes, their gzip form and a content version."""

    body: bytes
    gzipped: bytes
    version: str
    #: The brotli form (smaller than gzip), for browsers that accept ``br``.
    brotli: bytes = (
        b""  # first 12 hex digits of the SHA-256 of ``body``: the ``?v=`` of a pinned URL
    )


def source() -> str:
    """The readable source of ``buy-button.js`` (with the stylesheet's placeholder)."""
    return files(__package__).joinpath(FILENAME).read_text(encoding="utf-8")


def stylesheet() -> str:
    """The readable source of ``buy-button.css``."""
    return files(__package__).joinpath(CSS_FILENAME).read_text(encoding="utf-8")


def minify(text: str) -> str:
    """``text`` without comments and needless whitespace (rjsmin keeps strings and regexes intact)."""
    import rjsmin

    return str(rjsmin.jsmin(text)).strip() + "\n"


def minify_css(text: str) -> str:
    """``text`` without comments and needless whitespace (rcssmin keeps strings, ``calc()`` and
    selectors' descendant combinators intact)."""
    import rcssmin

    return str(rcssmin.cssmin(text)).strip()


def build(script: str, css: str) -> str:
    """The served script: ``script`` minified, with ``css`` minified in place of the placeholder.

    The stylesheet goes in as a JSON string, which is a valid JavaScript string literal whatever
    the CSS holds (quotes, backslashes). Raises ``ValueError`` unless the placeholder occurs
    exactly once: a widget without its styles must not ship.
    """
    minified = minify(script)
    if minified.count(CSS_PLACEHOLDER) != 1:
        raise ValueError(f"{FILENAME} must hold the stylesheet placeholder {CSS_PLACEHOLDER} once")
    return minified.replace(CSS_PLACEHOLDER, json.dumps(minify_css(css)))


@lru_cache(maxsize=1)
def asset() -> WidgetAsset:
    """The minified, gzipped and versioned widget, built once per process."""
    body = build(source(), stylesheet()).encode("utf-8")
    # mtime=0: the same bytes (and so the same ETag) on every server of a deployment.
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    return WidgetAsset(
        body=body,
        gzipped=gzipped,
        version=hashlib.sha256(body).hexdigest()[:12],
        brotli=brotli.compress(body, mode=brotli.MODE_TEXT, quality=11),
    )
