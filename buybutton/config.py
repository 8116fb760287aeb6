"""Configuration, read once from the environment into one typed object.

Nothing else in buybutton reads ``os.environ``. Every default makes the embedded demo work:
SQLite in the instance folder, the offline sandbox payment provider, a generated secret key.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from .errors import BuyButtonError


class ConfigError(BuyButtonError):
    """The configuration is unusable (a bad URL, an unreadable key file, …)."""

    code = "invalid_configuration"


@dataclass(frozen=True)
class Settings:
    """Everything buybutton is configured with. Build it with :func:`load_settings`."""

    home: Path
    database_url: str
    # Secrets stay out of repr(), so a logged or printed Settings gives nothing away.
    secret_keys: tuple[str, ...] = field(repr=False)
    public_url: str | None = None
    stripe_secret_key: str | None = field(default=None, repr=False)
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    stripe_api_base: str | None = None
    redis_url: str | None = None
    checkout_ttl_seconds: int = 30 * 60
    #: Requests per client IP on the public checkout endpoints (flask-limiter syntax).
    checkout_rate_limit: str = "20/minute;300/hour"
    #: How many reverse proxies in front of us set X-Forwarded-For (0: trust none).
    trusted_proxies: int = 0
    #: Units of stock one client address may hold in unpaid orders at once (0: no cap).
    max_held_units_per_client: int = 20
    # Webhook endpoints on loopback/private/link-local addresses are refused unless this is set
    # (tests and the demo set it; a public server must not post into its own network).
    webhook_allow_private: bool = False
    #: Total wall-clock deadline of one webhook POST (connect, send, the whole answer).
    webhook_timeout_seconds: float = 10.0
    #: Webhook POSTs one delivery worker (or ``serve``'s thread) sends at once.
    webhook_concurrency: int = 4
    #: Claims in flight per webhook endpoint across all workers (keep it below the concurrency,
    #: so one slow receiver can never hold every sending thread).
    webhook_endpoint_concurrency: int = 1
    #: Seconds to wait after each failed attempt; empty: exponential backoff (30 s … 12 h, 16
    #: attempts in all).
    webhook_retry_schedule: tuple[int, ...] = ()

    @property
    def payment_provider(self) -> str:
        """``"stripe"`` when a Stripe secret key is set, else the offline ``"sandbox"``."""
        return "stripe" if self.stripe_secret_key else "sandbox"

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)


def _secret_keys(home: Path, raw: str | None) -> tuple[str, ...]:
    if raw:
        keys = tuple(k.strip() for k in raw.split(",") if k.strip())
        if not keys:
            raise ConfigError("BUYBUTTON_SECRET_KEYS is set but names no key.")
        return keys
    # No key configured: generate a strong one once and keep it beside the database, readable by
    # the owner only, so the demo needs no set-up and its tokens survive a restart.
    path = home / "secret_key"
    try:
        return (path.read_text().strip(),)
    except FileNotFoundError:
        pass
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return (path.read_text().strip(),)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return (key,)


def _bounded(env: Mapping[str, str], name: str, default: float, kind: type, low: float,
             high: float, unit: str):
    raw = env.get(name) or ""
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConfigError(f"{name} must be {unit} from {low:g} to {high:g}, not {raw!r}.")
    return value


MAX_RETRY_WAIT = 7 * 86400


def _retry_schedule(raw: str | None) -> tuple[int, ...]:
    if not raw:
        return ()
    parts = [part.strip() for part in raw.split(",")]
    if not all(part.isdecimal() and 1 <= int(part) <= MAX_RETRY_WAIT for part in parts) \
            or len(parts) > 100:
        raise ConfigError("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE must be up to 100 comma-separated "
                          f"waits in whole seconds from 1 to {MAX_RETRY_WAIT} (e.g. "
                          f"30,300,3600), not {raw!r}.")
    return tuple(int(part) for part in parts)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: the process environment).

    ``BUYBUTTON_HOME`` (default ``./instance``) holds local state; ``DATABASE_URL`` defaults to a
    SQLite file there; ``BUYBUTTON_SECRET_KEYS`` is a comma-separated list, newest last.
    """
    env = os.environ if env is None else env
    home = Path(env.get("BUYBUTTON_HOME") or "instance").absolute()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{home / 'buybutton.sqlite3'}"
    public_url = (env.get("BUYBUTTON_PUBLIC_URL") or "").rstrip("/") or None
    ttl = env.get("BUYBUTTON_CHECKOUT_TTL_SECONDS") or "1800"
    try:
        checkout_ttl = int(ttl)
    except ValueError:
        raise ConfigError(f"BUYBUTTON_CHECKOUT_TTL_SECONDS must be a number of seconds, not {ttl!r}.")
    if not 1800 <= checkout_ttl <= 86400 and env.get("STRIPE_SECRET_KEY"):
        # Stripe accepts a Checkout Session expiry from 30 minutes to 24 hours.
        raise ConfigError("BUYBUTTON_CHECKOUT_TTL_SECONDS must be from 1800 to 86400 with Stripe.")
    proxies = env.get("BUYBUTTON_TRUSTED_PROXIES") or "0"
    if not proxies.isdecimal():
        raise ConfigError(f"BUYBUTTON_TRUSTED_PROXIES must be a number of proxies, not {proxies!r}.")
    held = env.get("BUYBUTTON_MAX_HELD_UNITS_PER_CLIENT") or str(Settings.max_held_units_per_client)
    if not held.isdecimal() or int(held) > 1_000_000:
        raise ConfigError("BUYBUTTON_MAX_HELD_UNITS_PER_CLIENT must be a number of units from 0 "
                          f"(no cap) to 1000000, not {held!r}.")
    return Settings(
        home=home,
        database_url=database_url,
        secret_keys=_secret_keys(home, env.get("BUYBUTTON_SECRET_KEYS")),
        public_url=public_url,
        stripe_secret_key=env.get("STRIPE_SECRET_KEY") or None,
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
        stripe_api_base=env.get("STRIPE_API_BASE") or None,
        redis_url=env.get("REDIS_URL") or None,
        checkout_ttl_seconds=checkout_ttl,
        checkout_rate_limit=env.get("BUYBUTTON_CHECKOUT_RATE_LIMIT") or Settings.checkout_rate_limit,
        trusted_proxies=int(proxies),
        max_held_units_per_client=int(held),
        webhook_allow_private=(env.get("BUYBUTTON_WEBHOOK_ALLOW_PRIVATE") or "").lower()
        in ("1", "true", "yes"),
        webhook_timeout_seconds=_bounded(env, "BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS", 10.0, float,
                                         0.1, 300, "a number of seconds"),
        webhook_concurrency=_bounded(env, "BUYBUTTON_WEBHOOK_CONCURRENCY", 4, int, 1, 64,
                                     "a whole number"),
        webhook_endpoint_concurrency=_bounded(env, "BUYBUTTON_WEBHOOK_ENDPOINT_CONCURRENCY", 1,
                                              int, 1, 64, "a whole number"),
        webhook_retry_schedule=_retry_schedule(env.get("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE")),
    )
