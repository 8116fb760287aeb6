"""Configuration, read once from the environment into one typed object.

Nothing else in buybutton reads ``os.environ``. Every default makes the embedded demo work:
SQLite in the home folder, the offline sandbox payment provider, a generated secret key.

The home folder (``BUYBUTTON_HOME``, default the user data folder: ``~/.local/share/buybutton``
on Linux) and the files in it are the owner's only (0700 and 0600). Nothing is created there until
it is needed: the secret key file when something is first signed, the SQLite file when the
database is first opened. Each creation is announced on the ``buybutton.setup`` logger, which the
command line prints.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.errors import MessageError
from email.headerregistry import Address
from email.policy import default as _email_policy
from pathlib import Path
from typing import Any, TypedDict, overload
from urllib.parse import parse_qsl, unquote, urlsplit

import platformdirs

from .errors import ConfigError

#: Where buybutton says what it created (the home folder's files): the CLI prints it on stderr.
setup_log = logging.getLogger("buybutton.setup")


#: Hosts a server without BUYBUTTON_PUBLIC_URL or BUYBUTTON_ALLOWED_HOSTS answers to (tests and
#: a developer's machine): links never name a host a client made up.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
#: Default lifetime of the tokens the server mints without being asked: catalog feed links and
#: a shopper's personal share link. Feeds are re-fetched daily; two weeks outlives missed fetches.
DEFAULT_LINK_TTL_SECONDS = 14 * 86400
_HOST_NAME = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*", re.ASCII
)
#: The sender of the embedded default (mail written to ``$BUYBUTTON_HOME/mail/``, never sent).
DEFAULT_MAIL_FROM = "buybutton <buybutton@localhost>"


@dataclass(frozen=True)
class SmtpSettings:
    """Where mail is sent, parsed from ``BUYBUTTON_SMTP_URL`` (see :func:`parse_smtp_url`).

    ``scheme`` is ``"smtp"`` (STARTTLS whenever the server offers it) or ``"smtps"`` (implicit
    TLS); ``username``/``password`` are percent-decoded, both set or both ``None``.
    """

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: Seconds for the connection and for each reply of the server.
    timeout: float = 10.0


@dataclass(frozen=True)
class Settings:
    """Everything buybutton is configured with. Build it with :func:`load_settings`."""

    home: Path
    database_url: str
    # Secrets stay out of repr(), so a logged or printed Settings gives nothing away.
    # A tuple, or a GeneratedSecretKey that reads (or makes) $BUYBUTTON_HOME/secret_key when used.
    secret_keys: Sequence[str] = field(repr=False)
    public_url: str | None = None
    #: Host names requests may carry when links are built from the request (no public_url), or
    #: that requests must carry besides public_url's host. A leading dot allows subdomains.
    allowed_hosts: tuple[str, ...] = ()
    #: How long a catalog feed link (an offer the server mints for each opted-in product) lives.
    feed_link_ttl_seconds: int = DEFAULT_LINK_TTL_SECONDS
    #: How long a shopper's personal share link (minted on the order page) lives.
    share_link_ttl_seconds: int = DEFAULT_LINK_TTL_SECONDS
    stripe_secret_key: str | None = field(default=None, repr=False)
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    stripe_api_base: str | None = None
    redis_url: str | None = None
    checkout_ttl_seconds: int = 30 * 60
    #: How often ``serve`` sweeps lapsed checkouts (giving their stock back).
    expiry_interval_seconds: int = 10
    #: How long a rendered product card or share page is served from the cache (and browsers and
    #: CDNs may keep it) before it is checked again; 0: no cache. A change made through another
    #: server (without Redis) shows within this time; through this one, at once.
    cache_ttl_seconds: int = 10
    #: How long after that a browser or CDN may still show it while it fetches a fresh one.
    cache_stale_seconds: int = 60
    #: Rendered answers the cache keeps at most (least recently used ones go first).
    cache_max_entries: int = 10_000
    #: Compress HTML, JSON and JavaScript answers (brotli or gzip, as the client accepts); turn
    #: it off where a front proxy compresses already.
    compression: bool = True
    #: Requests per client IP on the public checkout endpoints (flask-limiter syntax).
    checkout_rate_limit: str = "20/minute;300/hour"
    #: Requests per client IP to GET /v1/checkouts/<id>, which widgets ask while a checkout is
    #: open (about 10 a minute at first, then 4 a minute, per open checkout).
    checkout_outcome_rate_limit: str = "120/minute"
    #: How many reverse proxies in front of us set X-Forwarded-For (0: trust none).
    trusted_proxies: int = 0
    #: Units of stock one client address may hold in unpaid orders at once (0: no cap).
    max_held_units_per_client: int = 20
    # Webhook endpoints on loopback/private/link-local addresses are refused unless this is set
    # (tests and the demo set it; a public server must not post into its own network).
    webhook_allow_private: bool = False
    #: Seconds a request (line, headers and body) may take to arrive before the server answers
    #: 408 and hangs up, so a client trickling bytes cannot hold a connection forever.
    request_read_timeout: float = 30.0
    #: At most one payment-provider read per order per this many seconds from shopper pages
    #: (the success page asks the provider; anonymous reloads must not become API calls).
    order_sync_interval_seconds: int = 10
    #: How long the one-click confirmation on a buy page stays valid.
    one_click_confirm_seconds: int = 15 * 60
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
    #: Mail goes to this SMTP server; ``None``: written as .eml files under ``home/mail/``.
    smtp: SmtpSettings | None = None
    #: The From of every message buybutton sends (``"Shop <shop@example.com>"``).
    mail_from: str = DEFAULT_MAIL_FROM
    #: Seconds to wait after each failed mail attempt; empty: 1 min doubling to 6 h, 12
    #: attempts in all (buybutton/mail/delivery.py).
    mail_retry_schedule: tuple[int, ...] = ()
    #: Largest uploaded file (a digital product's download), in bytes.
    max_upload_bytes: int = 200 * 1024 * 1024
    #: How long a paid order's download link works, from the payment (seconds).
    download_ttl_seconds: int = 7 * 86400
    #: How many times a paid order's file may be downloaded.
    download_limit: int = 5
    #: Largest uploaded product image, in bytes.
    max_image_bytes: int = 10 * 1024 * 1024
    #: Most pixels (width × height) an uploaded image may declare: the decompression-bomb guard.
    max_image_pixels: int = 40_000_000
    #: Anyone may create a merchant account on /dashboard/signup (``BUYBUTTON_SIGNUP=open``).
    signup_open: bool = False
    #: How long a dashboard sign-in lasts (the session cookie's lifetime), in seconds.
    dashboard_session_seconds: int = 12 * 3600
    #: Sign-in attempts per account (email), and per client IP (flask-limiter syntax).
    login_rate_limit: str = "5/minute;30/hour"
    login_ip_rate_limit: str = "20/minute;200/hour"

    @property
    def payment_provider(self) -> str:
        """``"stripe"`` when a Stripe secret key is set, else the offline ``"sandbox"``."""
        return "stripe" if self.stripe_secret_key else "sandbox"

    @property
    def trusted_hosts(self) -> list[str] | None:
        """The Host header values the server answers (any other gets a 400), ``None`` for any.

        With a public URL, links never come from the request, so any host may ask unless
        ``allowed_hosts`` narrows it; without one, only ``allowed_hosts`` (default: loopback).
        """
        if self.allowed_hosts:
            public_host = urlsplit(self.public_url).hostname if self.public_url else None
            return list(self.allowed_hosts) + ([public_host] if public_host else [])
        return None if self.public_url else list(LOOPBACK_HOSTS)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def make_private_folder(path: Path) -> None:
    """Create ``path`` (and its missing parents) if needed; ``path`` itself is owner-only (0700).
    :class:`ConfigError` naming the folder if it cannot be created (a parent is a file, no
    permission, a read-only file system)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the folder {path} ({exc.strerror or exc}); set "
            "BUYBUTTON_HOME to a folder you can write.",
            param="BUYBUTTON_HOME",
        ) from None


class GeneratedSecretKey(Sequence[str]):
    """The signing key kept in ``home/secret_key`` when ``BUYBUTTON_SECRET_KEYS`` is unset: read on
    first use, or generated then (strong, 0600), so the demo needs no set-up and its tokens
    survive a restart. Lazy, so that a command that signs nothing (or fails first) creates no
    file. Behaves as a one-key tuple."""

    def __init__(self, home: Path):
        self.path = home / "secret_key"
        self._keys: tuple[str, ...] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[str, ...]:
        with self._lock:
            if self._keys is None:
                self._keys = (self._read_or_create(),)
            return self._keys

    def _read_or_create(self) -> str:
        try:
            return self.path.read_text().strip()
        except FileNotFoundError:
            pass
        make_private_folder(self.path.parent)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return self.path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        setup_log.info(
            "created a new secret key at %s (keep it: it signs every token and link)", self.path
        )
        return key

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"GeneratedSecretKey({str(self.path)!r})"


def _secret_keys(home: Path, raw: str | None) -> Sequence[str]:
    if raw:
        keys = tuple(k.strip() for k in raw.split(",") if k.strip())
        if not keys:
            raise ConfigError("BUYBUTTON_SECRET_KEYS is set but names no key.")
        return keys
    return GeneratedSecretKey(home)


def default_home() -> Path:
    """The home folder when ``BUYBUTTON_HOME`` is unset: the user's data folder for buybutton
    (``$XDG_DATA_HOME/buybutton``, ``~/.local/share/buybutton`` on Linux), whatever the current
    folder."""
    return platformdirs.user_data_path("buybutton", appauthor=False)


def _host_name(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOST_NAME.fullmatch(host)) and len(host) <= 253


def _public_url(raw: str | None) -> str | None:
    """``BUYBUTTON_PUBLIC_URL`` as ``scheme://host[:port]``: links are this plus a path."""
    if not raw:
        return None
    problem = (
        f"BUYBUTTON_PUBLIC_URL must be the server's http(s) origin, like "
        f"https://buy.example.com or http://127.0.0.1:8000 (no path, query or user), not {raw!r}."
    )
    try:
        # urlsplit raises ValueError for a broken bracketed (IPv6) host, .port for a port out
        # of range or not a number.
        parts = urlsplit(raw)
        parts.port  # noqa: B018
    except ValueError:
        raise ConfigError(problem) from None
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.netloc.endswith(":")
        or raw.rstrip("/").lower() != origin
        or not _host_name(parts.hostname)
    ):
        raise ConfigError(problem)
    return origin


def _allowed_hosts(raw: str | None) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in (raw or "").split(",") if h.strip())
    for host in hosts:
        if not _HOST_NAME.fullmatch(host.removeprefix(".")):
            raise ConfigError(
                f"BUYBUTTON_ALLOWED_HOSTS is a comma-separated list of host names "
                f"without port (buy.example.com, or .example.com for every "
                f"subdomain), not {host!r}."
            )
    return hosts


_RATE = re.compile(r"\d+ */ *(\d+ *)?(second|minute|hour|day)s?")


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    """The rate limit ``env[name]`` (``default`` when unset or empty): one or more ``N/unit``
    (``120/minute``, ``10/second;500/hour``, units second to day), else a :class:`ConfigError`."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not all(_RATE.fullmatch(part.strip()) for part in raw.split(";")):
        raise ConfigError(
            f"{name} must be rates such as 120/minute or 10/second;500/hour, not {raw!r}."
        )
    return raw


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    """``env[name]`` as on/off (``on``, ``true``, ``1``, ``yes`` or ``off``, ``false``, ``0``,
    ``no``; ``default`` when unset or empty); else a :class:`ConfigError` naming it."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "1", "yes"):
        return True
    if raw in ("off", "false", "0", "no"):
        return False
    raise ConfigError(f"{name} must be on or off, not {env[name]!r}.")


@overload
def _number(
    env: Mapping[str, str],
    name: str,
    default: int,
    low: float,
    high: float,
    *,
    kind: type[int] = int,
    unit: str = ...,
    labels: Mapping[float, str] | None = ...,
) -> int: ...


@overload
def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    low: float,
    high: float,
    *,
    kind: type[float],
    unit: str = ...,
    labels: Mapping[float, str] | None = ...,
) -> float: ...


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    low: float,
    high: float,
    *,
    kind: type[float] = int,
    unit: str = "a number of seconds",
    labels: Mapping[float, str] | None = None,
) -> float:
    """The number ``env[name]`` (``default`` when unset or empty) if it is a ``kind`` from ``low``
    to ``high``; else a :class:`ConfigError` naming the variable, the range and the bad value.
    Whole numbers are digits only (no sign, no spaces); ``labels`` explain a bound in the
    message (``{0: "no cap"}`` gives "from 0 (no cap)")."""
    raw = env.get(name) or ""
    if not raw:
        return default
    value: float | None = None
    if kind is int:
        value = int(raw) if raw.isdecimal() else None
    else:
        try:
            value = kind(raw)
        except ValueError:
            pass
    if value is None or not low <= value <= high:  # NaN is never in range

        def bound(limit: float) -> str:
            text = str(int(limit)) if limit == int(limit) else str(limit)
            label = (labels or {}).get(limit)
            return f"{text} ({label})" if label else text

        raise ConfigError(f"{name} must be {unit} from {bound(low)} to {bound(high)}, not {raw!r}.")
    return value


MAX_RETRY_WAIT = 7 * 86400


def _retry_schedule(
    raw: str | None, name: str = "BUYBUTTON_WEBHOOK_RETRY_SCHEDULE"
) -> tuple[int, ...]:
    if not raw:
        return ()
    parts = [part.strip() for part in raw.split(",")]
    if (
        not all(part.isdecimal() and 1 <= int(part) <= MAX_RETRY_WAIT for part in parts)
        or len(parts) > 100
    ):
        raise ConfigError(
            f"{name} must be up to 100 comma-separated "
            f"waits in whole seconds from 1 to {MAX_RETRY_WAIT} (e.g. "
            f"30,300,3600), not {raw!r}."
        )
    return tuple(int(part) for part in parts)


_SMTP_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
_SMTP_MAX_TIMEOUT = 300.0


def parse_smtp_url(raw: str) -> SmtpSettings:
    """Parse ``smtp://user:pass@host:587`` or ``smtps://user:pass@host:465`` (``?timeout=10``).

    The port defaults to 587 (smtp, submission) or 465 (smtps); credentials are percent-decoded
    (``p%40ss`` is ``p@ss``). Raises :class:`ConfigError` naming ``BUYBUTTON_SMTP_URL`` (and never
    echoing the URL, which holds the password) when the URL is unusable.
    """
    name = "BUYBUTTON_SMTP_URL"
    parts = urlsplit(raw.strip())
    if parts.scheme.lower() not in _SMTP_DEFAULT_PORTS:
        raise ConfigError(
            f"{name} must start with smtp:// (STARTTLS) or smtps:// (implicit TLS), "
            f"not {parts.scheme + '://' if parts.scheme else 'no scheme'}."
        )
    if not parts.hostname:
        raise ConfigError(f"{name} names no host (smtp://user:pass@host:587).")
    try:
        port = parts.port or _SMTP_DEFAULT_PORTS[parts.scheme.lower()]
    except ValueError:
        raise ConfigError(f"{name} has a port that is not a number from 1 to 65535.") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name} has a port that is not a number from 1 to 65535.")
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigError(f"{name} takes no path or fragment (smtp://user:pass@host:587).")
    timeout = 10.0
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key != "timeout":
            raise ConfigError(f"{name} takes only the query parameter timeout, not {key!r}.")
        try:
            timeout = float(value)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= _SMTP_MAX_TIMEOUT:  # also refuses nan
            raise ConfigError(
                f"{name}'s timeout must be a number of seconds above 0 and at most "
                f"{_SMTP_MAX_TIMEOUT:g}, not {value!r}."
            )
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if bool(username) != bool(password):
        raise ConfigError(f"{name} must give both a user name and a password, or neither.")
    return SmtpSettings(
        scheme=parts.scheme.lower(),
        host=parts.hostname,
        port=port,
        username=username or None,
        password=password or None,
        timeout=timeout,
    )


def parse_address(raw: str, *, name: str = "BUYBUTTON_MAIL_FROM") -> Address:
    """Parse ``raw`` (``"Shop <shop@example.com>"`` or ``shop@example.com``) into one Address,
    or raise :class:`ConfigError` naming ``name`` unless it is exactly one address with a domain
    (``localhost`` or a dotted name) on one line."""
    if "\r" in raw or "\n" in raw:
        raise ConfigError(f"{name} must be one line.")
    try:
        header = _email_policy.header_factory("From", raw.strip())
        addresses, defects = header.addresses, header.defects
    except (MessageError, ValueError, IndexError):  # the stdlib parser has several ways to fail
        addresses, defects = (), ("unparseable",)
    if (
        defects
        or len(addresses) != 1
        or not addresses[0].username
        or "." not in addresses[0].domain
        and addresses[0].domain != "localhost"
    ):
        raise ConfigError(
            f'{name} must be one address like "Shop <shop@example.com>", not {raw!r}.'
        )
    address = addresses[0]
    return Address(
        display_name=address.display_name, username=address.username, domain=address.domain
    )


def parse_mail_from(raw: str) -> str:
    """``BUYBUTTON_MAIL_FROM`` in canonical form (see :func:`parse_address`)."""
    return str(parse_address(raw, name="BUYBUTTON_MAIL_FROM"))


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: the process environment).

    ``BUYBUTTON_HOME`` (default :func:`default_home`) holds local state; ``DATABASE_URL`` defaults
    to a SQLite file there; ``BUYBUTTON_SECRET_KEYS`` is a comma-separated list, newest last.
    Reading the settings creates nothing.
    """
    env = os.environ if env is None else env
    home = Path(env.get("BUYBUTTON_HOME") or default_home()).expanduser().absolute()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{home / 'buybutton.sqlite3'}"
    public_url = _public_url(env.get("BUYBUTTON_PUBLIC_URL"))
    # Stripe accepts a Checkout Session expiry from 30 minutes to 24 hours.
    stripe = bool(env.get("STRIPE_SECRET_KEY"))
    checkout_ttl = _number(
        env,
        "BUYBUTTON_CHECKOUT_TTL_SECONDS",
        Settings.checkout_ttl_seconds,
        1800 if stripe else 1,
        86400,
        unit="a number of seconds (with Stripe)" if stripe else "a number of seconds",
    )
    proxies = env.get("BUYBUTTON_TRUSTED_PROXIES") or "0"
    if not proxies.isdecimal():
        raise ConfigError(
            f"BUYBUTTON_TRUSTED_PROXIES must be a number of proxies, not {proxies!r}."
        )
    link_ttl_labels: dict[float, str] = {86400: "1 day", 90 * 86400: "90 days"}
    max_upload = _number(
        env,
        "BUYBUTTON_MAX_UPLOAD_BYTES",
        Settings.max_upload_bytes,
        1024,
        64 * 1024**3,
        unit="a whole number of bytes",
    )
    max_image = _number(
        env,
        "BUYBUTTON_MAX_IMAGE_BYTES",
        Settings.max_image_bytes,
        1024,
        1024**3,
        unit="a whole number of bytes",
    )
    # Past 89 478 485 pixels Pillow's own decompression-bomb guard warns (and refuses twice
    # that): a higher setting would not be honoured, so it is refused here.
    max_pixels = _number(
        env,
        "BUYBUTTON_MAX_IMAGE_PIXELS",
        Settings.max_image_pixels,
        1_000_000,
        89_000_000,
        unit="a number of pixels",
    )
    return Settings(
        request_read_timeout=_number(
            env,
            "BUYBUTTON_REQUEST_READ_TIMEOUT",
            Settings.request_read_timeout,
            1,
            3600,
            kind=float,
        ),
        home=home,
        database_url=database_url,
        secret_keys=_secret_keys(home, env.get("BUYBUTTON_SECRET_KEYS")),
        public_url=public_url,
        allowed_hosts=_allowed_hosts(env.get("BUYBUTTON_ALLOWED_HOSTS")),
        # At least a day: feeds are fetched daily; at most 90 days: a leaked link must lapse.
        feed_link_ttl_seconds=_number(
            env,
            "BUYBUTTON_FEED_LINK_TTL_SECONDS",
            DEFAULT_LINK_TTL_SECONDS,
            86400,
            90 * 86400,
            labels=link_ttl_labels,
        ),
        share_link_ttl_seconds=_number(
            env,
            "BUYBUTTON_SHARE_LINK_TTL_SECONDS",
            DEFAULT_LINK_TTL_SECONDS,
            86400,
            90 * 86400,
            labels=link_ttl_labels,
        ),
        stripe_secret_key=env.get("STRIPE_SECRET_KEY") or None,
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
        stripe_api_base=env.get("STRIPE_API_BASE") or None,
        redis_url=env.get("REDIS_URL") or None,
        checkout_ttl_seconds=checkout_ttl,
        expiry_interval_seconds=_number(
            env,
            "BUYBUTTON_EXPIRY_INTERVAL_SECONDS",
            Settings.expiry_interval_seconds,
            1,
            3600,
        ),
        compression=_switch(env, "BUYBUTTON_COMPRESSION", Settings.compression),
        cache_ttl_seconds=_number(
            env,
            "BUYBUTTON_CACHE_TTL_SECONDS",
            Settings.cache_ttl_seconds,
            0,
            3600,
            labels={0: "no cache"},
        ),
        cache_stale_seconds=_number(
            env, "BUYBUTTON_CACHE_STALE_SECONDS", Settings.cache_stale_seconds, 0, 86400
        ),
        cache_max_entries=_number(
            env,
            "BUYBUTTON_CACHE_MAX_ENTRIES",
            Settings.cache_max_entries,
            1,
            1_000_000,
            unit="a whole number",
        ),
        checkout_rate_limit=env.get("BUYBUTTON_CHECKOUT_RATE_LIMIT")
        or Settings.checkout_rate_limit,
        checkout_outcome_rate_limit=_rate(
            env, "BUYBUTTON_CHECKOUT_OUTCOME_RATE_LIMIT", Settings.checkout_outcome_rate_limit
        ),
        trusted_proxies=int(proxies),
        max_held_units_per_client=_number(
            env,
            "BUYBUTTON_MAX_HELD_UNITS_PER_CLIENT",
            Settings.max_held_units_per_client,
            0,
            1_000_000,
            unit="a number of units",
            labels={0: "no cap"},
        ),
        webhook_allow_private=(env.get("BUYBUTTON_WEBHOOK_ALLOW_PRIVATE") or "").lower()
        in ("1", "true", "yes"),
        order_sync_interval_seconds=_number(
            env,
            "BUYBUTTON_ORDER_SYNC_INTERVAL_SECONDS",
            Settings.order_sync_interval_seconds,
            1,
            3600,
        ),
        one_click_confirm_seconds=_number(
            env,
            "BUYBUTTON_ONE_CLICK_CONFIRM_SECONDS",
            Settings.one_click_confirm_seconds,
            60,
            86400,
        ),
        webhook_timeout_seconds=_number(
            env,
            "BUYBUTTON_WEBHOOK_TIMEOUT_SECONDS",
            Settings.webhook_timeout_seconds,
            0.1,
            300,
            kind=float,
        ),
        webhook_concurrency=_number(
            env,
            "BUYBUTTON_WEBHOOK_CONCURRENCY",
            Settings.webhook_concurrency,
            1,
            64,
            unit="a whole number",
        ),
        webhook_endpoint_concurrency=_number(
            env,
            "BUYBUTTON_WEBHOOK_ENDPOINT_CONCURRENCY",
            Settings.webhook_endpoint_concurrency,
            1,
            64,
            unit="a whole number",
        ),
        webhook_retry_schedule=_retry_schedule(env.get("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE")),
        **_mail_settings(env),
        max_upload_bytes=max_upload,
        download_ttl_seconds=_number(
            env,
            "BUYBUTTON_DOWNLOAD_TTL_SECONDS",
            Settings.download_ttl_seconds,
            3600,
            366 * 86400,
            labels={3600: "1 hour", 366 * 86400: "366 days"},
        ),
        download_limit=_number(
            env,
            "BUYBUTTON_DOWNLOAD_LIMIT",
            Settings.download_limit,
            1,
            1000,
            unit="a number of downloads",
        ),
        max_image_bytes=max_image,
        max_image_pixels=max_pixels,
        signup_open=_signup(env.get("BUYBUTTON_SIGNUP")),
        dashboard_session_seconds=_number(
            env,
            "BUYBUTTON_DASHBOARD_SESSION_SECONDS",
            Settings.dashboard_session_seconds,
            300,
            30 * 86400,
            labels={300: "5 minutes", 30 * 86400: "30 days"},
        ),
        login_rate_limit=_rate_limit(env, "BUYBUTTON_LOGIN_RATE_LIMIT", Settings.login_rate_limit),
        login_ip_rate_limit=_rate_limit(
            env, "BUYBUTTON_LOGIN_IP_RATE_LIMIT", Settings.login_ip_rate_limit
        ),
    )


def _signup(raw: str | None) -> bool:
    value = (raw or "closed").strip().lower()
    if value not in ("open", "closed"):
        raise ConfigError(f"BUYBUTTON_SIGNUP must be open or closed, not {raw!r}.")
    return value == "open"


_RATE = re.compile(
    r"\d+ *(/|per) *(\d+ *)?(second|minute|hour|day|month|year)s?", re.ASCII | re.IGNORECASE
)


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """A flask-limiter rate (``5/minute;30/hour``) or a :class:`ConfigError` naming ``name``."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not all(_RATE.fullmatch(part.strip()) for part in raw.replace(",", ";").split(";")):
        raise ConfigError(
            f"{name} must be rates like 5/minute;30/hour (per second, minute, hour or day), "
            f"not {raw!r}."
        )
    return raw


class _MailSettings(TypedDict):
    smtp: SmtpSettings | None
    mail_from: str
    mail_retry_schedule: tuple[int, ...]


def _mail_settings(env: Mapping[str, str]) -> _MailSettings:
    smtp = parse_smtp_url(env["BUYBUTTON_SMTP_URL"]) if env.get("BUYBUTTON_SMTP_URL") else None
    raw_from = env.get("BUYBUTTON_MAIL_FROM")
    if smtp and not raw_from:
        # Real servers refuse (or spam-file) mail from @localhost: say so now, not at the first sale.
        raise ConfigError(
            "BUYBUTTON_MAIL_FROM must be set when BUYBUTTON_SMTP_URL is "
            '("Shop <shop@example.com>").'
        )
    return {
        "smtp": smtp,
        "mail_from": parse_mail_from(raw_from) if raw_from else DEFAULT_MAIL_FROM,
        "mail_retry_schedule": _retry_schedule(
            env.get("BUYBUTTON_MAIL_RETRY_SCHEDULE"), "BUYBUTTON_MAIL_RETRY_SCHEDULE"
        ),
    }
