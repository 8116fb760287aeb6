"""Run the app under gunicorn (``buybutton serve`` and ``buybutton demo``)."""

from __future__ import annotations

import tempfile

from gunicorn.app.base import BaseApplication

from .config import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict):
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self):
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self):
        from buybutton_server import create_app

        return create_app(self._settings)


def serve(settings: Settings, *, host: str, port: int, workers: int = 2) -> None:
    """Serve until interrupted: ``workers`` processes of four threads each."""
    _Gunicorn(settings, {
        "bind": f"{host}:{port}", "workers": max(1, workers), "threads": 4,
        "worker_class": "gthread", "accesslog": "-", "timeout": 60,
        "worker_tmp_dir": tempfile.gettempdir(),
    }).run()
