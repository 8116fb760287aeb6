"""A real ``buybutton serve`` (or ``demo``) in a subprocess on loopback, for tests of how the
server runs: environment in a temporary folder, a random free port, stopped at the end."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(home: Path, database_url: str, port: int, **extra: str) -> dict:
    """The environment of a sandbox server in ``home`` (also its HOME, for gunicorn's control
    socket), with no Redis or Stripe from the caller's environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
    }
    env.update(
        {
            "HOME": str(home),
            "BUYBUTTON_HOME": str(home),
            "DATABASE_URL": database_url,
            "BUYBUTTON_SECRET_KEYS": "serve-test",
            "BUYBUTTON_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
    )
    env.update(extra)
    return env


def run_cli(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``buybutton ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "buybutton.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def seed_offer(env: dict) -> str:
    """A merchant and a product with stock made through the CLI; returns a signed token."""
    merchant = json.loads(run_cli(env, "merchants", "create", "Slow Shop", "--json").stdout)
    product = json.loads(
        run_cli(
            env,
            "products",
            "create",
            "--merchant",
            merchant["id"],
            "--name",
            "Mug",
            "--amount",
            "1200",
            "--currency",
            "eur",
            "--stock",
            "50",
            "--json",
        ).stdout
    )
    return json.loads(run_cli(env, "tokens", "issue", product["id"], "--json").stdout)["token"]


class Server:
    """``buybutton COMMAND …`` running until :meth:`stop`, in a process group of its own (the
    gunicorn master and its workers), printing into a file in ``env["HOME"]``."""

    def __init__(self, env: dict, port: int, *args: str, command: str = "serve"):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = Path(env["HOME"]) / f"{command}-{port}.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "buybutton.cli", command, "--port", str(port), *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text()

    def wait_until_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{self.url}/healthz", timeout=2).raise_for_status()
                return
            except (requests.ConnectionError, requests.Timeout):  # not up (or booting) yet
                assert self.proc.poll() is None, self.output()
                assert time.monotonic() < deadline, f"server did not start in {timeout} s"
                time.sleep(0.2)

    def stop(self) -> str:
        """Stop the server (its workers too); returns everything it printed."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever of the group is left, e.g. a worker stuck after its master went
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        return self.output()
