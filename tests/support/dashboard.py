"""Shared by the dashboard tests: a merchant with a dashboard sign-in, and a browser-like client
that signs in and posts forms with their CSRF token."""

from __future__ import annotations

from dataclasses import dataclass

from flask.testing import FlaskClient

from buybutton import accounts
from buybutton.store import Store

from .forms import form_fields

PASSWORD = "correct horse battery"


@dataclass
class Login:
    merchant_id: str
    email: str
    password: str = PASSWORD


def make_login(store: Store, name: str = "Test Shop", email: str = "owner@shop.test") -> Login:
    with store.transaction() as conn:
        merchant, _key, account = accounts.create_merchant_with_account(conn, name, email, PASSWORD)
    return Login(merchant.id, account.email)


def csrf_of(client: FlaskClient, path: str = "/dashboard/login", **kwargs) -> str:
    """The form token of ``client``'s browser, read from a page's form as a browser would."""
    page = client.get(path, follow_redirects=True, **kwargs)
    return form_fields(page.get_data(as_text=True))["csrf_token"]


def sign_in(client: FlaskClient, login: Login) -> None:
    response = client.post(
        "/dashboard/login",
        data={"email": login.email, "password": login.password, "csrf_token": csrf_of(client)},
    )
    assert response.status_code == 303, response.get_data(as_text=True)


def post_form(client: FlaskClient, path: str, data: dict | None = None, **kwargs):
    """POST ``data`` to ``path`` with the browser's form token, as the page's form would."""
    return client.post(
        path, data={"csrf_token": csrf_of(client, "/dashboard/login"), **(data or {})}, **kwargs
    )
