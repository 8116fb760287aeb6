"""Dashboard sign-in, sign-out, sessions, sign-up, CSRF and the layout every page shares."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from buybutton import accounts
from buybutton_server import create_app
from tests.support.dashboard import PASSWORD, csrf_of, post_form, sign_in


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


@pytest.mark.parametrize("path", ["/", "/login", "/dashboard", "/dashboard/"])
def test_entry_points_lead_a_signed_out_visitor_to_the_sign_in_page(client, path):
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200 and response.request.path == "/dashboard/login"


def test_a_dashboard_page_sends_a_signed_out_visitor_to_sign_in_and_back(client, login):
    response = client.get("/dashboard/products")
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/login?next=/dashboard/products"
    response = client.post(
        "/dashboard/login?next=/dashboard/products",
        data={"email": login.email, "password": PASSWORD, "csrf_token": csrf_of(client)},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard/products"


def test_the_sign_in_form_has_labelled_fields_and_a_sign_in_button(client):
    page = soup(client.get("/dashboard/login"))
    labels = {label.get_text(strip=True): label["for"] for label in page.find_all("label")}
    assert page.find(id=labels["Email"])["type"] == "email"
    assert page.find(id=labels["Password"])["type"] == "password"
    assert page.find("button", string="Sign in")["type"] == "submit"
    assert page.find("input", {"name": "csrf_token"})["value"]


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client, login):
    token = csrf_of(client)
    wrong = client.post(
        "/dashboard/login", data={"email": login.email, "password": "x" * 12, "csrf_token": token}
    )
    unknown = client.post(
        "/dashboard/login",
        data={"email": "nobody@shop.test", "password": "x" * 12, "csrf_token": token},
    )
    assert wrong.status_code == unknown.status_code == 401
    message = lambda r: soup(r).find(role="alert").get_text(strip=True)  # noqa: E731
    assert message(wrong) == message(unknown) == "The email or password is not right."
    assert soup(wrong).find("input", {"name": "email"})["value"] == login.email  # kept
    assert "bb_session" not in (wrong.headers.get("Set-Cookie") or "")


def test_the_session_cookie_is_signed_httponly_lax_and_expires(client, login):
    response = client.post(
        "/dashboard/login",
        data={"email": login.email, "password": PASSWORD, "csrf_token": csrf_of(client)},
    )
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("bb_session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "expires", "path"} <= attributes
    assert "SameSite=Lax" in cookie and "Path=/dashboard" in cookie
    assert "secure" not in attributes  # the test shop is http://shop.test
    value = cookie.split(";")[0].split("=", 1)[1]
    assert login.email not in value and PASSWORD not in value


def test_the_session_cookie_is_secure_behind_an_https_public_url(settings, store, login):
    app = create_app(settings.with_overrides(public_url="https://shop.test"))
    client = app.test_client()
    response = client.post(
        "/dashboard/login",
        data={
            "email": login.email,
            "password": PASSWORD,
            "csrf_token": csrf_of(client, base_url="https://shop.test"),
        },
        base_url="https://shop.test",
    )
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("bb_session="))
    assert "Secure" in cookie
    app.extensions["buybutton"].store.dispose()


def test_a_forged_session_cookie_is_not_a_sign_in(client, login):
    client.set_cookie("bb_session", "eyJhIjoiYWNjdF94In0.forged.sig", path="/dashboard")
    assert client.get("/dashboard/products").status_code == 303


def test_a_session_ends_after_its_lifetime(client, login, set_clock, app):
    runtime = app.extensions["buybutton"]
    set_clock(1_000_000)
    sign_in(client, login)
    assert client.get("/dashboard/products").status_code == 200
    set_clock(1_000_000 + runtime.settings.dashboard_session_seconds)
    response = client.get("/dashboard/products")
    assert response.status_code == 303 and "ended=1" in response.headers["Location"]
    assert "Your session has ended" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_new_password_signs_out_older_sessions(client, login, store):
    sign_in(client, login)
    with store.transaction() as conn:
        accounts.set_password(conn, login.email, "a brand new password")
    assert client.get("/dashboard/products").status_code == 303


def test_sign_out_ends_the_session(client, login):
    sign_in(client, login)
    response = post_form(client, "/dashboard/logout")
    assert response.status_code == 303 and "signed_out=1" in response.headers["Location"]
    assert client.get("/dashboard/products").status_code == 303


def test_sign_out_without_the_form_token_is_refused(client, login):
    sign_in(client, login)
    response = client.post("/dashboard/logout")
    assert response.status_code == 403 and "security token" in response.get_data(as_text=True)
    assert client.get("/dashboard/products").status_code == 200  # still signed in


def test_sign_in_without_the_form_token_is_refused(client, login):
    client.get("/dashboard/login")
    response = client.post("/dashboard/login", data={"email": login.email, "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/dashboard/products").status_code == 303


def test_a_post_from_another_origin_is_refused(client, login):
    sign_in(client, login)
    response = post_form(client, "/dashboard/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_next_never_leads_off_the_dashboard(client, login):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "/demo"):
        response = client.post(
            "/dashboard/login",
            data={
                "email": login.email,
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf_of(client),
            },
        )
        assert response.headers["Location"] == "/dashboard/products", target
        post_form(client, "/dashboard/logout")


def test_failed_sign_ins_are_limited_per_account(settings, store, login):
    app = create_app(
        settings.with_overrides(login_rate_limit="3/minute", login_ip_rate_limit="100/minute")
    )
    client = app.test_client()
    token = csrf_of(client)
    wrong = {"email": login.email, "password": "not the password", "csrf_token": token}
    statuses = [client.post("/dashboard/login", data=wrong).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Another account from the same address is not locked.
    other = {**wrong, "email": "someone@shop.test"}
    assert client.post("/dashboard/login", data=other).status_code == 401
    app.extensions["buybutton"].store.dispose()


def test_failed_sign_ins_are_limited_per_address(settings, store, login):
    app = create_app(
        settings.with_overrides(login_rate_limit="100/minute", login_ip_rate_limit="3/minute")
    )
    client = app.test_client()
    token = csrf_of(client)
    statuses = [
        client.post(
            "/dashboard/login",
            data={"email": f"user{i}@shop.test", "password": "x" * 12, "csrf_token": token},
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    app.extensions["buybutton"].store.dispose()


def test_successful_sign_ins_do_not_count_against_the_limit(settings, store, login):
    app = create_app(
        settings.with_overrides(login_rate_limit="2/minute", login_ip_rate_limit="2/minute")
    )
    client = app.test_client()
    for _ in range(4):
        sign_in(client, login)
        post_form(client, "/dashboard/logout")
    app.extensions["buybutton"].store.dispose()


def test_pages_are_private_and_never_framed(client, login):
    sign_in(client, login)
    response = client.get("/dashboard/products")
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_the_layout_has_the_navigation_and_only_first_party_scripts(client, login):
    sign_in(client, login)
    page = soup(client.get("/dashboard/products"))
    nav = page.find("nav")
    assert [a.get_text(strip=True) for a in nav.find_all("a")][:1] == ["Products"]
    assert nav.find("button", string="Sign out")
    for script in page.find_all("script"):
        assert script.get("src", "").startswith("/static/") and not script.string
    for link in page.find_all("link"):
        assert link["href"].startswith("/static/")
    assert not page.find(style=True) and not page.find("style")
    assert page.find("meta", {"name": "viewport"})


def test_the_dashboard_speaks_french(client, login):
    page = soup(client.get("/dashboard/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))
    assert page.html["lang"] == "fr"
    assert page.find("button", string="Se connecter")
    assert page.find("label", string="Mot de passe")
    # ?lang= overrides the browser and is remembered.
    response = client.get("/dashboard/login?lang=en", headers={"Accept-Language": "fr"})
    assert soup(response).find("button", string="Sign in")
    assert soup(client.get("/dashboard/login", headers={"Accept-Language": "fr"})).find(
        "button", string="Sign in"
    )


def test_every_template_string_has_a_french_translation():
    from pathlib import Path

    from buybutton_server.dashboard.i18n import CATALOGUES

    root = Path(__file__).parents[2] / "server" / "buybutton_server"
    messages = set()
    for path in [*root.glob("templates/dashboard/*.html"), *root.glob("dashboard/*.py")]:
        if path.name == "i18n.py":
            continue
        messages |= set(re.findall(r'\b_\(\s*"((?:[^"\\]|\\.)*)"', path.read_text()))
        messages |= set(re.findall(r"\b_\(\s*'((?:[^'\\]|\\.)*)'", path.read_text()))
    missing = sorted(m for m in messages if m not in CATALOGUES["fr"])
    assert not missing


def test_signup_is_off_by_default(client):
    assert client.get("/dashboard/signup").status_code == 404
    assert "Create one" not in client.get("/dashboard/login").get_data(as_text=True)


@pytest.fixture
def open_client(settings):
    app = create_app(settings.with_overrides(signup_open=True))
    yield app.test_client()
    app.extensions["buybutton"].store.dispose()


def test_open_signup_creates_a_merchant_and_signs_in(open_client):
    assert "Create one" in open_client.get("/dashboard/login").get_data(as_text=True)
    response = post_form(
        open_client,
        "/dashboard/signup",
        {"name": "New shop", "email": "new@shop.test", "password": "long enough pw"},
    )
    assert response.status_code == 303
    assert open_client.get("/dashboard/products").status_code == 200


def test_signup_errors_show_next_to_their_fields_and_keep_the_input(open_client, login):
    response = post_form(
        open_client,
        "/dashboard/signup",
        {"name": "<script>x</script>", "email": "not-an-email", "password": "short"},
    )
    assert response.status_code == 400
    page = soup(response)
    assert page.find(id="e-email") and page.find(id="e-password")
    assert page.find(id="f-email")["aria-describedby"].startswith("e-email")
    assert page.find(id="f-name")["value"] == "<script>x</script>"
    assert "<script>x</script>" not in response.get_data(as_text=True)  # escaped
    taken = post_form(
        open_client,
        "/dashboard/signup",
        {"name": "Again", "email": login.email, "password": "long enough pw"},
    )
    assert taken.status_code == 400 and "already exists" in taken.get_data(as_text=True)
