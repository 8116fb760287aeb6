"""Shared fixtures: a fresh database per test (SQLite, and PostgreSQL where configured), an app
on it, a merchant with its API key, and factories for products and tokens.

Services and the browser: tests marked ``postgres``, ``redis`` or ``browser`` skip with a message
when the service is absent, except where ``BUYBUTTON_REQUIRE_SERVICES=1`` (set by ``.ci/run``),
where an absent service fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from buybutton import catalog
from buybutton.config import Settings
from buybutton.offers import issue_offer
from buybutton.store import Store
from buybutton.tokens import TokenSigner
from buybutton_server.routes import offline_links
from tests.support.accounts import TEST_KEYS, MerchantAccount, create_account
from tests.support.loopback import LoopbackServer
from tests.support.services import service_unavailable
from tests.support.webhook_receiver import Receiver

# Fixtures of tests/support/ that several test directories use, registered once.
pytest_plugins = ["tests.support.stripe_fixtures"]


# -- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, made once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    store.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    url = os.environ.get("BUYBUTTON_TEST_POSTGRES_URL")
    if not url:
        service_unavailable(
            "PostgreSQL tests need BUYBUTTON_TEST_POSTGRES_URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # unreachable server, missing driver, bad credentials
        service_unavailable(f"PostgreSQL at {url} is unreachable: {exc}")
    return url


@pytest.fixture(scope="session")
def postgres_schema_url(postgres_base_url):
    """A schema of this test session's own, migrated once and dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"bbtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    url = url.render_as_string(hide_password=False)
    store = Store(url)
    store.upgrade()
    store.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_schema_url):
    """The session's PostgreSQL schema, emptied before each test."""
    from buybutton.store.schema import metadata

    store = Store(postgres_schema_url)
    # DELETE, children first: on tables this small it is much faster than TRUNCATE.
    with store.transaction() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    store.dispose()
    return postgres_schema_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, sqlite_template) -> str:
    """Each test using it runs on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    path = tmp_path / "buybutton.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis (BUYBUTTON_TEST_REDIS_URL), checked reachable."""
    url = os.environ.get("BUYBUTTON_TEST_REDIS_URL")
    if not url:
        service_unavailable(
            "Redis tests need BUYBUTTON_TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/0"
        )
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis at {url} is unreachable: {exc}")
    return url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """SQLite only, for tests of the web layer."""
    path = tmp_path / "buybutton.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def refused_port():
    """A port on 127.0.0.1 that refuses connections: bound, so nothing else takes it, and never
    listening (a database server that is down)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


# -- the core --------------------------------------------------------------------------------


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.dispose()


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(TEST_KEYS)


@pytest.fixture
def merchant(store) -> MerchantAccount:
    return create_account(store)


@pytest.fixture
def make_product(store, merchant):
    """``make_product(**fields)``: a product of the test merchant (a mug at €12.00 by default)."""

    def make(**fields) -> catalog.Product:
        data = {"name": "Mug", "amount": 1200, "currency": "eur", **fields}
        with store.transaction() as conn:
            return catalog.create_product(conn, merchant.id, data)

    return make


@pytest.fixture
def make_token(signer):
    """``make_token(product, ref=None, expires_in=None)``: a signed token string."""

    def make(product: catalog.Product, **options) -> str:
        return issue_offer(signer, product, links=offline_links("http://shop.test"), **options)[
            "token"
        ]

    return make


# -- the web app -----------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=database_url,
        secret_keys=TEST_KEYS,
        public_url="http://shop.test",
    )


@pytest.fixture
def app(settings):
    from buybutton_server import create_app

    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["buybutton"].store.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_app(settings):
    """The app with links on the request's own host (``public_url`` unset), to serve live."""
    from buybutton_server import create_app

    app = create_app(replace(settings, public_url=None))
    yield app
    app.extensions["buybutton"].store.dispose()


@pytest.fixture
def live_url(live_app):
    """``live_app`` served on 127.0.0.1; yields its base URL."""
    server = LoopbackServer(live_app)
    yield server.url
    server.stop()


def pytest_terminal_summary(terminalreporter):
    """One line per distinct skip reason, with a count, instead of one line per test."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            reason = report.longrepr[2].removeprefix("Skipped: ")
            reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("skipped (how to run them)")
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            terminalreporter.line(f"{count:4d} × {reason}")


# -- webhooks --------------------------------------------------------------------------------


@pytest.fixture
def receiver():
    """A real HTTP server on 127.0.0.1 recording the webhooks it receives."""
    server = Receiver()
    yield server
    server.close()
