"""Measure the widget's size as served: raw sources, minified, and minified + gzip (level 9)
and brotli (quality 11, what browsers that accept ``br`` get).

Run: .venv/bin/python bench/widget_size.py   (results recorded in docs/benchmarks.md)
The budget is 4,096 bytes gzipped; the server sends exactly the gzip bytes measured here
(buy-button.js minified with buy-button.css minified inside it: one request).
"""

from __future__ import annotations

import gzip

import buybutton_widget

BUDGET = 4096


def main() -> int:
    script = buybutton_widget.source().encode("utf-8")
    css = buybutton_widget.stylesheet().encode("utf-8")
    asset = buybutton_widget.asset()
    rows = [
        ("source (widget/buy-button.js)", len(script)),
        ("source (widget/buy-button.css)", len(css)),
        ("sources, gzip -9", len(gzip.compress(script + css, 9))),
        ("served: minified (rjsmin, rcssmin)", len(asset.body)),
        ("served: minified + gzip -9", len(asset.gzipped)),
        ("served: minified + brotli -q 11", len(asset.brotli)),
    ]
    for name, size in rows:
        print(f"{name:<36} {size:>6,} bytes")
    within = len(asset.gzipped) <= BUDGET
    print(
        f"budget {BUDGET:,} bytes gzipped: {'OK' if within else 'OVER'} (version {asset.version})"
    )
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
