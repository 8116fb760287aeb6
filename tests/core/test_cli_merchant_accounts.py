"""``buybutton merchants create … --email --password-stdin``, ``merchants set-password`` and the
demo's dashboard sign-in, run in-process against a temporary BUYBUTTON_HOME."""

import io
import json

import pytest

from buybutton import accounts
from buybutton.cli import main
from buybutton.errors import AuthenticationFailed
from buybutton.store import Store


@pytest.fixture
def home(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BUYBUTTON_SECRET_KEYS", "cli-test-key")
    monkeypatch.delenv("BUYBUTTON_PUBLIC_URL", raising=False)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


def stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def sign_in(database_url, email, password):
    store = Store(database_url)
    try:
        with store.transaction() as conn:
            return accounts.sign_in(conn, email, password)
    finally:
        store.dispose()


def test_merchants_create_with_an_email_makes_a_dashboard_sign_in(
    home, capsys, monkeypatch, database_url
):
    stdin(monkeypatch, "a long enough password\n")
    made = run_json(
        capsys,
        "merchants",
        "create",
        "Ana's shop",
        "--email",
        "Ana@Shop.example",
        "--password-stdin",
        "--json",
    )
    assert made["dashboard_email"] == "ana@shop.example" and made["api_key"].startswith("bb_sk_")
    account = sign_in(database_url, "ana@shop.example", "a long enough password")
    assert account.merchant_id == made["id"]


def test_the_password_never_appears_in_the_output(home, capsys, monkeypatch):
    stdin(monkeypatch, "a long enough password\n")
    code, out, err = run(
        capsys, "merchants", "create", "Ana", "--email", "ana@shop.example", "--password-stdin"
    )
    assert code == 0 and "ana@shop.example" in out
    assert "a long enough password" not in out + err


def test_a_short_password_is_one_line_and_creates_nothing(home, capsys, monkeypatch, database_url):
    stdin(monkeypatch, "short\n")
    code, out, err = run(
        capsys, "merchants", "create", "Ana", "--email", "ana@shop.example", "--password-stdin"
    )
    assert (code, out) == (1, "") and len(err.splitlines()) == 1
    assert "at least 10 characters" in err and "(password)" in err
    store = Store(database_url)
    with store.read() as conn:
        assert accounts.find_account(conn, "ana@shop.example") is None
    store.dispose()


def test_a_taken_email_is_refused_without_a_second_merchant(home, capsys, monkeypatch):
    stdin(monkeypatch, "a long enough password\n")
    run_json(
        capsys,
        "merchants",
        "create",
        "A",
        "--email",
        "x@shop.example",
        "--password-stdin",
        "--json",
    )
    stdin(monkeypatch, "another long password\n")
    code, _, err = run(
        capsys, "merchants", "create", "B", "--email", "X@shop.example", "--password-stdin"
    )
    assert code == 1 and "already exists" in err and len(err.splitlines()) == 1


def test_an_email_without_password_stdin_makes_no_sign_in(home, capsys, database_url):
    made = run_json(capsys, "merchants", "create", "A", "--email", "x@shop.example", "--json")
    assert made["email"] == "x@shop.example" and "dashboard_email" not in made
    store = Store(database_url)
    with store.read() as conn:
        assert accounts.find_account(conn, "x@shop.example") is None
    store.dispose()


def test_password_stdin_without_an_email_is_refused(home, capsys, monkeypatch):
    stdin(monkeypatch, "a long enough password\n")
    code, _, err = run(capsys, "merchants", "create", "A", "--password-stdin")
    assert code == 1 and "--email" in err and len(err.splitlines()) == 1


def test_an_email_without_password_stdin_makes_no_sign_in_and_says_so(home, capsys):
    code, out, _ = run(capsys, "merchants", "create", "A", "--email", "x@shop.example")
    assert code == 0 and "No dashboard sign-in" in out and "--password-stdin" in out


def test_set_password_replaces_the_old_one(home, capsys, monkeypatch, database_url):
    stdin(monkeypatch, "the first password\n")
    run_json(
        capsys,
        "merchants",
        "create",
        "A",
        "--email",
        "x@shop.example",
        "--password-stdin",
        "--json",
    )
    stdin(monkeypatch, "the second password\r\n")
    code, out, _ = run(capsys, "merchants", "set-password", "x@shop.example", "--password-stdin")
    assert code == 0 and "x@shop.example" in out
    assert sign_in(database_url, "x@shop.example", "the second password")
    with pytest.raises(AuthenticationFailed):
        sign_in(database_url, "x@shop.example", "the first password")


def test_set_password_of_an_unknown_email_is_one_line(home, capsys, monkeypatch):
    stdin(monkeypatch, "the second password\n")
    code, _, err = run(capsys, "merchants", "set-password", "no@shop.example", "--password-stdin")
    assert (
        code == 1
        and err.startswith("buybutton: error: No dashboard account")
        and len(err.splitlines()) == 1
    )


def test_demo_prints_a_dashboard_sign_in_that_works_and_stays(home, capsys, database_url):
    code, first, _ = run(capsys, "demo", "--no-serve")
    assert code == 0 and "/dashboard" in first
    state = json.loads((home / "demo.json").read_text())
    assert f"email:          {state['dashboard_email']}" in first
    assert f"password:       {state['dashboard_password']}" in first
    assert sign_in(database_url, state["dashboard_email"], state["dashboard_password"])
    code, second, _ = run(capsys, "demo", "--no-serve")
    assert state["dashboard_password"] in second  # the same sign-in on every run
