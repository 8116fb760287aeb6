"""Signing in and out, and (with ``BUYBUTTON_SIGNUP=open``) signing up.

A failed sign-in says only "the email or password is not right", whichever it was; attempts are
rate-limited per account and per client address (:mod:`..limits`).
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from buybutton import accounts
from buybutton.errors import AuthenticationFailed, BuyButtonError

from ..runtime import runtime
from .blueprint import bp
from .i18n import gettext as _
from .sessions import end_session, next_url, signed_in, start_session

#: The core's messages, by the field they name, as the form says them (translated).
_FIELD_MESSAGES = {
    "email": lambda: _("Enter an email address such as you@example.com."),
    "name": lambda: _("Enter the shop's name (1 to 200 characters)."),
}


@bp.get("")
@bp.get("/")
def home() -> Response:
    return redirect(url_for("dashboard.products" if signed_in() else "dashboard.login"), 303)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    if request.method == "GET" and signed_in():
        return redirect(next_url(), 303)
    email = request.form.get("email", "")
    if request.method == "POST":
        rt = runtime()
        try:
            with rt.store.transaction() as conn:  # a write: an outdated hash is upgraded
                account = accounts.sign_in(conn, email, request.form.get("password", ""))
        except AuthenticationFailed:
            return _login_page(email, error=_("The email or password is not right.")), 401
        start_session(account)
        return redirect(next_url(), 303)
    notice = None
    if request.args.get("ended"):
        notice = _("Your session has ended; sign in again.")
    elif request.args.get("signed_out"):
        notice = _("You are signed out.")
    return _login_page(email, notice=notice)


def _login_page(email: str, *, error: str | None = None, notice: str | None = None) -> str:
    return render_template(
        "dashboard/login.html",
        email=email,
        error=error,
        notice=notice,
        next=request.values.get("next") or "",
        signup_open=runtime().settings.signup_open,
    )


@bp.post("/logout")
def logout() -> Response:
    end_session()
    return redirect(url_for("dashboard.login", signed_out="1"), 303)


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> Response | tuple[str, int] | str:
    rt = runtime()
    if not rt.settings.signup_open:
        abort(404)
    form = {key: request.form.get(key, "") for key in ("name", "email")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        errors = _signup_errors(form, password)
        if not errors:
            try:
                with rt.store.transaction() as conn:
                    _merchant, _key, account = accounts.create_merchant_with_account(
                        conn, form["name"], form["email"], password
                    )
            except BuyButtonError as exc:
                field = exc.param if exc.param in _FIELD_MESSAGES else "email"
                errors[field] = (
                    _("An account with this email already exists.")
                    if exc.code == "email_taken"
                    else _FIELD_MESSAGES[field]()
                )
            else:
                start_session(account)
                return redirect(url_for("dashboard.products"), 303)
    page = render_template(
        "dashboard/signup.html", form=form, errors=errors, min_length=accounts.MIN_PASSWORD_LENGTH
    )
    return (page, 400) if errors else page


def _signup_errors(form: dict[str, str], password: str) -> dict[str, str]:
    errors = {}
    if not form["name"].strip() or len(form["name"]) > 200:
        errors["name"] = _FIELD_MESSAGES["name"]()
    try:
        accounts.normalize_email(form["email"])
    except BuyButtonError:
        errors["email"] = _FIELD_MESSAGES["email"]()
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        errors["password"] = _(
            "The password must have at least %(n)s characters.", n=accounts.MIN_PASSWORD_LENGTH
        )
    elif len(password) > accounts.MAX_PASSWORD_LENGTH:
        errors["password"] = _(
            "The password must have at most %(n)s characters.", n=accounts.MAX_PASSWORD_LENGTH
        )
    return errors
