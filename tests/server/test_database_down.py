"""A database that cannot be used (unreachable, read-only) is a 503 the client may retry, and
/healthz says so: it checks that the database takes a write, not merely that it answers."""

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from buybutton.config import Settings
from buybutton.store import schema
from buybutton_server import create_app
from tests.support.accounts import TEST_KEYS, create_account
from tests.support.api_errors import assert_error


def app_on(tmp_path, database_url):
    app = create_app(Settings(home=tmp_path, database_url=database_url, secret_keys=TEST_KEYS))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def unreachable_app(tmp_path, refused_port):
    app = app_on(tmp_path, f"postgresql+psycopg://buyer:s3cret-pw@127.0.0.1:{refused_port}/shop")
    yield app
    app.extensions["buybutton"].store.dispose()


def test_api_answers_503_with_retry_after_when_postgresql_refuses_connections(
    unreachable_app, caplog
):
    response = unreachable_app.test_client().get(
        "/v1/products", headers={"Authorization": "Bearer bb_sk_whatever"}
    )
    error = assert_error(response, 503, "service_unavailable")
    assert error["type"] == "api_error"
    assert int(response.headers["Retry-After"]) > 0
    assert "s3cret-pw" not in caplog.text and "connection refused" in caplog.text


def test_checkout_answers_503_when_postgresql_refuses_connections(
    unreachable_app, signer, make_token, make_product
):
    token = make_token(make_product())  # signed with TEST_KEYS, the unreachable app's keys
    response = unreachable_app.test_client().post("/v1/checkout", json={"token": token})
    assert_error(response, 503, "service_unavailable")


def test_pages_show_the_503_page_when_postgresql_refuses_connections(unreachable_app, signer):
    response = unreachable_app.test_client().get(f"/orders/{signer.sign_order_ref('ord_1')}")
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "retry in a few seconds" in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


def test_healthz_is_503_unreachable_when_postgresql_refuses_connections(unreachable_app):
    response = unreachable_app.test_client().get("/healthz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.json == {"status": "unavailable", "database": "unreachable"}


def test_healthz_writes_the_health_row(client, store):
    assert client.get("/healthz").status_code == 200
    with store.read() as conn:
        checked_at = conn.execute(select(schema.health.c.checked_at)).scalar_one()
    assert checked_at > 0  # the migration leaves 0: healthz wrote it


def test_healthz_puts_back_a_deleted_health_row(client, store):
    with store.transaction() as conn:
        conn.execute(schema.health.delete())
    assert client.get("/healthz").status_code == 200
    with store.read() as conn:
        assert conn.execute(select(schema.health.c.pk)).scalars().all() == [1]


def read_only_url(database_url: str) -> str:
    """The same database, opened so that every write fails as on a read-only disk or a standby:
    a read-only SQLite URI, or PostgreSQL sessions with default_transaction_read_only."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///file:{url.database}?mode=ro&uri=true"
    options = url.query.get("options", "") + " -cdefault_transaction_read_only=on"
    return url.update_query_dict({"options": options.strip()}).render_as_string(hide_password=False)


@pytest.fixture
def read_only_app(tmp_path, database_url):
    app = app_on(tmp_path, read_only_url(database_url))
    yield app
    app.extensions["buybutton"].store.dispose()


def test_healthz_is_503_read_only_when_the_database_refuses_writes(read_only_app):
    response = read_only_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "read_only"}


def test_writes_to_a_read_only_database_are_503_but_reads_work(read_only_app, store):
    merchant = create_account(store)
    client = read_only_app.test_client()
    assert client.get("/v1/products", headers=merchant.headers).status_code == 200
    response = client.post(
        "/v1/products",
        headers=merchant.headers,
        json={"name": "Mug", "amount": 1200, "currency": "eur"},
    )
    assert_error(response, 503, "service_unavailable")


def test_an_unmigrated_database_is_not_healthy(tmp_path):
    path = tmp_path / "empty.sqlite3"
    app = app_on(tmp_path, f"sqlite:///{path}")
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.extensions["buybutton"].store.dispose()
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "not_migrated"}
