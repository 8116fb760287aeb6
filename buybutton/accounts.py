"""Dashboard accounts: who may sign in to the merchant dashboard, with an email and a password.

Passwords are hashed with argon2id (argon2-cffi's defaults: a memory-hard KDF, salted); a hash
made with weaker parameters than today's is upgraded at the next successful sign-in. An unknown
email costs the same work as a wrong password (a hash is verified either way), so neither the
answer nor its timing says which emails have accounts.

``password_changed_at`` goes into the session: setting a new password ends every session made
with the old one (:func:`session_account`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from .errors import AuthenticationFailed, Conflict, ErrorCode, InvalidRequest, NotFound
from .ids import new_id
from .merchants import Merchant, create_merchant, get_merchant
from .store.schema import dashboard_accounts

MIN_PASSWORD_LENGTH = 10
#: Past this a password is surely a paste error, and hashing megabytes is a denial of service.
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254

_hasher = PasswordHasher()
# Verified when the email is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    merchant_id: str
    email: str
    created_at: int
    password_changed_at: int


def _account(row) -> Account:
    return Account(
        id=row.id,
        merchant_id=row.merchant_id,
        email=row.email,
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
    )


def normalize_email(value: object) -> str:
    """``value`` stripped and lowercased if it looks like an email address (one ``@``, a dot
    in the domain or ``localhost``); :class:`InvalidRequest` (``param="email"``) otherwise."""
    email = value.strip().lower() if isinstance(value, str) else ""
    local, _, domain = email.partition("@")
    if (
        not local
        or not domain
        or "@" in domain
        or len(email) > MAX_EMAIL_LENGTH
        or any(c.isspace() or ord(c) < 32 for c in email)
        or ("." not in domain.strip(".") and domain != "localhost")
    ):
        raise InvalidRequest("Enter an email address such as you@example.com.", param="email")
    return email


def validate_password(value: object) -> str:
    """``value`` if it is an acceptable new password; :class:`InvalidRequest` otherwise."""
    if not isinstance(value, str) or len(value) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            param="password",
        )
    if len(value) > MAX_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"The password must have at most {MAX_PASSWORD_LENGTH} characters.", param="password"
        )
    return value


def email_taken(email: str) -> Conflict:
    return Conflict(
        f"An account with the email {email} already exists.",
        code=ErrorCode.EMAIL_TAKEN,
        param="email",
    )


def create_account(
    conn: Connection, merchant_id: str, email: object, password: object, *, now: float | None = None
) -> Account:
    """A dashboard login for ``merchant_id``. :class:`Conflict` (``email_taken``) when the email
    already has an account."""
    address = normalize_email(email)
    secret = validate_password(password)
    if get_merchant(conn, merchant_id) is None:
        raise NotFound(f"No such merchant: {merchant_id!r}.", code=ErrorCode.MERCHANT_NOT_FOUND)
    if find_account(conn, address) is not None:
        raise email_taken(address)
    stamp = int(now if now is not None else time.time())
    row = {
        "id": new_id("acct"),
        "merchant_id": merchant_id,
        "email": address,
        "password_hash": _hasher.hash(secret),
        "created_at": stamp,
        "password_changed_at": stamp,
    }
    conn.execute(insert(dashboard_accounts).values(**row))
    return _account(
        conn.execute(select(dashboard_accounts).where(dashboard_accounts.c.id == row["id"])).one()
    )


def create_merchant_with_account(
    conn: Connection, name: str, email: object, password: object, *, now: float | None = None
) -> tuple[Merchant, str, Account]:
    """A new merchant (with its first API key, returned once) and its dashboard login."""
    address = normalize_email(email)
    validate_password(password)
    if find_account(conn, address) is not None:  # before anything is written
        raise email_taken(address)
    merchant, api_key = create_merchant(conn, name, now=now)
    return merchant, api_key, create_account(conn, merchant.id, address, password, now=now)


def find_account(conn: Connection, email: str) -> Account | None:
    row = conn.execute(
        select(dashboard_accounts).where(dashboard_accounts.c.email == email.strip().lower())
    ).first()
    return _account(row) if row else None


def get_account(conn: Connection, account_id: str) -> Account | None:
    row = conn.execute(
        select(dashboard_accounts).where(dashboard_accounts.c.id == account_id)
    ).first()
    return _account(row) if row else None


def set_password(
    conn: Connection, email: object, password: object, *, now: float | None = None
) -> Account:
    """Give the account of ``email`` a new password (ending its sessions); :class:`NotFound`
    when no account has that email."""
    address = normalize_email(email)
    secret = validate_password(password)
    account = find_account(conn, address)
    if account is None:
        raise NotFound(f"No dashboard account has the email {address}.", param="email")
    stamp = max(int(now if now is not None else time.time()), account.password_changed_at + 1)
    conn.execute(
        update(dashboard_accounts)
        .where(dashboard_accounts.c.id == account.id)
        .values(password_hash=_hasher.hash(secret), password_changed_at=stamp)
    )
    return get_account(conn, account.id)  # type: ignore[return-value]


def sign_in(conn: Connection, email: object, password: object) -> Account:
    """The account whose email and password these are; :class:`AuthenticationFailed`
    (``sign_in_failed``) otherwise, the same for an unknown email and a wrong password."""
    failed = AuthenticationFailed(
        "The email or password is not right.", code=ErrorCode.SIGN_IN_FAILED
    )
    if not isinstance(password, str) or not password or len(password) > MAX_PASSWORD_LENGTH:
        raise failed
    address = email.strip().lower() if isinstance(email, str) else ""
    row = conn.execute(
        select(dashboard_accounts).where(dashboard_accounts.c.email == address[:MAX_EMAIL_LENGTH])
    ).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise failed from None
    if row is None:
        raise failed
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(
            update(dashboard_accounts)
            .where(dashboard_accounts.c.id == row.id)
            .values(password_hash=_hasher.hash(password))
        )
    return _account(row)


def session_account(
    conn: Connection, account_id: object, password_changed_at: object
) -> Account | None:
    """The account a session names, if the session is still good: the account exists and its
    password has not changed since the session began."""
    if not isinstance(account_id, str):
        return None
    account = get_account(conn, account_id)
    if account is None or account.password_changed_at != password_changed_at:
        return None
    return account
