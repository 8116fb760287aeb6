"""``GET /widget.js``: the ``<buy-button>`` widget's script.

``GET /widget.js`` serves ``widget/buy-button.js`` minified, with ``widget/buy-button.css``
minified inside it (built once per process by :func:`buybutton_widget.asset`), brotli- or
gzip-compressed as the browser accepts, with an ETag derived from the content; ``/widget.js?v=VERSION`` (the current
content version) is cacheable for a year.
"""

from __future__ import annotations

import buybutton_widget
from flask import Response, request
from flask.typing import ResponseReturnValue

from ..compression import SUFFIX, preferred_encoding
from .blueprint import bp

VERSIONED_MAX_AGE = 365 * 86400
# The snippet merchants paste names /widget.js without a version: a day's cache lets fixes
# reach every page within a day, and the ETag makes revalidation a 304.
UNVERSIONED_MAX_AGE = 86400


@bp.get("/widget.js")
def widget_script() -> ResponseReturnValue:
    asset = buybutton_widget.asset()
    encoding = preferred_encoding(request)
    body = {"br": asset.brotli, "gzip": asset.gzipped, None: asset.body}[encoding]
    response = Response(body, mimetype="text/javascript")
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.set_etag(asset.version + (SUFFIX[encoding] if encoding else ""))
    pinned = request.args.get("v") == asset.version
    response.headers["Cache-Control"] = (
        f"public, max-age={VERSIONED_MAX_AGE}, immutable"
        if pinned
        else f"public, max-age={UNVERSIONED_MAX_AGE}"
    )
    response.headers["Vary"] = "Accept-Encoding"
    # Lets pages load it with crossorigin/integrity attributes.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)
