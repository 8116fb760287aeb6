"""What `buybutton serve` and `buybutton demo` say when they start, or why they will not: one
line, before any banner, with nothing written."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from buybutton.cli import main

from .serve_process import Server, free_port, run_cli, serve_env

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty state folder and a sandbox configuration without Redis or Stripe."""
    for name in ("REDIS_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("BUYBUTTON_SECRET_KEYS", "startup-test")
    monkeypatch.setenv("BUYBUTTON_PUBLIC_URL", "http://127.0.0.1:8000")
    return tmp_path


def refusal(capsys, *argv) -> str:
    """Run the command, which must refuse: exit 1, nothing on stdout, one line on stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""  # no banner
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("buybutton: error: "), err
    return lines[0]


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_several_workers_without_redis_are_refused(home, capsys, command):
    line = refusal(capsys, command, "--workers", "3", "--port", str(free_port()))
    assert line == (
        "buybutton: error: --workers 3 needs REDIS_URL: without Redis each worker "
        "keeps its own rate-limit counters, which multiplies every limit by 3; set "
        "REDIS_URL or use --workers 1"
    )
    assert not (home / "buybutton.sqlite3").exists()  # nothing migrated or seeded


@pytest.mark.parametrize(
    "redis_url",
    ["redis://127.0.0.1:1/0", "redis//127.0.0.1:6379"],
    ids=["unreachable", "not-a-redis-url"],
)
def test_several_workers_with_a_redis_they_cannot_use_are_refused(tmp_path, redis_url):
    # The limiter falls back to each process's memory when Redis fails: with a Redis that is
    # down or misspelt, several workers would multiply every limit as if REDIS_URL were unset.
    # In a subprocess: a server that wrongly starts is stopped by the timeout (a failure).
    port = free_port()
    env = serve_env(
        tmp_path, f"sqlite:///{tmp_path / 'buybutton.sqlite3'}", port, REDIS_URL=redis_url
    )
    result = run_cli(env, "serve", "--workers", "2", "--port", str(port), timeout=30)
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("buybutton: error: REDIS_URL "), result.stderr
    assert "--workers 2" in lines[0]
    assert not (tmp_path / "buybutton.sqlite3").exists()


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_a_port_in_use_is_one_line_naming_port(home, capsys, command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        line = refusal(capsys, command, "--port", str(port))
    assert line == (
        f"buybutton: error: port {port} on 127.0.0.1 is already in use; choose another with --port"
    )
    assert not (home / "buybutton.sqlite3").exists()


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_stripe_key_without_webhook_secret_is_refused(home, capsys, monkeypatch, command):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_startup")
    line = refusal(capsys, command, "--port", str(free_port()))
    assert line.startswith(
        "buybutton: error: STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not"
    )
    assert "set STRIPE_WEBHOOK_SECRET" in line


def test_a_bad_request_read_timeout_is_refused(home, capsys, monkeypatch):
    monkeypatch.setenv("BUYBUTTON_REQUEST_READ_TIMEOUT", "forever")
    line = refusal(capsys, "serve", "--port", str(free_port()))
    assert line == (
        "buybutton: error: BUYBUTTON_REQUEST_READ_TIMEOUT must be a number of seconds "
        "from 1 to 3600, not 'forever'."
    )


def test_commands_that_take_no_webhooks_do_not_need_the_webhook_secret(home, capsys, monkeypatch):
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_startup")
    assert main(["db", "upgrade"]) == 0
    assert main(["merchants", "create", "Ana", "--json"]) == 0
    assert '"api_key"' in capsys.readouterr().out


def test_the_default_worker_count_serves_without_redis(tmp_path, sqlite_url):
    port = free_port()
    server = Server(serve_env(tmp_path, sqlite_url, port), port, "--no-webhooks")
    try:
        server.wait_until_healthy()
    finally:
        output = server.stop()
    assert "1 worker(s)" in output


@pytest.mark.redis
def test_several_workers_with_redis_serve(tmp_path, sqlite_url, redis_url):
    port = free_port()
    server = Server(
        serve_env(tmp_path, sqlite_url, port, REDIS_URL=redis_url), port, "--no-webhooks"
    )
    try:
        server.wait_until_healthy()
    finally:
        output = server.stop()
    assert "2 worker(s)" in output  # the default with Redis


def test_serve_names_the_sandbox_and_warns_that_no_money_moves(tmp_path, sqlite_url):
    port = free_port()
    server = Server(serve_env(tmp_path, sqlite_url, port), port, "--no-webhooks")
    try:
        server.wait_until_healthy()
    finally:
        output = server.stop()
    lines = output.splitlines()
    assert lines[0].startswith("buybutton serve — SQLite at ")
    assert "payments: offline sandbox" in lines[0]
    assert lines[1].startswith(
        "buybutton: WARNING: payments go to the offline SANDBOX: no real money moves"
    )


def test_serve_names_stripe_test_mode_without_the_sandbox_warning(tmp_path, sqlite_url):
    port = free_port()
    env = serve_env(
        tmp_path,
        sqlite_url,
        port,
        STRIPE_SECRET_KEY="sk_test_startup",
        STRIPE_WEBHOOK_SECRET="whsec_startup",
    )
    server = Server(env, port, "--no-webhooks")
    try:
        server.wait_until_healthy()
    finally:
        output = server.stop()
    assert "payments: Stripe, test mode" in output.splitlines()[0]
    assert "SANDBOX" not in output


def test_make_demo_passes_port_and_host():
    dry_run = subprocess.run(
        ["make", "-n", "demo", "PORT=9000", "HOST=0.0.0.0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    demo_line = [line for line in dry_run.splitlines() if "buybutton demo" in line]
    assert demo_line and demo_line[-1].endswith("buybutton demo --host 0.0.0.0 --port 9000")
