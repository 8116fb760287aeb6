"""The hot paths of issue 16 against a bare Flask app, on one machine, interleaved.

    .venv/bin/python bench/http_ratios.py [--db sqlite --db postgres] [--rounds 3] [--duration 5]
        [--connections 32] [--source DIR] [--port 8700]

Starts ``buybutton serve`` (the project under test: this tree, or ``--source DIR``, another
checkout of it, e.g. an older commit for "before" figures) and the bare app of
``bench/baseline.py`` under gunicorn with the same settings (1 worker, ``serving.THREADS``
threads, the same worker class, backlog and access log), on SQLite and on PostgreSQL
(``BUYBUTTON_TEST_POSTGRES_URL``, a fresh schema). Then, round after round, runs ``wrk`` on each
path of the project and right after on its baseline (the order flips every round, so a load
change on a shared machine hits both sides alike), and prints, per row, the min / median / max
of the ratio project req/s ÷ baseline req/s. Every request carries a random
``X-Forwarded-For`` (the servers trust one proxy), as many shoppers would: the rate limits
count per client and stay out of the way, but their cost is measured. ``wrk`` is Debian's
(installed with apt-get when missing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT))

from buybutton_server.serving import BACKLOG, THREADS  # noqa: E402

LUA = """
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  wrk.headers["X-Forwarded-For"] = math.random(1, 223) .. "." .. math.random(0, 255) .. "." ..
    math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format(%(method)s, %(path)s, wrk.headers, %(body)s)
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def lua_string(value: str | None) -> str:
    return "nil" if value is None else json.dumps(value)


class Servers:
    """The project and the baseline, on one database, until :meth:`stop`."""

    def __init__(self, source: Path, database: str, port: int, home: Path) -> None:
        self.source, self.database, self.home = source, database, home
        self.project_port, self.baseline_port = port, port + 1
        self.procs: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "HOME": str(home),
            "PYTHONPATH": f"{source}{os.pathsep}{source / 'server'}",
            "BUYBUTTON_HOME": str(home),
            "DATABASE_URL": database,
            "BUYBUTTON_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "BUYBUTTON_TRUSTED_PROXIES": "1",
            "BUYBUTTON_CHECKOUT_RATE_LIMIT": "100000/minute",
            "BUYBUTTON_MAX_HELD_UNITS_PER_CLIENT": "0",
            "BUYBUTTON_SECRET_KEYS": "bench-secret-key-bench-secret-key",
        }
        self.env.pop("REDIS_URL", None)

    def cli(self, *args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "buybutton.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"buybutton {' '.join(args)}: {done.stderr.strip()}")
        return json.loads(done.stdout) if "--json" in args else {}

    def seed(self) -> dict[str, str]:
        self.cli("db", "upgrade")
        merchant = self.cli("merchants", "create", "Bench shop", "--json")
        product = self.cli(
            "products", "create", "--merchant", merchant["id"], "--name", "Blue mug",
            "--amount", "1200", "--currency", "eur", "--json",
        )  # fmt: skip
        token = self.cli("tokens", "issue", product["id"], "--json")["token"]
        return {"product_id": product["id"], "token": token}

    def start(self) -> None:
        log = open(self.home / "servers.log", "ab")  # noqa: SIM115 - closed with the processes
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "buybutton.cli", "serve", "--port", str(self.project_port)],
                env=self.env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
            )
        )  # fmt: skip
        self.procs.append(
            subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", str(THREADS),
                    "--worker-class", "buybutton_server.buffering_worker.BufferingThreadWorker",
                    "--backlog", str(BACKLOG), "--access-logfile", "-", "--timeout", "60",
                    "--bind", f"127.0.0.1:{self.baseline_port}", "--chdir", str(ROOT),
                    "bench.baseline:app",
                ],
                env={**self.env, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'server'}"},
                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
            )
        )  # fmt: skip
        for port, path in ((self.project_port, "/healthz"), (self.baseline_port, "/tiny")):
            wait_for(f"http://127.0.0.1:{port}{path}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.headers["ETag"]


def wrk(binary: str, url: str, lua: str, *, duration: int, connections: int, home: Path) -> float:
    """Requests per second that ``wrk`` measured (answers other than 2xx/3xx are an error)."""
    script = home / f"{uuid.uuid4().hex}.lua"
    script.write_text(lua)
    out = subprocess.run(
        [binary, "-t", "2", "-c", str(connections), "-d", f"{duration}s", "-s", str(script), url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    script.unlink()
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"{url}: {bad.group(1)} answers were errors:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def rows(seed: dict[str, str], widget_etag: str) -> list[tuple[str, tuple, tuple]]:
    """(label, project request, baseline request): each request (method, path, body, headers)."""
    token, product = seed["token"], seed["product_id"]
    checkout = json.dumps({"token": token})
    tiny = ("GET", "/tiny", None, {})
    return [
        ("GET /v1/embed/{token} vs bare tiny JSON", ("GET", f"/v1/embed/{token}", None, {}), tiny),
        (
            "GET /v1/embed/{token} vs bare one SELECT",
            ("GET", f"/v1/embed/{token}", None, {}),
            ("GET", f"/select/{product}", None, {}),
        ),
        ("GET /p/{token} share page vs bare tiny JSON", ("GET", f"/p/{token}", None, {}), tiny),
        (
            "POST /v1/checkout (sandbox) vs bare one INSERT",
            ("POST", "/v1/checkout", checkout, {"Content-Type": "application/json"}),
            ("POST", "/insert", None, {}),
        ),
        (
            "/widget.js 304 vs bare tiny JSON",
            ("GET", "/widget.js", None, {"If-None-Match": widget_etag}),
            tiny,
        ),
    ]


def script_for(method: str, path: str, body: str | None, headers: dict[str, str]) -> str:
    lines = "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())
    return lines + LUA % {
        "method": lua_string(method),
        "path": lua_string(path),
        "body": lua_string(body),
    }


def measure(servers: Servers, binary: str, args: argparse.Namespace) -> dict[str, list[float]]:
    seed = servers.seed()
    servers.start()
    base_p = f"http://127.0.0.1:{servers.project_port}"
    base_b = f"http://127.0.0.1:{servers.baseline_port}"
    widget = etag_of(f"{base_p}/widget.js")
    ratios: dict[str, list[float]] = {}
    table = [row for row in rows(seed, widget) if not args.only or args.only in row[0]]
    for round_no in range(args.rounds):
        for label, project, baseline in table:
            runs = [(base_p, project), (base_b, baseline)]
            if round_no % 2:
                runs.reverse()
            rps = {}
            for base, (method, path, body, headers) in runs:
                lua = script_for(method, path, body, headers)
                rps[base] = wrk(
                    binary, base + path, lua, duration=args.duration,
                    connections=args.connections, home=servers.home,
                )  # fmt: skip
            ratio = rps[base_p] / rps[base_b]
            ratios.setdefault(label, []).append(ratio)
            print(
                f"  round {round_no + 1}: {label}: {rps[base_p]:.0f} / {rps[base_b]:.0f} req/s"
                f" = {ratio:.3f}",
                flush=True,
            )
    return ratios


def postgres_schema(base_url: str) -> tuple[str, object]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--source", type=Path, default=ROOT, help="the buybutton tree to serve")
    parser.add_argument("--port", type=int, default=8700, help="first of two ports")
    parser.add_argument("--only", help="only the rows whose label holds this text")
    args = parser.parse_args(argv)
    binary = ensure_wrk()
    print(f"load average before: {os.getloadavg()}; source: {args.source}", flush=True)
    results: dict[str, dict[str, list[float]]] = {}
    for db in args.db or ["sqlite", "postgres"]:
        home = Path(tempfile.mkdtemp(prefix=f"bench-http-{db}-"))
        drop = None
        if db == "sqlite":
            url = f"sqlite:///{home / 'buybutton.sqlite3'}"
        else:
            base = os.environ.get("BUYBUTTON_TEST_POSTGRES_URL")
            if not base:
                print("postgres: skipped (set BUYBUTTON_TEST_POSTGRES_URL)")
                continue
            url, drop = postgres_schema(base)
        servers = Servers(args.source.resolve(), url, args.port, home)
        print(f"{db}:", flush=True)
        try:
            results[db] = measure(servers, binary, args)
        finally:
            servers.stop()
            if drop is not None:
                drop()
            shutil.rmtree(home, ignore_errors=True)
    print(f"load average after: {os.getloadavg()}")
    print("\n| path | database | ratio min / median / max |\n| --- | --- | --- |")
    for db, table in results.items():
        for label, values in table.items():
            print(
                f"| {label} | {db} | {min(values):.3f} / {statistics.median(values):.3f} / "
                f"{max(values):.3f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
