"""A real HTTP server on 127.0.0.1 that records the webhooks it receives, for the tests.

``Receiver.replies`` scripts what it answers, one entry per request in order (an HTTP status,
or ``("sleep", seconds)`` to stall past the sender's timeout before answering 200); when the
script is used up it answers 200.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, port: int = 0, ssl_context=None):
        self.received: list[Received] = []
        self.replies: list = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    reply = receiver.replies.pop(0) if receiver.replies else 200
                if isinstance(reply, tuple):
                    time.sleep(reply[1])
                    reply = 200
                self.send_response(reply)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class DrippingReceiver:
    """A real HTTP server on 127.0.0.1 that reads each webhook at once, then answers ``chunk``
    bytes every ``interval`` seconds: the whole response from the status line
    (``drip="headers"``), or the headers at once and then a body of ``body_bytes``
    (``drip="body"``; with ``interval=0`` and a large chunk, a flood). It records whether the
    sender cut the connection before the answer was complete, and never blocks its own shutdown."""

    def __init__(
        self, drip: str = "headers", interval: float = 1.0, body_bytes: int = 60, chunk: int = 1
    ):
        import socketserver

        self.received: list[Received] = []
        self.started = threading.Event()  # the first request was read; dripping began
        self.cut = threading.Event()  # the sender hung up before the answer was complete
        self.completed = threading.Event()  # the whole answer went out (the sender waited)
        self.bytes_sent = 0
        self._stop = threading.Event()
        receiver = self
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % body_bytes

        def pieces():
            """The slow part of the answer, ``chunk`` bytes at a time."""
            if drip == "headers":
                yield from (head[i : i + chunk] for i in range(0, len(head), chunk))
            left = body_bytes
            while left > 0:
                yield b"x" * min(chunk, left)
                left -= chunk

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                request_line = self.rfile.readline().decode("latin-1").split()
                headers = {}
                while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip()] = value.strip()
                payload = self.rfile.read(int(headers.get("Content-Length") or 0))
                receiver.received.append(Received(request_line[1], headers, payload))
                receiver.started.set()
                try:
                    if drip != "headers":
                        self.wfile.write(head)
                    for piece in pieces():
                        if receiver._stop.wait(interval) if interval else receiver._stop.is_set():
                            return
                        self.wfile.write(piece)
                        receiver.bytes_sent += len(piece)
                except OSError:  # BrokenPipe / ConnectionReset: the sender gave up on us
                    receiver.cut.set()
                    return
                # Written to the socket is not read by the sender: a closed peer shows up as
                # an EOF when we look.
                self.connection.settimeout(5)
                try:
                    if self.connection.recv(1) == b"":
                        receiver.completed.set()
                except OSError:
                    receiver.cut.set()

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
