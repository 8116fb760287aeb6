"""`buybutton serve` really serves, under gunicorn, on loopback."""

import os
import socket
import subprocess
import sys
import time

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn_and_answers_health(tmp_path, sqlite_url):
    port = free_port()
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "BUYBUTTON_HOME": str(tmp_path),
        "DATABASE_URL": sqlite_url,
        "BUYBUTTON_SECRET_KEYS": "serve-test",
        "BUYBUTTON_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "buybutton.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "server did not start in 30 s"
                time.sleep(0.2)
        assert response.json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
