"""The delivery workers as operators run them: ``buybutton events deliver --once`` and the
in-process thread that ``buybutton serve`` and ``buybutton demo`` start."""

from __future__ import annotations

import json
import threading

import pytest

from buybutton import catalog, cli, orders, webhooks
from buybutton.store.schema import webhook_deliveries
from tests.support.accounts import create_account
from tests.support.webhook_receiver import DrippingReceiver


def pay_order(store, product):
    with store.transaction() as conn:
        order = orders.create_order(
            conn, catalog.offer_claims(product), 1, provider="sandbox", ttl_seconds=1800
        )
        return orders.mark_paid(
            conn, order.id, amount=order.amount, currency=order.currency, payment_id="pay_test"
        )


@pytest.fixture
def subscribed(store, merchant, receiver):
    with store.transaction() as conn:
        return webhooks.create_endpoint(
            conn, merchant.id, {"url": receiver.url, "events": ["*"]}, allow_private=True
        )


def test_cli_deliver_once_sends_what_is_due_and_exits(
    monkeypatch, tmp_path, database_url, store, make_product, subscribed, receiver, capsys
):
    order = pay_order(store, make_product())
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BUYBUTTON_WEBHOOK_ALLOW_PRIVATE", "1")

    assert cli.main(["events", "deliver", "--once"]) == 0

    assert "Attempted 1 webhook delivery(ies): 1 acknowledged" in capsys.readouterr().out
    [hit] = receiver.received
    assert json.loads(hit.body)["data"]["object"]["id"] == order.id


def test_cli_deliver_refuses_private_targets_without_the_setting(
    monkeypatch, tmp_path, database_url, store, make_product, subscribed, receiver, capsys
):
    pay_order(store, make_product())
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("BUYBUTTON_WEBHOOK_ALLOW_PRIVATE", raising=False)

    assert cli.main(["events", "deliver", "--once"]) == 0

    assert "0 acknowledged, 1 to retry" in capsys.readouterr().out
    assert receiver.received == []


def test_delivery_thread_delivers_in_the_background_until_stopped(
    store, make_product, subscribed, receiver
):
    arrived = threading.Event()
    original = receiver.server.RequestHandlerClass.do_POST

    def do_post(handler):
        original(handler)
        arrived.set()

    receiver.server.RequestHandlerClass.do_POST = do_post
    thread, stop = webhooks.start_delivery_thread(store, allow_private=True, idle_seconds=0.05)
    try:
        pay_order(store, make_product())
        assert arrived.wait(10), "the delivery thread sent nothing"
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    "argv, threads, allow_private",
    [
        (["serve"], 1, False),
        (["serve", "--no-webhooks"], 0, False),
        (["demo"], 1, True),
        (["demo", "--no-webhooks"], 0, True),
    ],
)
def test_serve_and_demo_run_one_delivery_thread_unless_told_not_to(
    monkeypatch, tmp_path, sqlite_url, capsys, argv, threads, allow_private
):
    from buybutton_server import serving

    seen = []

    def fake_serve(settings, **options):  # stands in for gunicorn, which blocks until stopped
        alive = [t for t in threading.enumerate() if t.name == "buybutton-webhooks"]
        seen.append((len(alive), settings.webhook_allow_private, alive))

    monkeypatch.setattr(serving, "serve", fake_serve)
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("BUYBUTTON_PUBLIC_URL", "http://127.0.0.1:8000")  # serve needs one
    monkeypatch.delenv("BUYBUTTON_WEBHOOK_ALLOW_PRIVATE", raising=False)

    # --port 0: serve and demo bind their port before starting; any free one will do.
    assert cli.main([*argv, "--port", "0"]) == 0

    [(count, allowed, alive)] = seen
    assert (count, allowed) == (threads, allow_private)
    assert not any(t.is_alive() for t in alive)  # stopped with the server


def wait_for(predicate, seconds: float = 20.0, step: float = 0.05):
    """Poll ``predicate`` until it is true or ``seconds`` pass; return its last value."""
    import time

    deadline = time.monotonic() + seconds
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(step)
    return value


def test_a_dripping_receiver_does_not_delay_another_merchants_webhook(
    store, merchant, make_product, receiver
):
    # Merchant A's receiver answers one byte every half second (about 45 s for its answer);
    # merchant B's answers at once.
    dripping = DrippingReceiver(drip="headers", interval=0.5)
    other = create_account(store, "Other Shop")
    with store.transaction() as conn:
        slow = webhooks.create_endpoint(
            conn, other.id, {"url": dripping.url, "events": ["*"]}, allow_private=True
        )
    with store.transaction() as conn:
        product_a = catalog.create_product(
            conn, other.id, {"name": "Tote", "amount": 1900, "currency": "eur"}
        )
    worker = webhooks.Deliverer(store, allow_private=True, timeout=4, random=lambda: 0.5)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"idle_seconds": 0.05})
    try:
        pay_order(store, product_a)
        thread.start()
        assert dripping.started.wait(15), "merchant A's webhook was never sent"

        # B's event happens while A's delivery is stuck in the drip.
        with store.transaction() as conn:
            webhooks.create_endpoint(
                conn, merchant.id, {"url": receiver.url, "events": ["*"]}, allow_private=True
            )
        order_b = pay_order(store, make_product())
        assert wait_for(lambda: receiver.received), "merchant B's webhook waited behind A's"
        assert not dripping.cut.is_set() and not dripping.completed.is_set()
        assert json.loads(receiver.received[0].body)["data"]["object"]["id"] == order_b.id

        # A's delivery is cut at its total deadline (not after the whole drip) and retried.
        assert dripping.cut.wait(20), "A's dripping answer was never cut"
        assert not dripping.completed.is_set()

        def a_row():
            with store.read() as conn:
                row = (
                    conn.execute(
                        webhook_deliveries.select().where(
                            webhook_deliveries.c.endpoint_id == slow.id
                        )
                    )
                    .one()
                    ._mapping
                )
            return row if row["attempts"] == 1 else None

        row = wait_for(a_row)
        assert row, "A's failed attempt was not recorded"
        assert (row["status"], row["last_status"]) == ("pending", None)
        assert "timed out" in row["last_error"].lower()
        assert row["next_attempt_at"] == row["last_attempt_at"] + 30  # the schedule's first wait
    finally:
        stop.set()
        thread.join(15)
        dripping.close()
    assert not thread.is_alive()


def test_cli_deliver_follows_the_configured_retry_schedule(
    monkeypatch, tmp_path, database_url, store, make_product, subscribed, receiver, capsys
):
    pay_order(store, make_product())
    receiver.replies = [503]
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BUYBUTTON_WEBHOOK_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE", "100,200")

    assert cli.main(["events", "deliver", "--once"]) == 0

    assert "0 acknowledged, 1 to retry" in capsys.readouterr().out
    with store.read() as conn:
        [row] = conn.execute(webhook_deliveries.select()).all()
    assert 80 <= row.next_attempt_at - row.last_attempt_at <= 120  # 100 s, ± 20 % jitter


@pytest.mark.parametrize(
    "name, value",
    [("BUYBUTTON_WEBHOOK_CONCURRENCY", "0"), ("BUYBUTTON_WEBHOOK_RETRY_SCHEDULE", "soon")],
)
def test_cli_deliver_refuses_bad_delivery_settings_in_one_line(
    monkeypatch, tmp_path, sqlite_url, capsys, name, value
):
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv(name, value)

    assert cli.main(["events", "deliver", "--once"]) == 1

    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"buybutton: error: {name} must be")
    assert len(err.splitlines()) == 1


def test_cli_deliver_refuses_an_empty_batch_in_one_line(monkeypatch, tmp_path, sqlite_url, capsys):
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)

    assert cli.main(["events", "deliver", "--once", "--batch-size", "0"]) == 1

    out, err = capsys.readouterr()
    assert out == "" and err == (
        "buybutton: error: The webhook deliverer's batch_size must be "
        "at least 1, not 0. (batch_size)\n"
    )
