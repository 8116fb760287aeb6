"""``POST /v1/checkout`` with the sandbox is one write transaction (plus at most one read),
whatever else is in the database (issue 16): counted with SQLAlchemy's event listeners."""

from __future__ import annotations

from buybutton import orders
from tests.support.statements import counting


def engine(app):
    return app.extensions["buybutton"].store.engine


def test_a_checkout_is_one_write_transaction_and_at_most_one_read(app, client, offer):
    _, token = offer(stock=10)
    with counting(engine(app)) as sent:
        started = client.post("/v1/checkout", json={"token": token["token"]})
    assert started.status_code == 201 and started.json["checkout_url"]
    assert sent.writes == 1 and sent.reads <= 1, sent.transactions
    assert len(sent.statements) <= 12, sent.statements


def test_a_checkout_costs_the_same_with_many_lapsed_orders(app, client, offer, store):
    _, token = offer(stock=100)
    with counting(engine(app)) as before:
        assert client.post("/v1/checkout", json={"token": token["token"]}).status_code == 201
    for _ in range(5):
        assert client.post("/v1/checkout", json={"token": token["token"]}).status_code == 201
    with store.transaction() as conn:
        conn.execute(orders.orders.update().values(expires_at=0))  # all lapsed, none swept
    with counting(engine(app)) as after:
        assert client.post("/v1/checkout", json={"token": token["token"]}).status_code == 201
    assert (after.writes, len(after.statements)) == (before.writes, len(before.statements))
    with store.read() as conn:
        statuses = {o.status for o in orders.list_orders(conn, merchant_of(store))[0]}
    assert statuses == {"pending"}  # the lapsed ones wait for the expiry sweep


def merchant_of(store):
    with store.read() as conn:
        return conn.execute(orders.orders.select().limit(1)).first().merchant_id


def test_the_shared_stats_counter_is_written_last_so_its_lock_is_held_for_the_commit_only(
    app, client, offer
):
    """Every checkout of a product adds to the same day's stats row: written right before the
    commit, that row's lock does not serialize the rest of concurrent checkouts."""
    _, token = offer()
    with counting(engine(app)) as sent:
        assert client.post("/v1/checkout", json={"token": token["token"]}).status_code == 201
    assert sent.statements[-1].startswith("INSERT INTO stats_rollups")
