"""The delivery workers as operators run them: ``buybutton events deliver --once`` and the
in-process thread that ``buybutton serve`` and ``buybutton demo`` start."""

from __future__ import annotations

import json
import threading

import pytest

from buybutton import catalog, cli, events, orders


def pay_order(store, product):
    with store.transaction() as conn:
        order = orders.create_order(conn, catalog.offer_claims(product), 1, provider="sandbox",
                                    ttl_seconds=1800)
        return orders.mark_paid(conn, order.id, amount=order.amount, currency=order.currency,
                                payment_id="pay_test")


@pytest.fixture
def subscribed(store, merchant, receiver):
    with store.transaction() as conn:
        return events.create_endpoint(conn, merchant.id, {"url": receiver.url, "events": ["*"]},
                                      allow_private=True)


def test_cli_deliver_once_sends_what_is_due_and_exits(monkeypatch, tmp_path, database_url, store,
                                                      make_product, subscribed, receiver, capsys):
    order = pay_order(store, make_product())
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BUYBUTTON_WEBHOOK_ALLOW_PRIVATE", "1")

    assert cli.main(["events", "deliver", "--once"]) == 0

    assert "Attempted 1 webhook delivery(ies): 1 acknowledged" in capsys.readouterr().out
    [hit] = receiver.received
    assert json.loads(hit.body)["data"]["object"]["id"] == order.id


def test_cli_deliver_refuses_private_targets_without_the_setting(monkeypatch, tmp_path,
                                                                 database_url, store, make_product,
                                                                 subscribed, receiver, capsys):
    pay_order(store, make_product())
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("BUYBUTTON_WEBHOOK_ALLOW_PRIVATE", raising=False)

    assert cli.main(["events", "deliver", "--once"]) == 0

    assert "0 acknowledged, 1 to retry" in capsys.readouterr().out
    assert receiver.received == []


def test_delivery_thread_delivers_in_the_background_until_stopped(store, make_product,
                                                                  subscribed, receiver):
    arrived = threading.Event()
    original = receiver.server.RequestHandlerClass.do_POST

    def do_post(handler):
        original(handler)
        arrived.set()

    receiver.server.RequestHandlerClass.do_POST = do_post
    thread, stop = events.start_delivery_thread(store, allow_private=True, idle_seconds=0.05)
    try:
        pay_order(store, make_product())
        assert arrived.wait(10), "the delivery thread sent nothing"
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert len(receiver.received) == 1


@pytest.mark.parametrize("argv, threads, allow_private", [
    (["serve"], 1, False),
    (["serve", "--no-webhooks"], 0, False),
    (["demo"], 1, True),
    (["demo", "--no-webhooks"], 0, True),
])
def test_serve_and_demo_run_one_delivery_thread_unless_told_not_to(
        monkeypatch, tmp_path, sqlite_url, capsys, argv, threads, allow_private):
    from buybutton import serving

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
