"""Run the app under gunicorn (``buybutton serve`` and ``buybutton demo``).

Everything that can stop the server from starting is checked here first, by
:func:`check_serving` and :func:`bind_listener`, so that the command line reports it in one line
before it prints its banner, rather than gunicorn in a traceback or a retry loop after it.
"""

from __future__ import annotations

import errno
import socket
import tempfile
from collections.abc import Mapping

from flask import Flask
from gunicorn.app.base import BaseApplication

from buybutton.config import Settings
from buybutton.errors import ConfigError

from . import create_app

#: gthread threads per worker process. They only run the app: requests are read whole first
#: (:mod:`.buffering_worker`), so slow clients do not hold them.
THREADS = 4
BACKLOG = 2048


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: Mapping[str, object]):
        self.settings = settings  # read by the worker class (request_read_timeout)
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_app(self.settings)


def default_workers(settings: Settings) -> int:
    """Worker processes when ``--workers`` is not given: 2 with Redis, else 1 (see
    :func:`check_serving`)."""
    return 2 if settings.redis_url else 1


def check_serving(settings: Settings, workers: int) -> None:
    """Raise :class:`ConfigError` if this configuration must not serve.

    - Several workers without ``REDIS_URL``: the rate-limit counters live in each process's
      memory, so every limit would be multiplied by the number of workers.
    - Several workers with a ``REDIS_URL`` that is not a storage URL or cannot be reached now:
      the limiter would fall back to each worker's memory, the same multiplied limits.
    - ``STRIPE_SECRET_KEY`` without ``STRIPE_WEBHOOK_SECRET``: Stripe's webhooks (how paid orders
      become paid) could not be verified, so every webhook would be refused.
    """
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {workers}.")
    if workers > 1:
        if not settings.redis_url:
            raise ConfigError(
                f"--workers {workers} needs REDIS_URL: without Redis each worker keeps its own "
                f"rate-limit counters, which multiplies every limit by {workers}; set REDIS_URL "
                f"or use --workers 1"
            )
        _check_shared_limits(settings.redis_url, workers)
    if settings.stripe_secret_key and not settings.stripe_webhook_secret:
        raise ConfigError(
            "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: Stripe's webhooks, which "
            "mark orders paid, could not be verified; set STRIPE_WEBHOOK_SECRET to the endpoint's "
            "signing secret (whsec_…)"
        )


def _check_shared_limits(redis_url: str, workers: int) -> None:
    from limits.errors import ConfigurationError
    from limits.storage import storage_from_string

    shown = make_url_safe(redis_url)
    try:
        reachable = storage_from_string(redis_url).check()
    except ConfigurationError as exc:
        raise ConfigError(
            f"REDIS_URL {shown!r} is not a Redis URL ({exc}); --workers {workers} "
            f"shares its rate limits there: use redis://host:6379/0"
        ) from None
    except Exception:  # a driver error while connecting: Redis cannot be used
        reachable = False
    if not reachable:
        raise ConfigError(
            f"REDIS_URL {shown} cannot be reached: --workers {workers} shares its "
            f"rate limits there (without it each worker would count on its own); "
            f"start Redis or use --workers 1"
        )


def make_url_safe(url: str) -> str:
    """``url`` without a password, for messages."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        if parts.password:
            return url.replace(f":{parts.password}@", ":***@", 1)
    except ValueError:
        pass
    return url


def bind_listener(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, for :func:`serve`. Raises :class:`ConfigError`
    naming ``--port`` (or ``--host``) when it cannot be had.

    It does not listen yet: until gunicorn does, connections are refused rather than left
    waiting while the database is migrated (probes see "not up" until the server is)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ConfigError(
            f"cannot listen on {host!r}: no such address; choose another with --host"
        ) from exc
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use; choose another with --port"
            ) from exc
        if exc.errno == errno.EACCES:
            raise ConfigError(
                f"not allowed to listen on port {port} on {host} (ports below "
                f"1024 need privileges); choose another with --port"
            ) from exc
        raise ConfigError(
            f"cannot listen on {host} port {port}: {exc.strerror}; "
            f"choose another with --host or --port"
        ) from exc
    return sock


def serve(settings: Settings, listener: socket.socket, *, workers: int) -> None:
    """Serve on ``listener`` (from :func:`bind_listener`) until interrupted: ``workers``
    processes of :data:`THREADS` threads each, under gunicorn. Takes ownership of ``listener``."""
    fd = listener.detach()  # gunicorn adopts the descriptor, listens on it and closes it
    _Gunicorn(
        settings,
        {
            "bind": f"fd://{fd}",
            "workers": workers,
            "threads": THREADS,
            "worker_class": "buybutton_server.buffering_worker.BufferingThreadWorker",
            "accesslog": "-",
            "timeout": 60,
            "backlog": BACKLOG,
            "worker_tmp_dir": tempfile.gettempdir(),
        },
    ).run()
