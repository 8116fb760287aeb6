"""The ``<buy-button>`` widget's JavaScript, shipped inside the ``buybutton`` distribution.

The repo folder ``widget/`` is installed as the package ``buybutton_widget`` (a setuptools
``package-dir`` mapping in pyproject.toml), so the server finds ``buy-button.js`` the same way in an
editable install and in a built wheel. The file is plain ES2019 and needs no build step; the server
minifies it once (rjsmin) and gzips it once, at first request.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

FILENAME = "buy-button.js"


@dataclass(frozen=True)
class WidgetAsset:
    """The widget as served: minified bytes, their gzip form and a content version."""

    body: bytes
    gzipped: bytes
    version: str  # first 12 hex digits of the SHA-256 of ``body``: the ``?v=`` of a pinned URL


def source() -> str:
    """The readable source of ``buy-button.js``."""
    return files(__package__).joinpath(FILENAME).read_text(encoding="utf-8")


def minify(text: str) -> str:
    """``text`` without comments and needless whitespace (rjsmin keeps strings and regexes intact)."""
    import rjsmin

    return rjsmin.jsmin(text).strip() + "\n"


@lru_cache(maxsize=1)
def asset() -> WidgetAsset:
    """The minified, gzipped and versioned widget, built once per process."""
    body = minify(source()).encode("utf-8")
    # mtime=0: the same bytes (and so the same ETag) on every server of a deployment.
    gzipped = gzip.compress(body, compresslevel=9, mtime=0)
    return WidgetAsset(body=body, gzipped=gzipped, version=hashlib.sha256(body).hexdigest()[:12])
