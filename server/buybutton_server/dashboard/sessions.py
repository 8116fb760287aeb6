"""Who is signed in: the dashboard's session cookie and :func:`login_required`.

The session is Flask's signed cookie (itsdangerous, our secret keys, its own salt), renamed
``bb_session``, HttpOnly, SameSite=Lax, Secure whenever the shop is served over https (the
shopper cookies' rule, :func:`..shopper.csrf.cookies_secure`), limited to ``/dashboard`` and
expiring after ``BUYBUTTON_DASHBOARD_SESSION_SECONDS``: the cookie's own lifetime, and the signed
time of sign-in checked on every request (so a kept cookie is refused too). It holds the account
id and the time its password last changed, so a new password ends every older session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TypeVar, cast

from flask import Flask, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from buybutton.accounts import Account, session_account
from buybutton.merchants import Merchant, get_merchant

from ..runtime import runtime
from ..shopper import csrf

SESSION_COOKIE = "bb_session"
SESSION_SALT = "buybutton.dashboard-session"
View = TypeVar("View", bound=Callable[..., object])


class DashboardSessionInterface(SecureCookieSessionInterface):
    salt = SESSION_SALT

    def get_cookie_secure(self, app: Flask) -> bool:
        return csrf.cookies_secure()

    def should_set_cookie(self, app: Flask, session_: object) -> bool:
        # Only when the dashboard changed it: other pages never send or refresh the cookie.
        return bool(getattr(session_, "modified", False))


def configure(app: Flask) -> None:
    """Make Flask's session the dashboard's (called once when the blueprint is registered)."""
    settings = app.extensions["buybutton"].settings
    app.session_interface = DashboardSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/dashboard",
        SESSION_REFRESH_EACH_REQUEST=False,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.dashboard_session_seconds),
    )


def start_session(account: Account) -> None:
    """Sign ``account`` in: a fresh session (nothing of an earlier one survives)."""
    session.clear()
    session.permanent = True
    session["a"] = account.id
    session["p"] = account.password_changed_at
    session["t"] = int(runtime().clock())


def end_session() -> None:
    session.clear()


def signed_in() -> tuple[Account, Merchant] | None:
    """The signed-in account and its merchant, or ``None`` (no session, expired, or its
    password changed since)."""
    if "a" not in session:
        return None
    rt = runtime()
    started = session.get("t")
    if (
        not isinstance(started, int)
        or rt.clock() - started >= rt.settings.dashboard_session_seconds
    ):
        return None
    with rt.store.read() as conn:
        account = session_account(conn, session.get("a"), session.get("p"))
        merchant = get_merchant(conn, account.merchant_id) if account else None
    if account is None or merchant is None:
        return None
    return account, merchant


def _safe_next(target: str | None) -> str | None:
    """``target`` if it is a path of the dashboard (never another site: no open redirect)."""
    if (
        target
        and target.startswith("/dashboard")
        and not target.startswith("//")
        and "\\" not in target
        and target.isascii()
        and target.isprintable()
    ):
        return target
    return None


def next_url(default_endpoint: str = "dashboard.products") -> str:
    return _safe_next(request.values.get("next")) or url_for(default_endpoint)


def login_required(view: View) -> View:
    """Run ``view`` for a signed-in merchant (``g.merchant``, ``g.account``); redirect anyone
    else to the sign-in page, which brings them back here afterwards."""

    @wraps(view)
    def wrapper(*args: object, **kwargs: object) -> object:
        found = signed_in()
        if found is None:
            had_session = "a" in session
            end_session()
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(
                url_for(
                    "dashboard.login",
                    next=_safe_next(target),
                    ended="1" if had_session else None,
                ),
                303,
            )
        g.account, g.merchant = found
        return view(*args, **kwargs)

    return cast(View, wrapper)


def current_merchant() -> Merchant:
    """The signed-in merchant of this request (inside a :func:`login_required` view)."""
    return cast(Merchant, g.merchant)
