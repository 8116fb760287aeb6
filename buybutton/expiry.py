"""Lapsed checkouts give their stock back off the request path.

A pending order holds its stock until ``expires_at``; then :func:`buybutton.orders.expire_stale_orders`
moves it to ``expired`` in set-based batches. ``buybutton serve`` runs :func:`start_expiry_thread`
beside the webhook delivery thread (every ``BUYBUTTON_EXPIRY_INTERVAL_SECONDS``), and
``buybutton orders expire`` runs the same sweep once, for a cron job. A checkout never expires
other orders, so its cost does not grow with how many lapsed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from .orders import expire_stale_orders
from .store import Store

log = logging.getLogger("buybutton.expiry")


def run_expiry(
    store: Store,
    stop: threading.Event,
    *,
    interval_seconds: float,
    clock: Callable[[], float] = time.time,
) -> None:
    """Sweep lapsed orders every ``interval_seconds`` until ``stop`` is set. A database error is
    logged and the sweep retried at the next tick: the thread outlives outages."""
    while not stop.is_set():
        try:
            count = expire_stale_orders(store, now=clock())
        except Exception:  # noqa: BLE001 - keep sweeping; the orders stay due
            log.exception("expiring lapsed orders failed")
        else:
            if count:
                log.info("expired %d lapsed order(s)", count)
        stop.wait(interval_seconds)


def start_expiry_thread(
    store: Store, *, interval_seconds: float
) -> tuple[threading.Thread, threading.Event]:
    """Run :func:`run_expiry` in a daemon thread (``buybutton serve`` / ``demo``); returns the
    thread and the event that stops it."""
    stop = threading.Event()
    # As for the webhook thread: a forked child must not reuse this thread's connections.
    os.register_at_fork(after_in_child=lambda: store.engine.dispose(close=False))
    thread = threading.Thread(
        target=run_expiry,
        args=(store, stop),
        kwargs={"interval_seconds": interval_seconds},
        name="buybutton-expiry",
        daemon=True,
    )
    thread.start()
    return thread, stop
