"""Configuration, read once from the environment into one typed object.

Nothing else in buybutton reads ``os.environ``. Every default makes the embedded demo work:
SQLite in the instance folder, the offline sandbox payment provider, a generated secret key.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from email.errors import MessageError
from email.headerregistry import Address
from email.policy import default as _email_policy
from pathlib import Path
from typing import Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import BuyButtonError


class ConfigError(BuyButtonError):
    """The configuration is unusable (a bad URL, an unreadable key file, …)."""

    code = "invalid_configuration"


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
    #: Mail goes to this SMTP server; ``None``: written as .eml files under ``home/mail/``.
    smtp: SmtpSettings | None = None
    #: The From of every message buybutton sends (``"Shop <shop@example.com>"``).
    mail_from: str = DEFAULT_MAIL_FROM

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
        raise ConfigError(f"{name} must start with smtp:// (STARTTLS) or smtps:// (implicit TLS), "
                          f"not {parts.scheme + '://' if parts.scheme else 'no scheme'}.")
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
            raise ConfigError(f"{name}'s timeout must be a number of seconds above 0 and at most "
                              f"{_SMTP_MAX_TIMEOUT:g}, not {value!r}.")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if bool(username) != bool(password):
        raise ConfigError(f"{name} must give both a user name and a password, or neither.")
    return SmtpSettings(scheme=parts.scheme.lower(), host=parts.hostname, port=port,
                        username=username or None, password=password or None, timeout=timeout)


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
    if defects or len(addresses) != 1 or not addresses[0].username \
            or "." not in addresses[0].domain and addresses[0].domain != "localhost":
        raise ConfigError(f"{name} must be one address like \"Shop <shop@example.com>\", "
                          f"not {raw!r}.")
    address = addresses[0]
    return Address(display_name=address.display_name, username=address.username,
                   domain=address.domain)


def parse_mail_from(raw: str) -> str:
    """``BUYBUTTON_MAIL_FROM`` in canonical form (see :func:`parse_address`)."""
    return str(parse_address(raw, name="BUYBUTTON_MAIL_FROM"))


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
        **_mail_settings(env),
    )


def _mail_settings(env: Mapping[str, str]) -> dict:
    smtp = parse_smtp_url(env["BUYBUTTON_SMTP_URL"]) if env.get("BUYBUTTON_SMTP_URL") else None
    raw_from = env.get("BUYBUTTON_MAIL_FROM")
    if smtp and not raw_from:
        # Real servers refuse (or spam-file) mail from @localhost: say so now, not at the first sale.
        raise ConfigError("BUYBUTTON_MAIL_FROM must be set when BUYBUTTON_SMTP_URL is "
                          "(\"Shop <shop@example.com>\").")
    return {"smtp": smtp, "mail_from": parse_mail_from(raw_from) if raw_from else DEFAULT_MAIL_FROM}
