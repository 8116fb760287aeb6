"""A gunicorn worker that reads each request whole before a thread serves it.

gunicorn's ``gthread`` worker hands a connection to one of its few threads as soon as the socket
is readable; the thread then blocks reading the rest of the headers and the body. A handful of
clients that trickle their requests a byte a second take every thread, and ``/healthz`` and
checkouts wait behind them. This worker keeps ``gthread``'s processes, threads and event loop
but moves the reading into that loop: the request line, headers and body (up to the app's
``MAX_CONTENT_LENGTH``) are read with non-blocking sockets and gunicorn's own incremental HTTP
parser, and only a complete request reaches a thread, which then parses it from memory. A
request still incomplete ``request_read_timeout`` seconds after the server began waiting for it
(the connection was accepted, or a kept-alive one became readable) is answered ``408`` and
closed. ``Expect: 100-continue`` is answered by the loop; other expectations are ignored.

The body limit is per request: the app's ``MAX_CONTENT_LENGTH``, or, when the app declares
its limits (``app.extensions["buybutton.body_limits"]``, :class:`.uploads.BodyLimits`), what
that says for the request's method and path (a file upload takes up to
``BUYBUTTON_MAX_UPLOAD_BYTES``). A body past :data:`SPOOL_BYTES` is spooled to an unlinked
temporary file in the instance folder instead of memory, so a 200 MB upload never sits in RAM;
the connection is closed after such a request rather than kept alive.

A request declaring a larger body than the app accepts is handed over at once, without its body,
so the app answers ``413``; that connection is then closed instead of being drained. A body whose
framing is broken (a bad chunk size, a chunk without its CRLF) is answered ``400`` by the loop and
closed: handed to the app, it would fail while the app reads it, a 500 with a traceback.

The thread's parser gets what the loop buffered in pieces of at most the size of one socket read
(:class:`_BufferedUnreader`), as it would from the socket: gunicorn's chunked-body reader copies
what follows each chunk, so handing it a whole buffer of a hundred thousand 1-byte chunks at once
took minutes of CPU (quadratic), while the same bytes in socket-sized reads take milliseconds.

Closing after a response lingers for the client's FIN (RFC 9112 section 9.6) in the loop too:
gthread does it with a blocking read of up to 2 s on the loop's thread, so clients that ask for
``Connection: close`` and then never close would stall the whole worker 2 s each.

Plain HTTP/1.x only: ``buybutton serve`` configures neither TLS nor HTTP/2 (TLS ends at the load
balancer). This subclasses gunicorn 27's ``ThreadWorker``; its internals change between major
versions, hence the ``gunicorn>=27,<28`` pin and the slow-client tests that exercise it.
"""

from __future__ import annotations

import errno
import io
import selectors
import socket
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, Any, Protocol

from gunicorn.asgi.parser import ParseError, PythonProtocol
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

#: Used when the app does not say (``MAX_CONTENT_LENGTH``); buybutton's app sets 1 MiB.
DEFAULT_MAX_BODY = 1024 * 1024
#: A request buffered past this many bytes goes on in a temporary file, not in memory.
SPOOL_BYTES = 1024 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: gunicorn's own bounds for the linger after a response (gunicorn.util.close_graceful).
LINGER_SECONDS = 2.0
LINGER_MAX_BYTES = 64 * 1024
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_BAD_BODY = (
    b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 32\r\n\r\nThe request body is malformed.\r\n"
)


#: A socket address as ``accept`` and ``getsockname`` give it.
Address = tuple[str, int] | tuple[str, int, int, int] | str


class _BodyLimits(Protocol):
    """What the app declares (:class:`buybutton_server.uploads.BodyLimits`)."""

    def __call__(self, method: str, path: str) -> int: ...

    def spool_folder(self) -> Path | None: ...


class _BufferedRequest(Request):
    # The event loop already answered "Expect: 100-continue" before reading the body.
    _policy_expect_continue = False


class _BufferedUnreader(SocketUnreader):
    """Serves what the event loop buffered before reading the socket, one socket-sized piece at
    a time (see the module docstring), exactly as :class:`SocketUnreader` sizes its reads."""

    def __init__(self, sock: socket.socket, max_chunk: int = 8192):
        super().__init__(sock, max_chunk)
        #: What the loop buffered (in memory or spooled to a file), read before the socket.
        self.pending: IO[bytes] | None = None

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self.pending is not None:
            size = self.mxchunk
            if size_hint and size_hint > size:
                size = min(size_hint, self.max_body_chunk)
            piece = self.pending.read(size)
            if piece:
                return piece
            self._drop_pending()
        read: bytes = super().chunk(size_hint)
        return read

    def take_buffered(self) -> bytes:
        data: bytes = super().take_buffered()
        if self.pending is not None:
            data += self.pending.read()
            self._drop_pending()
        return data

    def _drop_pending(self) -> None:
        if self.pending is not None:
            self.pending.close()
            self.pending = None


class _BufferedRequestParser(RequestParser):
    mesg_class = _BufferedRequest

    def __init__(self, cfg: Any, source: socket.socket, source_addr: Address):
        super().__init__(cfg, source, source_addr)
        self.unreader = _BufferedUnreader(source)


class BufferedConn(TConn):
    """A connection whose next request is read by the event loop into ``buffered``."""

    parser: _BufferedRequestParser | None

    def __init__(self, cfg: Any, sock: socket.socket, client: Address, server: Address):
        super().__init__(cfg, sock, client, server)
        self.buffered = bytearray()
        #: The request so far, once it outgrew SPOOL_BYTES (``buffered`` is then empty).
        self.spool: IO[bytes] | None = None
        #: Where to spool (None: keep it in memory); set by the worker.
        self.spool_dir: Path | None = None
        #: The request's body limit, by its method and path; set by the worker.
        self.body_limit: Callable[[str, str], int] | None = None
        self.max_body = DEFAULT_MAX_BODY
        self.deadline = 0.0
        self.io_timeout: float | None = None
        #: Handed over before its body arrived (too large): close after the response.
        self.incomplete = False
        #: Its request was spooled to a file: close after the response.
        self.handed_spool = False
        #: Its body's framing is broken: the loop answers 400 and closes.
        self.malformed_body = False
        self._framing: PythonProtocol | None = None
        self._body_bytes = 0
        self._headers_done = False
        self._complete = False
        self.continue_sent = False
        #: Set by the worker: closes the connection without blocking its event loop.
        self.close_in_loop: Callable[[BufferedConn], None] | None = None
        self.lingered = 0

    def start_request(self, deadline: float, io_timeout: float) -> None:
        """Begin reading the next request (then :meth:`feed` what arrives)."""
        self.buffered = bytearray()
        self._close_spool()
        self.deadline = deadline
        self.io_timeout = io_timeout
        self.incomplete = self.malformed_body = False
        self.handed_spool = False
        self._body_bytes = 0
        self._headers_done = self._complete = self.continue_sent = False
        self._framing = PythonProtocol(
            on_headers_complete=self._on_headers_complete,
            on_body=self._on_body,
            on_message_complete=self._on_message_complete,
            limit_request_line=self.cfg.limit_request_line,
            limit_request_fields=self.cfg.limit_request_fields,
            limit_request_field_size=self.cfg.limit_request_field_size,
            permit_unconventional_http_method=self.cfg.permit_unconventional_http_method,
            permit_unconventional_http_version=self.cfg.permit_unconventional_http_version,
        )

    def feed(self, data: bytes, max_body: int) -> bool:
        """Take ``data`` from the socket; True when the request is ready: complete, malformed
        (gunicorn's parser will answer 400 from what is buffered; a broken body sets
        :attr:`malformed_body` for the loop to answer) or too large. ``max_body`` is the limit
        unless :attr:`body_limit` names this request's own."""
        if data:
            self._keep(data)
        framing = self._framing
        assert framing is not None  # start_request made it
        try:
            framing.feed(data)
        except (ParseError, ValueError):
            self.malformed_body = self._headers_done
            return True
        if self._headers_done and not self._complete:
            max_body = self.max_body if self.body_limit is not None else max_body
            too_large = (framing.content_length or 0) > max_body or self._body_bytes > max_body
            if too_large:
                self.incomplete = True
                return True
        return self._complete

    def wants_continue(self) -> bool:
        """Whether the client waits for ``100 Continue`` before sending the body it announced."""
        framing = self._framing
        return (
            framing is not None
            and self._headers_done
            and not self._complete
            and framing.http_version == (1, 1)
            and any(
                name == b"expect" and value.strip().lower() == b"100-continue"
                for name, value in framing.headers
            )
        )

    def _keep(self, data: bytes) -> None:
        if self.spool is not None:
            self.spool.write(data)
            return
        self.buffered += data
        if len(self.buffered) > SPOOL_BYTES and self.spool_dir is not None:
            self.spool = tempfile.TemporaryFile(dir=self.spool_dir, prefix=".request-")
            self.spool.write(self.buffered)
            self.buffered = bytearray()

    def _close_spool(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None

    def _on_headers_complete(self) -> bool:
        self._headers_done = True
        framing = self._framing
        if self.body_limit is not None and framing is not None and framing.method and framing.path:
            self.max_body = self.body_limit(
                framing.method.decode("latin-1"), framing.path.decode("latin-1")
            )
        return False

    def _on_body(self, chunk: bytes) -> None:
        self._body_bytes += len(chunk)

    def _on_message_complete(self) -> None:
        self._complete = True

    def close(self, graceful: bool = False) -> None:
        self._close_spool()
        if graceful and self.close_in_loop is not None:
            self.close_in_loop(self)
        else:
            super().close(graceful)

    def init(self) -> None:
        # Runs in the thread: parse the request from what the event loop buffered.
        if self.parser is None:
            self.parser = _BufferedRequestParser(self.cfg, self.sock, self.client)
        super().init()
        # Reads should find everything buffered; writes to a client that stops reading, or a
        # read the two parsers disagree about, must not hold the thread forever.
        self.sock.settimeout(self.io_timeout)
        if self.spool is not None:
            self.spool.seek(0)
            self.parser.unreader.pending, self.spool = self.spool, None
            self.handed_spool = True
        elif self.buffered:
            self.parser.unreader.pending = io.BytesIO(bytes(self.buffered))
            self.buffered = bytearray()


class BufferingThreadWorker(ThreadWorker):
    """``gthread`` with requests read whole in the event loop (see the module docstring)."""

    #: Seconds a request may take to arrive, from the moment it is awaited. Set from
    #: ``Settings.request_read_timeout`` by :func:`buybutton_server.serving.serve`.
    request_read_timeout = 30.0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Connections being read, in deadline order (every deadline is now + the same timeout).
        self.reading: dict[BufferedConn, None] = {}
        # Closed connections lingering for the client's FIN, in deadline order (see _linger).
        self.lingering: dict[BufferedConn, float] = {}
        self.max_body = DEFAULT_MAX_BODY
        #: The app's per-request limits (see the module docstring), and where to spool.
        self.body_limits: _BodyLimits | None = None
        self.spool_dir: Path | None = None

    def run(self) -> None:
        settings = getattr(self.app, "settings", None)
        if settings is not None:
            self.request_read_timeout = settings.request_read_timeout
        config = getattr(self.wsgi, "config", None) or {}
        self.max_body = config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BODY
        extensions = getattr(self.wsgi, "extensions", None) or {}
        self.body_limits = extensions.get("buybutton.body_limits")
        self.spool_dir = self.body_limits.spool_folder() if self.body_limits else None
        super().run()

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = BufferedConn(self.cfg, client_sock, client_addr, listener.getsockname())
        conn.close_in_loop = self._linger
        self.enqueue_req(conn)

    def enqueue_req(self, conn: BufferedConn) -> None:
        """Every path to a thread (new, kept-alive, pipelined) goes through reading first."""
        leftover = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.start_request(time.monotonic() + self.request_read_timeout, self.request_read_timeout)
        if self.body_limits is not None:
            conn.body_limit = self.body_limits
            conn.max_body = self.max_body
            conn.spool_dir = self.spool_dir
        conn.sock.setblocking(False)
        self.reading[conn] = None
        if leftover and self._feed(conn, leftover):
            self._hand_over(conn)
            return
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: BufferedConn, _sock: socket.socket) -> None:
        try:
            data = conn.sock.recv(64 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away mid-request
            self._drop(conn)
        elif self._feed(conn, data):
            self.poller.unregister(conn.sock)
            self._hand_over(conn)

    def _feed(self, conn: BufferedConn, data: bytes) -> bool:
        """Feed ``data``; True when the request is ready for a thread."""
        if conn.feed(data, self.max_body):
            return True
        if conn.wants_continue() and not conn.continue_sent:
            conn.continue_sent = True
            try:
                conn.sock.send(_CONTINUE)  # 25 bytes into an empty send buffer
            except OSError:
                pass
        return False

    def _hand_over(self, conn: BufferedConn) -> None:
        del self.reading[conn]
        if conn.malformed_body:
            try:
                conn.sock.send(_BAD_BODY)  # a few bytes into an empty send buffer
            except OSError:
                pass
            self.nr_conns -= 1
            self._linger(conn)  # so the unread body does not turn the answer into a RST
            return
        conn.data_ready = True  # gthread's own wait for a first byte is not needed
        super().enqueue_req(conn)

    def _drop(self, conn: BufferedConn, answer: bytes = b"") -> None:
        del self.reading[conn]
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        if answer:
            try:
                conn.sock.send(answer)
            except OSError:
                pass
        self.nr_conns -= 1
        conn.close()

    def _linger(self, conn: BufferedConn) -> None:
        """Close after a response as RFC 9112 section 9.6 asks (send FIN, read until the client's
        FIN so unread request bytes do not turn into a RST that truncates the response), but in
        the event loop: gthread lingers up to 2 s in a blocking recv on the loop's own thread,
        which a client that never closes turns into a 2 s stall of the whole worker."""
        try:
            conn.sock.setblocking(False)
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            conn.sock.close()
            return
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_lingering, conn))

    def _on_lingering(self, conn: BufferedConn, _sock: socket.socket) -> None:
        try:
            data = conn.sock.recv(64 * 1024)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        conn.lingered += len(data)
        if not data or conn.lingered >= LINGER_MAX_BYTES:
            self._end_linger(conn)

    def _end_linger(self, conn: BufferedConn) -> None:
        del self.lingering[conn]
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        conn.sock.close()

    def murder_pending(self) -> None:
        """Also time out requests that did not arrive in time (gthread calls this every loop),
        and, once stopping, close the connections that have not started a request."""
        super().murder_pending()
        now = time.monotonic()
        while self.reading:
            conn = next(iter(self.reading))
            if conn.deadline > now:
                break
            self._drop(conn, _TIMED_OUT if conn.buffered else b"")
        if not self.alive:
            for conn in [c for c in self.reading if not c.buffered]:
                self._drop(conn)
        while self.lingering:
            conn, deadline = next(iter(self.lingering.items()))
            if deadline > now and self.alive:
                break
            self._end_linger(conn)

    def _keepalive_after(self, conn: BufferedConn, keepalive: bool) -> bool:
        if conn.incomplete:  # its body was never read: do not drain it, close
            return False
        if conn.handed_spool:  # what an app left unread of a spooled body stays on disk
            return False
        return bool(super()._keepalive_after(conn, keepalive))
