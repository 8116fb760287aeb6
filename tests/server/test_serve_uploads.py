"""A file upload through the real server (gunicorn and its buffering worker): a body far over
the 1 MiB the worker would otherwise buffer is spooled to disk, not memory, and reaches storage
whole; its memory is measured as the worker's peak resident size (VmHWM), not by timing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from pathlib import Path

import pytest
import requests

from .serve_process import Server, free_port, run_cli, serve_env

SIZE = 64 * 1024 * 1024
BOUNDARY = "----buybutton-test-boundary"


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _workers(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _multipart_file(folder: Path) -> tuple[Path, str]:
    """A multipart body on disk holding SIZE random bytes as the part ``file``; and their hash."""
    body = folder / "body.bin"
    digest = hashlib.sha256()
    with open(body, "wb") as out:
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.zip"\r\nContent-Type: application/zip\r\n\r\n'.encode()
        )
        block = os.urandom(1024 * 1024)
        for _ in range(SIZE // len(block)):
            out.write(block)
            digest.update(block)
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return body, digest.hexdigest()


@pytest.fixture
def upload_server(tmp_path, sqlite_template):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(sqlite_template, home / "buybutton.sqlite3")
    port = free_port()
    env = serve_env(home, f"sqlite:///{home / 'buybutton.sqlite3'}", port)
    merchant = json.loads(run_cli(env, "merchants", "create", "Upload Shop", "--json").stdout)
    server = Server(env, port, "--no-webhooks")
    try:
        server.wait_until_healthy()
        yield server, home, {"Authorization": f"Bearer {merchant['api_key']}"}
    finally:
        server.stop()


def test_a_64_mb_upload_through_gunicorn_is_spooled_to_disk_not_memory(upload_server, tmp_path):
    server, home, auth = upload_server
    product = requests.post(
        f"{server.url}/v1/products",
        json={"name": "Big", "amount": 900, "currency": "eur"},
        headers=auth,
        timeout=30,
    ).json()
    body, sha256 = _multipart_file(tmp_path)
    (worker,) = _workers(server.proc.pid)
    before = _peak_rss_kib(worker)
    with open(body, "rb") as stream:
        answer = requests.post(
            f"{server.url}/v1/products/{product['id']}/file",
            data=stream,
            headers={**auth, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            timeout=120,
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["file"] == {
        **answer.json()["file"],
        "name": "big.zip",
        "size": SIZE,
        "sha256": sha256,
    }
    grown = _peak_rss_kib(worker) - before
    assert grown < 24 * 1024, f"the worker's peak grew {grown} KiB for a {SIZE >> 20} MiB upload"
    stored = home / "files" / sha256[:2] / sha256
    assert stored.stat().st_size == SIZE
    assert not list((home / "files").glob(".request-*"))  # the spool file is gone


def test_an_upload_over_the_limit_is_refused_by_the_real_server_without_reading_it(
    upload_server,
):
    server, _, auth = upload_server
    product = requests.post(
        f"{server.url}/v1/products",
        json={"name": "Big", "amount": 900, "currency": "eur"},
        headers=auth,
        timeout=30,
    ).json()
    # Headers only: the 413 comes without the server waiting for the 300 MB announced.

    head = (
        f"POST /v1/products/{product['id']}/file HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {auth['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {300 * 1024 * 1024}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(head)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"code":"file_too_large"' in answer
