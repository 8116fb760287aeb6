"""A WSGI app served over real HTTP on 127.0.0.1 (a free port), in a daemon thread."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import make_server


class LoopbackServer:
    """``LoopbackServer(app)`` serves at once; ``.url`` is its base URL; ``stop()`` ends it."""

    def __init__(self, wsgi_app: Any):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll interval: stop() waits for the next poll.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)
