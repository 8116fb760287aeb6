"""A newcomer's first commands: the home folder and its files are private and announced, the
embedded SQLite sets itself up, and every mistake (a bad DATABASE_URL, a database that is down or
not migrated, an unknown merchant) is one line on stderr that creates nothing."""

import argparse
import json
import os
import stat
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from buybutton.cli import build_parser, main
from buybutton.store import Store


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    """A BUYBUTTON_HOME that does not exist yet, with every other setting left to its default."""
    home = tmp_path / "home"
    monkeypatch.setenv("BUYBUTTON_HOME", str(home))
    for name in ("DATABASE_URL", "BUYBUTTON_SECRET_KEYS", "BUYBUTTON_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    return home


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str, *fragments: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("buybutton: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_every_file_under_the_home_is_owner_only_after_the_demo_seed(fresh_home, capsys):
    code, _, err = run(capsys, "demo", "--no-serve")
    assert code == 0, err
    store = Store(f"sqlite:///{fresh_home / 'buybutton.sqlite3'}")
    try:
        with store.transaction() as conn:  # an open writer keeps the -wal and -shm files
            conn.execute(text("SELECT 1"))
            names = sorted(os.listdir(fresh_home))
            modes = {
                path: stat.S_IMODE(os.stat(path).st_mode)
                for path in [fresh_home, *(fresh_home / name for name in names)]
            }
    finally:
        store.dispose()
    assert names == [
        "buybutton.sqlite3",
        "buybutton.sqlite3-shm",
        "buybutton.sqlite3-wal",
        "demo.json",
        "secret_key",
    ]
    assert modes == {path: 0o700 if path.is_dir() else 0o600 for path in modes}


def test_the_first_command_sets_up_the_default_sqlite_database_and_says_where(fresh_home, capsys):
    code, out, err = run(capsys, "merchants", "create", "Ana", "--json")
    assert code == 0, err
    assert "bb_sk_" in out
    database = fresh_home / "buybutton.sqlite3"
    assert err.splitlines() == [f"buybutton: created a new SQLite database at {database}"]
    code, _, err = run(capsys, "merchants", "create", "Bea")
    assert code == 0 and err == ""  # said once, when it was created


def test_signing_announces_the_generated_secret_key_once(fresh_home, capsys):
    code, out, _ = run(capsys, "merchants", "create", "Ana", "--json")
    merchant_id = json.loads(out)["id"]
    code, out, _ = run(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant_id,
        "--name",
        "Mug",
        "--amount",
        "1200",
        "--currency",
        "eur",
        "--json",
    )
    assert not (fresh_home / "secret_key").exists()  # nothing signed yet
    product_id = json.loads(out)["id"]
    code, _, err = run(capsys, "tokens", "issue", product_id)
    assert code == 0
    assert f"buybutton: created a new secret key at {fresh_home / 'secret_key'}" in err
    assert run(capsys, "tokens", "issue", product_id)[2] == ""


def test_products_list_of_an_unknown_merchant_is_an_error(fresh_home, capsys):
    code, out, err = run(capsys, "products", "list", "--merchant", "mch_nope")
    assert code == 1 and out == ""
    assert "buybutton: error: No such merchant: 'mch_nope'. (merchant)" in err


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgres://buyer:s3cret-pw@db.example/shop", "write postgresql+psycopg://"),
        ("mysql+nosuchdriver://buyer:s3cret-pw@db.example/shop", "unknown database or driver"),
        ("not a url", "not a database URL"),
        (
            "sqlite:///{tmp}/no/such/folder/shop.sqlite3",
            "folder that does not exist: {tmp}/no/such/folder",
        ),
        (
            "postgresql+psycopg://buyer:s3cret-pw@127.0.0.1:{port}/shop",
            "cannot reach the database at postgresql://127.0.0.1:{port}/shop (connection refused)",
        ),
    ],
)
@pytest.mark.parametrize(
    "argv",
    [
        ("products", "list", "--merchant", "mch_x"),
        ("merchants", "create", "Ana"),
        ("db", "upgrade"),
    ],
)
def test_a_bad_database_url_is_one_line_that_creates_nothing(
    fresh_home, tmp_path, capsys, monkeypatch, refused_port, url, expected, argv
):
    fill = {"tmp": tmp_path, "port": refused_port}
    monkeypatch.setenv("DATABASE_URL", url.format(**fill))
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert_one_error_line(err, expected.format(**fill))
    assert "s3cret-pw" not in err
    assert not fresh_home.exists() and not (tmp_path / "no").exists()


@pytest.fixture
def empty_postgres_schema(postgres_base_url):
    """A PostgreSQL URL whose schema exists but has no tables; dropped afterwards."""
    name = f"bbempty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(postgres_base_url).update_query_dict({"options": f"-csearch_path={name}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_one_line(
    fresh_home, capsys, monkeypatch, postgres_base_url
):
    url = make_url(postgres_base_url).set(database=f"nope_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    code, _, err = run(capsys, "products", "list", "--merchant", "mch_x")
    assert code == 1
    assert_one_error_line(
        err,
        "cannot reach the database at postgresql://",
        f'database "{url.database}" does not exist',
    )
    assert not fresh_home.exists()


@pytest.mark.postgres
def test_an_unmigrated_postgresql_database_names_db_upgrade(
    fresh_home, capsys, monkeypatch, empty_postgres_schema
):
    monkeypatch.setenv("DATABASE_URL", empty_postgres_schema)
    code, _, err = run(capsys, "merchants", "create", "Ana")
    assert code == 1
    assert_one_error_line(err, "has no tables yet", "run `buybutton db upgrade`")
    monkeypatch.setenv("BUYBUTTON_PUBLIC_URL", "http://127.0.0.1:8000")
    code, _, err = run(capsys, "serve", "--no-migrate", "--port", "0")
    assert code == 1
    assert_one_error_line(err, "run `buybutton db upgrade`")

    Store(empty_postgres_schema).upgrade("0005_orders_payment_id_index")
    code, _, err = run(capsys, "merchants", "create", "Ana")
    assert code == 1
    assert_one_error_line(
        err, "is at schema revision 0005_orders_payment_id_index", "run `buybutton db upgrade`"
    )
    assert run(capsys, "db", "upgrade")[0] == 0
    assert run(capsys, "merchants", "create", "Ana")[0] == 0
    assert not fresh_home.exists()  # PostgreSQL, and nothing signed: nothing in the home


def test_an_outdated_sqlite_database_is_migrated_on_first_use(fresh_home, capsys):
    fresh_home.mkdir()
    path = fresh_home / "buybutton.sqlite3"
    store = Store(f"sqlite:///{path}")
    store.upgrade("0005_orders_payment_id_index")
    store.dispose()
    code, _, err = run(capsys, "merchants", "create", "Ana")
    assert code == 0
    assert "from schema revision 0005_orders_payment_id_index to " in err


def test_a_database_newer_than_the_code_is_one_line(fresh_home, capsys):
    fresh_home.mkdir()
    store = Store(f"sqlite:///{fresh_home / 'buybutton.sqlite3'}")
    store.upgrade()
    with store.transaction() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    store.dispose()
    code, _, err = run(capsys, "products", "list", "--merchant", "mch_x")
    assert code == 1
    assert_one_error_line(err, "9999_from_the_future", "upgrade buybutton")


def test_a_read_only_database_is_one_line(fresh_home, capsys, monkeypatch, sqlite_url):
    path = make_url(sqlite_url).database
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///file:{path}?mode=ro&uri=true")
    code, _, err = run(capsys, "merchants", "create", "Ana")
    assert code == 1
    assert_one_error_line(err, f"the SQLite database at file:{path} is read-only")


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == "buybutton 0.1.0"


def _every_parser(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _every_parser(sub)


def test_help_texts_carry_no_rest_markup():
    parsers = list(_every_parser(build_parser()))
    assert len(parsers) > 15  # every command and action
    for parser in parsers:
        help_text = parser.format_help()
        for markup in ("``", "`", ":class:", ":func:", ":meth:", ":mod:"):
            assert markup not in help_text, f"{parser.prog}: {markup!r} in\n{help_text}"


def test_a_home_that_cannot_be_created_is_one_line(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BUYBUTTON_HOME", str(blocker / "home"))
    for name in ("DATABASE_URL", "BUYBUTTON_SECRET_KEYS", "BUYBUTTON_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run(capsys, "products", "list", "--merchant", "mch_x")
    assert code == 1
    assert_one_error_line(err, "BUYBUTTON_HOME", str(blocker / "home"))


@pytest.mark.parametrize("raw", ["http://[::1", "http://[127.0.0.1]", "https://[::1:8000"])
def test_a_public_url_with_a_broken_ipv6_host_is_one_line(fresh_home, capsys, monkeypatch, raw):
    monkeypatch.setenv("BUYBUTTON_PUBLIC_URL", raw)
    code, _, err = run(capsys, "products", "list", "--merchant", "mch_x")
    assert code == 1
    assert_one_error_line(err, "BUYBUTTON_PUBLIC_URL", raw)
    assert not fresh_home.exists()
