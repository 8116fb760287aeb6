"""buybutton: a self-hosted one-click Buy Now button.

The core package: money, product tokens, the catalog, the order state machine, persistence and
payment providers. It never imports a web framework; the Flask app lives in ``buybutton_server``.
"""

__version__ = "0.1.0"
