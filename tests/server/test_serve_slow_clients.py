"""`buybutton serve` keeps answering while slow clients trickle their requests (slowloris), and
cuts off a request that takes longer than BUYBUTTON_REQUEST_READ_TIMEOUT to arrive."""

from __future__ import annotations

import select
import socket
import threading
import time

import pytest
import requests

from .serve_process import Server, free_port, seed_offer, serve_env

SLOW_CONNECTIONS = 64


class Tricklers:
    """Connections that each send their request up to ``sent``, then the rest one byte a second
    (all from one thread), until closed."""

    def __init__(self, port: int, requests_: list[tuple[bytes, int]]):
        self.pending = []
        for raw, sent in requests_:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(raw[:sent])
            self.pending.append([s, raw[sent:]])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(1.0):
            for entry in self.pending:
                s, rest = entry
                if s is None or not rest:
                    continue
                try:
                    s.send(rest[:1])
                    entry[1] = rest[1:]
                except OSError:  # the server hung up
                    s.close()
                    entry[0] = None

    def open_count(self) -> int:
        """Connections the server has neither closed nor answered."""
        count = 0
        for s, _ in self.pending:
            if s is not None and not select.select([s], [], [], 0)[0]:
                count += 1
        return count

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        for s, _ in self.pending:
            if s is not None:
                s.close()


def slow_requests(n: int) -> list[tuple[bytes, int]]:
    """Half trickle the end of their headers; half send complete headers declaring a 1 MiB body
    and trickle the body."""
    headers = (
        b"POST /v1/checkout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"X-Padding: " + b"a" * 200 + b"\r\n\r\n"
    )
    with_body = (
        b"POST /v1/checkout HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
    )
    slow_headers = (headers, len(headers) - 100)
    slow_body = (with_body + b"{" + b" " * (1048576 - 1), len(with_body) + 1)
    return [slow_headers if i % 2 == 0 else slow_body for i in range(n)]


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.redis])]
)
def slow_server(request, tmp_path, sqlite_url):
    """A real `buybutton serve` with a product to buy: on SQLite with the default workers, and on
    PostgreSQL with two workers sharing their rate limits in Redis."""
    port = free_port()
    args = ["--no-webhooks"]
    if request.param == "sqlite":
        env = serve_env(tmp_path, sqlite_url, port)
    else:
        env = serve_env(
            tmp_path,
            request.getfixturevalue("postgres_url"),
            port,
            REDIS_URL=request.getfixturevalue("redis_url"),
            # Redis is shared with other test runs from this address.
            BUYBUTTON_CHECKOUT_RATE_LIMIT="10000/minute",
        )
        args += ["--workers", "2"]
    token = seed_offer(env)
    server = Server(env, port, *args)
    try:
        server.wait_until_healthy()
        yield server, token
    finally:
        server.stop()


def test_health_and_checkout_answer_while_64_slow_clients_trickle(slow_server):
    server, token = slow_server
    tricklers = Tricklers(server.port, slow_requests(SLOW_CONNECTIONS))
    try:
        time.sleep(2)  # the server has read what was sent; the tricklers go on one byte a second

        health = requests.get(f"{server.url}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        response = requests.post(f"{server.url}/v1/checkout", json={"token": token}, timeout=10)
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending"
        # ...and the slow clients were still connected all along: they were not simply dropped.
        assert tricklers.open_count() == SLOW_CONNECTIONS
    finally:
        tricklers.close()


def test_health_and_checkout_answer_while_64_clients_do_not_close_after_their_answer(slow_server):
    server, token = slow_server
    # Each asks to close after its response, then neither reads it nor closes its end.
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    idle = []
    try:
        for _ in range(SLOW_CONNECTIONS):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(request)
            idle.append(s)
        time.sleep(1)
        health = requests.get(f"{server.url}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        response = requests.post(f"{server.url}/v1/checkout", json={"token": token}, timeout=10)
        assert response.status_code == 201, response.text
        # Every idle client did get its answer.
        for s in idle:
            assert s.recv(4096).startswith(b"HTTP/1.1 200 ")
    finally:
        for s in idle:
            s.close()


def test_a_request_that_trickles_past_the_read_timeout_is_cut_off(tmp_path, sqlite_url):
    port = free_port()
    env = serve_env(tmp_path, sqlite_url, port, BUYBUTTON_REQUEST_READ_TIMEOUT="2")
    server = Server(env, port, "--no-webhooks")
    try:
        server.wait_until_healthy()
        header_head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: "
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(header_head)
            answer = b""
            deadline = time.monotonic() + 12  # bounded: the server must hang up well before
            while time.monotonic() < deadline:
                try:
                    s.send(b"a")
                except OSError:
                    break
                readable, _, _ = select.select([s], [], [], 1.0)
                if readable:
                    try:
                        chunk = s.recv(4096)
                    except OSError:
                        break
                    answer += chunk
                    if not chunk:
                        break
            else:
                pytest.fail("the server kept reading a request that trickled for 12 s")
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
        # A prompt request on a new connection is still answered.
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()


# -- HTTP as before: what the server reads whole still means what it meant ----------------------


@pytest.fixture(scope="module")
def http_server(tmp_path_factory, sqlite_template):
    import shutil

    home = tmp_path_factory.mktemp("http")
    shutil.copyfile(sqlite_template, home / "buybutton.sqlite3")
    port = free_port()
    env = serve_env(home, f"sqlite:///{home / 'buybutton.sqlite3'}", port)
    token = seed_offer(env)
    server = Server(env, port, "--no-webhooks")
    try:
        server.wait_until_healthy()
        yield server, token
    finally:
        server.stop()


def exchange(port: int, data: bytes, *, until_closed: bool = True, wait: float = 10) -> bytes:
    """Send ``data`` on a new connection; read until the server closes it (or ``wait`` s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        received = b""
        try:
            while chunk := s.recv(65536):
                received += chunk
                if not until_closed:
                    break
        except TimeoutError:
            pass
        return received


def checkout_request(
    token: str, *, close: bool = False, expect: bool = False
) -> tuple[bytes, bytes]:
    """The head and the body of a checkout of ``token``."""
    body = f'{{"token": "{token}"}}'.encode()
    return (
        b"POST /v1/checkout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + (b"Connection: close\r\n" if close else b"")
        + (b"Expect: 100-continue\r\n" if expect else b"")
        + b"Content-Length: %d\r\n\r\n" % len(body)
    ), body


def test_pipelined_requests_on_one_connection_are_all_answered(http_server):
    server, _ = http_server
    get = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    last = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answer = exchange(server.port, get + get + last)
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 3


def test_a_chunked_body_is_read_whole(http_server):
    server, token = http_server
    body = f'{{"token": "{token}"}}'.encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]))
    answer = exchange(
        server.port,
        b"POST /v1/checkout HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 201 ")


def test_expect_100_continue_is_answered_once_before_the_body(http_server):
    server, token = http_server
    head, body = checkout_request(token, close=True, expect=True)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(head)
        assert s.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201 ")  # no second "100 Continue"


def test_a_body_over_1_mib_is_refused_without_reading_it(http_server):
    server, _ = http_server
    # Only the headers are sent: the 413 comes without the server waiting for 2 MiB.
    answer = exchange(
        server.port,
        b"POST /v1/checkout HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{",
    )
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"code":' in answer  # the API's JSON error, from the app


def test_malformed_requests_get_400(http_server):
    server, _ = http_server
    assert exchange(server.port, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def test_a_body_of_many_tiny_chunks_is_answered_without_holding_a_thread(http_server):
    # 150 000 one-byte chunks (about 900 KB on the wire, under the 1 MiB body limit): gunicorn's
    # chunked reader used to get the whole buffer at once and copy what follows every chunk,
    # minutes of CPU in a thread; read in socket-sized pieces it is answered at once.
    server, token = http_server
    body = f'{{"token": "{token}"}}'.encode()
    chunks = b"%x\r\n%s\r\n" % (len(body), body) + b"1\r\n \r\n" * 150_000 + b"0\r\n\r\n"
    answer = exchange(
        server.port,
        b"POST /v1/checkout HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks,
        wait=30,
    )
    assert answer.startswith(b"HTTP/1.1 201 ")


@pytest.mark.parametrize(
    "body",
    [b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}XX0\r\n\r\n"],
    ids=["bad-chunk-size", "chunk-without-crlf"],
)
def test_a_malformed_chunked_body_gets_400_not_a_server_error(http_server, body):
    server, _ = http_server
    answer = exchange(
        server.port,
        b"POST /v1/checkout HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + body,
    )
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert "Traceback" not in server.output()


def test_a_chunk_line_over_gunicorns_limit_gets_400_not_a_server_error(http_server):
    # The loop's framing accepts a 20 000-byte chunk extension; gunicorn's body reader refuses
    # it (8190 bytes) while the app reads the body.
    server, _ = http_server
    answer = exchange(
        server.port,
        b"POST /v1/checkout HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n1;" + b"a" * 20000 + b"\r\n{\r\n0\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b'"code":"invalid_request"' in answer
    assert "Traceback" not in server.output()
