"""Merchant webhooks in the core: fan-out with the order change, signing, delivery to a real HTTP
receiver on loopback, retries on an injected clock, giving up, deletion, private addresses."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket

import pytest

from buybutton import catalog, orders, webhooks
from buybutton.errors import AddressNotAllowed
from buybutton.store.schema import webhook_deliveries, webhook_endpoints
from buybutton.webhooks import Deliverer, RetryPolicy
from buybutton_sdk import SignatureVerificationError, construct_event
from tests.support.embedded_addresses import ALLOWED, REFUSED
from tests.support.webhook_receiver import DrippingReceiver, Receiver

T0 = 1_800_000_000


class Clock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, now: float = T0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def product(make_product):
    return make_product(stock=50)


@pytest.fixture
def add_endpoint(store, merchant, clock):
    def add(url: str, event_types=("*",), **options) -> webhooks.WebhookEndpoint:
        with store.transaction() as conn:
            return webhooks.create_endpoint(
                conn,
                merchant.id,
                {"url": url, "events": list(event_types)},
                allow_private=True,
                now=clock() - 1,
                **options,
            )

    return add


@pytest.fixture
def deliverer(store, clock):
    def make(**options) -> Deliverer:
        return Deliverer(
            store,
            allow_private=options.pop("allow_private", True),
            clock=clock,
            random=lambda: 0.5,
            **options,
        )

    return make


def pay_order(store, product, clock) -> orders.Order:
    """A pending order for ``product``, then paid: the state machine emits ``order.paid``."""
    with store.transaction() as conn:
        order = orders.create_order(
            conn,
            catalog.offer_claims(product),
            1,
            provider="sandbox",
            ttl_seconds=1800,
            now=clock(),
        )
    with store.transaction() as conn:
        return orders.mark_paid(
            conn,
            order.id,
            amount=order.amount,
            currency=order.currency,
            payment_id="pay_test",
            now=clock(),
        )


def deliveries_of(store) -> list:
    with store.read() as conn:
        return conn.execute(webhook_deliveries.select().order_by(webhook_deliveries.c.pk)).all()


def test_paid_order_is_delivered_signed_to_subscribed_endpoint(
    store, product, clock, receiver, add_endpoint, deliverer
):
    endpoint = add_endpoint(receiver.url, ["order.paid"])
    order = pay_order(store, product, clock)

    report = deliverer().deliver_all_due()

    assert (report.attempted, report.succeeded) == (1, 1)
    [hit] = receiver.received
    assert hit.path == "/hooks"
    assert hit.headers["Content-Type"] == "application/json"
    assert hit.headers["User-Agent"].startswith("buybutton-webhooks/")
    event = json.loads(hit.body)
    assert event["object"] == "event" and event["type"] == "order.paid"
    assert event["id"].startswith("evt_") and hit.headers["BuyButton-Event-Id"] == event["id"]
    assert event["created"] == int(clock())
    assert event["data"]["object"]["id"] == order.id
    assert event["data"]["object"]["status"] == "paid"
    # The signature, checked by hand as a merchant's backend would.
    parts = dict(p.split("=", 1) for p in hit.headers["BuyButton-Signature"].split(","))
    assert int(parts["t"]) == int(clock())
    expected = hmac.new(
        endpoint.secret.encode(), parts["t"].encode() + b"." + hit.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert (
        construct_event(
            hit.body, hit.headers["BuyButton-Signature"], endpoint.secret, now=clock()
        ).id
        == event["id"]
    )
    [row] = deliveries_of(store)
    assert (row.status, row.attempts, row.last_status, row.delivered_at) == (
        "succeeded",
        1,
        200,
        int(clock()),
    )
    assert deliverer().deliver_all_due().attempted == 0  # acknowledged: never sent again


def test_failed_attempts_are_retried_per_schedule_then_acknowledged(
    store, product, clock, receiver, add_endpoint, deliverer
):
    add_endpoint(receiver.url)
    pay_order(store, product, clock)
    receiver.replies = [500, 503]
    worker = deliverer()

    assert worker.deliver_due().retrying == 1
    [row] = deliveries_of(store)
    assert (row.status, row.attempts, row.last_status, row.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500",
    )
    assert row.next_attempt_at == T0 + 30  # the first wait of the schedule, no jitter at 0.5

    clock.now = T0 + 29
    assert worker.deliver_due().attempted == 0  # not due yet
    clock.now = T0 + 30
    assert worker.deliver_due().retrying == 1
    assert deliveries_of(store)[0].next_attempt_at == T0 + 30 + 60

    clock.now = T0 + 90
    assert worker.deliver_due().succeeded == 1
    [row] = deliveries_of(store)
    assert (row.status, row.attempts, row.last_status, row.last_error) == (
        "succeeded",
        3,
        200,
        None,
    )
    # One event id on every attempt, so the receiver can de-duplicate.
    assert len({json.loads(r.body)["id"] for r in receiver.received}) == 1
    assert len(receiver.received) == 3


def test_timeout_is_retried(store, product, clock, receiver, add_endpoint, deliverer):
    add_endpoint(receiver.url)
    pay_order(store, product, clock)
    receiver.replies = [("sleep", 1.0)]
    worker = deliverer(timeout=0.2)

    assert worker.deliver_due().retrying == 1
    [row] = deliveries_of(store)
    assert row.last_status is None and "timed out" in row.last_error.lower()
    clock.now = T0 + 30
    assert worker.deliver_due().succeeded == 1


@pytest.mark.parametrize("drip", ["headers", "body"])
def test_a_dripping_answer_is_cut_at_the_total_deadline_and_retried(
    store, product, clock, add_endpoint, deliverer, drip
):
    # One byte every half second: no single read ever waits 2 s, the whole answer takes 20 s+.
    dripping = DrippingReceiver(drip=drip, interval=0.5, body_bytes=40)
    try:
        add_endpoint(dripping.url)
        pay_order(store, product, clock)

        assert deliverer(timeout=2).deliver_due().retrying == 1

        assert dripping.cut.wait(10), "the sender kept waiting past its deadline"
        assert not dripping.completed.is_set() and dripping.bytes_sent < 40
        [row] = deliveries_of(store)
        assert (row.status, row.attempts, row.last_status) == ("pending", 1, None)
        assert "timed out" in row.last_error.lower() and "2 s" in row.last_error
        assert row.next_attempt_at == T0 + 30
    finally:
        dripping.close()


def test_only_the_start_of_a_huge_answer_is_read(store, product, clock, add_endpoint, deliverer):
    # A 1 GiB body sent as fast as the socket takes it: the status is enough, the rest is
    # never read (nor waited for: the attempt is acknowledged, not cut at its deadline).
    flood = DrippingReceiver(drip="body", interval=0, body_bytes=1 << 30, chunk=64 * 1024)
    try:
        add_endpoint(flood.url)
        pay_order(store, product, clock)

        assert deliverer(timeout=30).deliver_due().succeeded == 1

        assert flood.cut.wait(10) and flood.bytes_sent < 1 << 30
        [row] = deliveries_of(store)
        assert (row.status, row.last_status) == ("succeeded", 200)
    finally:
        flood.close()


def test_connection_refused_is_retried_until_the_endpoint_is_up(
    store, product, clock, add_endpoint, deliverer
):
    with socket.socket() as probe:  # a port nobody listens on (yet)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    add_endpoint(f"http://127.0.0.1:{port}/hooks")
    pay_order(store, product, clock)
    worker = deliverer()

    assert worker.deliver_due().retrying == 1
    [row] = deliveries_of(store)
    assert row.last_status is None and "refused" in row.last_error.lower()

    late = Receiver(port)
    try:
        clock.now = T0 + 30
        assert worker.deliver_due().succeeded == 1
        assert len(late.received) == 1
    finally:
        late.close()


def test_delivery_gives_up_after_the_last_attempt(
    store, product, clock, receiver, add_endpoint, deliverer
):
    add_endpoint(receiver.url)
    pay_order(store, product, clock)
    receiver.replies = [500] * 10
    policy = RetryPolicy(max_attempts=3)
    worker = deliverer(policy=policy)

    for wait in (0, 30, 60):
        clock.now += wait
        assert worker.deliver_due().attempted == 1
    [row] = deliveries_of(store)
    assert (row.status, row.attempts) == ("failed", 3)
    clock.now += 10 * 86400
    assert worker.deliver_all_due().attempted == 0
    assert len(receiver.received) == 3


def test_unsubscribed_event_types_are_not_sent(
    store, product, clock, receiver, add_endpoint, deliverer
):
    refunds = add_endpoint(receiver.url, ["order.refunded"])
    everything = add_endpoint(receiver.url + "?all=1", ["*"])
    order = pay_order(store, product, clock)
    with store.transaction() as conn:
        orders.mark_refunded(conn, order.id, now=clock())

    assert deliverer().deliver_all_due().succeeded == 3
    got = sorted((r.path, json.loads(r.body)["type"]) for r in receiver.received)
    assert got == [
        ("/hooks", "order.refunded"),
        ("/hooks?all=1", "order.paid"),
        ("/hooks?all=1", "order.refunded"),
    ]
    assert {r.endpoint_id for r in deliveries_of(store)} == {refunds.id, everything.id}


def test_endpoint_created_after_the_event_does_not_receive_it(
    store, product, clock, receiver, add_endpoint, deliverer
):
    pay_order(store, product, clock)
    add_endpoint(receiver.url)
    assert deliverer().deliver_all_due().attempted == 0
    assert receiver.received == []


def test_deleted_endpoint_gets_no_more_deliveries(
    store, merchant, product, clock, receiver, add_endpoint, deliverer
):
    endpoint = add_endpoint(receiver.url)
    pay_order(store, product, clock)
    receiver.replies = [500]
    worker = deliverer()
    assert worker.deliver_due().retrying == 1

    with store.transaction() as conn:
        webhooks.delete_endpoint(conn, merchant.id, endpoint.id, now=clock())
    pay_order(store, product, clock)  # a new event after the deletion
    clock.now += 86400
    assert worker.deliver_all_due().attempted == 0
    assert len(receiver.received) == 1
    assert [r.status for r in deliveries_of(store)] == ["canceled"]


def test_endpoint_deleted_while_claimed_is_canceled_not_sent(
    store, merchant, product, clock, receiver, add_endpoint, deliverer
):
    endpoint = add_endpoint(receiver.url)
    pay_order(store, product, clock)
    worker = deliverer()
    token, rows = worker._claim()  # claimed, and then the merchant deletes the endpoint
    with store.transaction() as conn:
        webhooks.delete_endpoint(conn, merchant.id, endpoint.id, now=clock())
    report = worker._deliver(token, rows)
    assert (report.attempted, report.canceled) == (0, 0)  # the delete already canceled the row
    assert receiver.received == []
    assert [r.status for r in deliveries_of(store)] == ["canceled"]


def test_delivery_queued_for_a_disabled_endpoint_is_canceled_not_sent(
    store, merchant, product, clock, receiver, add_endpoint, deliverer
):
    from buybutton.store.schema import webhook_endpoints

    endpoint = add_endpoint(receiver.url)
    pay_order(store, product, clock)
    # A row queued for an endpoint that is no longer live (a delete racing the order's
    # transaction can leave one behind) is canceled at send time, never posted.
    with store.transaction() as conn:
        conn.execute(
            webhook_endpoints.update()
            .where(webhook_endpoints.c.id == endpoint.id)
            .values(enabled=False)
        )
    assert deliverer().deliver_all_due().canceled == 1
    assert receiver.received == []
    assert [r.status for r in deliveries_of(store)] == ["canceled"]


def test_a_crashed_workers_claim_is_retried_after_its_lease(
    store, product, clock, receiver, add_endpoint, deliverer
):
    add_endpoint(receiver.url)
    pay_order(store, product, clock)
    crashed = deliverer(lease_seconds=120)
    _, rows = crashed._claim()  # claims, then "crashes" before sending
    assert len(rows) == 1

    other = deliverer()
    assert other.deliver_all_due().attempted == 0  # still leased
    clock.now += 120
    assert other.deliver_all_due().succeeded == 1
    assert len(receiver.received) == 1


def test_private_address_is_refused_at_creation_unless_allowed(store, merchant):
    def create(url, **options):
        with store.transaction() as conn:
            return webhooks.create_endpoint(
                conn, merchant.id, {"url": url, "events": ["*"]}, **options
            )

    for url in (
        "http://127.0.0.1:9/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest",
        "http://[::1]:8080/",
        "https://[fd00::1]/x",
        "http://0.0.0.0/",
    ):
        with pytest.raises(AddressNotAllowed) as caught:
            create(url)
        assert caught.value.param == "url" and caught.value.code == "url_not_allowed"
    with pytest.raises(AddressNotAllowed):  # a name that resolves into the private network
        create("https://intranet.example/hooks", resolver=lambda host, port: ["192.168.1.5"])
    assert create("https://shop.example/hooks", resolver=lambda host, port: ["93.184.216.34"])
    assert create("http://127.0.0.1:9/hooks", allow_private=True).url == "http://127.0.0.1:9/hooks"


def test_private_address_is_refused_at_delivery_when_dns_changes(
    store, merchant, product, clock, receiver, deliverer
):
    with store.transaction() as conn:
        endpoint = webhooks.create_endpoint(
            conn,
            merchant.id,
            {"url": f"http://hooks.example:{receiver.port}/hooks", "events": ["*"]},
            resolver=lambda host, port: ["93.184.216.34"],
            now=clock() - 1,
        )
    pay_order(store, product, clock)
    # The name now points at loopback (DNS rebinding): the worker refuses to connect.
    worker = deliverer(allow_private=False, resolver=lambda host, port: ["127.0.0.1"])
    assert worker.deliver_due().retrying == 1
    [row] = deliveries_of(store)
    assert "private" in row.last_error and row.endpoint_id == endpoint.id
    assert receiver.received == []
    # With private targets allowed, the same name is delivered to the address it resolves to.
    clock.now += 30
    allowed = deliverer(resolver=lambda host, port: ["127.0.0.1"])
    assert allowed.deliver_due().succeeded == 1
    assert receiver.received[0].headers["Host"] == f"hooks.example:{receiver.port}"


def test_signature_verifies_with_the_sdk_and_rejects_tampering_wrong_secret_and_old_timestamps():
    body = webhooks.event_payload("evt_1", "order.paid", T0, '{"id":"ord_1"}')
    header = webhooks.signature_header(body, "whsec_right", T0)
    assert construct_event(body, header, "whsec_right", now=T0 + 10).id == "evt_1"
    # A rotated secret: any one v1 may match.
    both = header + ",v1=" + webhooks.compute_signature(body, "whsec_other", T0)
    assert construct_event(body, both, "whsec_other", now=T0).type == "order.paid"
    for payload, head, secret, now in (
        (body.replace(b"ord_1", b"ord_2"), header, "whsec_right", T0),
        (body, header, "whsec_wrong", T0),
        (body, header, "whsec_right", T0 + 301),
        (body, "garbage", "whsec_right", T0),
        (body, None, "whsec_right", T0),
    ):
        with pytest.raises(SignatureVerificationError):
            construct_event(payload, head, secret, now=now)


def test_retry_policy_spans_about_three_days_with_bounded_jitter():
    policy = RetryPolicy()
    waits = policy.schedule()
    assert len(waits) == policy.max_attempts - 1 == 15
    assert waits[:3] == [30, 60, 120] and max(waits) == 12 * 3600
    assert 2.5 * 86400 < sum(waits) < 3.5 * 86400
    assert policy.delay(1, 0.0) == 24 and policy.delay(1, 0.999) == 36


def test_https_delivery_verifies_the_certificate_for_the_urls_name(
    store, merchant, product, clock, deliverer, tmp_path
):
    import ssl

    import trustme

    ca = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("hooks.example").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    tls = Receiver(ssl_context=server_context)
    try:
        for name in ("hooks.example", "other.example"):
            with store.transaction() as conn:
                webhooks.create_endpoint(
                    conn,
                    merchant.id,
                    {"url": f"https://{name}:{tls.port}/hooks", "events": ["*"]},
                    allow_private=True,
                    now=clock() - 1,
                )
        pay_order(store, product, clock)
        # Both names resolve to the receiver, whose certificate names only hooks.example.
        worker = deliverer(ca_certs=str(ca_file), resolver=lambda host, port: ["127.0.0.1"])
        report = worker.deliver_all_due()
        assert (report.succeeded, report.retrying) == (1, 1)
        [hit] = tls.received
        assert hit.headers["Host"] == f"hooks.example:{tls.port}"
        failed = [r for r in deliveries_of(store) if r.status == "pending"]
        assert "doesn't match 'hooks.example'" in failed[0].last_error
    finally:
        tls.close()


def test_a_late_result_from_an_expired_claim_is_not_recorded(
    store, product, clock, receiver, add_endpoint, deliverer
):
    add_endpoint(receiver.url)
    pay_order(store, product, clock)
    slow = deliverer(lease_seconds=60)
    token, rows = slow._claim()
    clock.now += 60  # the slow worker's lease ran out; another worker takes over and delivers
    assert deliverer().deliver_all_due().succeeded == 1
    assert slow._deliver(token, rows).claimed == 1  # ...and the slow one neither sends nor records
    [row] = deliveries_of(store)
    assert (row.status, row.attempts) == ("succeeded", 1)
    assert len(receiver.received) == 1


def test_register_endpoint_looks_the_host_up_before_taking_the_write_lock(store, merchant):
    looked_up = []

    def resolver(host, port):
        # Another writer gets in while the lookup runs: no write transaction is held (on SQLite
        # a held write lock would make this block until its busy timeout, then fail).
        with store.transaction() as conn:
            conn.execute(
                webhook_endpoints.update()
                .where(webhook_endpoints.c.id == "none")
                .values(enabled=True)
            )
        looked_up.append((host, port))
        return ["93.184.216.34"]

    endpoint = webhooks.register_endpoint(
        store,
        merchant.id,
        {"url": "https://hooks.example.com/buybutton", "events": ["order.paid"]},
        resolver=resolver,
    )
    assert looked_up == [("hooks.example.com", 443)]
    assert endpoint.url == "https://hooks.example.com/buybutton"


def claimed_endpoints(groups) -> list[tuple[str, int]]:
    return [(rows[0].endpoint_id, len(rows)) for _, rows in groups]


def test_a_backlogged_endpoint_gets_one_claim_and_the_other_endpoints_the_other_threads(
    store, product, clock, receiver, add_endpoint, deliverer
):
    slow = add_endpoint(receiver.url + "?slow")
    for _ in range(5):  # slow's backlog is the oldest
        pay_order(store, product, clock)
        clock.now += 1
    with store.transaction() as conn:
        conn.execute(webhook_deliveries.delete().where(webhook_deliveries.c.endpoint_id != slow.id))
    others = [add_endpoint(f"{receiver.url}?{n}") for n in range(2)]
    pay_order(store, product, clock)  # one event for each of the three endpoints

    worker = deliverer(batch_size=4, concurrency=4)
    groups = worker._claim_groups(4)
    # One claim per endpoint, however deep its backlog; the backlog is not dealt to the others.
    assert sorted(claimed_endpoints(groups)) == sorted(
        [(slow.id, 4), (others[0].id, 1), (others[1].id, 1)]
    )
    # While slow's claim lives, no worker takes its fifth and sixth deliveries.
    assert deliverer().deliver_all_due().attempted == 0
    with store.read() as conn:
        leased = conn.execute(
            webhook_deliveries.select().where(
                webhook_deliveries.c.lease_token.is_(None), webhook_deliveries.c.status == "pending"
            )
        ).all()
    assert [(r.endpoint_id, r.attempts) for r in leased] == [(slow.id, 0)] * 2


def test_an_endpoint_allowed_two_claims_gets_them_after_every_endpoint_has_one(
    store, product, clock, receiver, add_endpoint, deliverer
):
    first = add_endpoint(receiver.url + "?first")
    for _ in range(5):
        pay_order(store, product, clock)
        clock.now += 1
    with store.transaction() as conn:
        conn.execute(
            webhook_deliveries.delete().where(webhook_deliveries.c.endpoint_id != first.id)
        )
    second = add_endpoint(receiver.url + "?second")
    pay_order(store, product, clock)

    worker = deliverer(batch_size=2, per_endpoint=2)
    assert sorted(claimed_endpoints(worker._claim_groups(2))) == sorted(
        [(first.id, 2), (second.id, 1)]
    )  # two threads: one claim each, not two for first
    assert claimed_endpoints(worker._claim_groups(4)) == [(first.id, 2)]  # its second claim
    assert worker._claim_groups(4) == []  # first has two live claims; its last row waits

    report = deliverer(per_endpoint=2).deliver_all_due()  # later, leases run out
    assert report.attempted == 0
    clock.now += worker.lease_seconds
    assert deliverer(per_endpoint=2).deliver_all_due().succeeded == 7


def test_a_stopping_worker_gives_back_the_deliveries_it_did_not_send(
    store, product, clock, receiver, add_endpoint, deliverer
):
    import threading

    add_endpoint(receiver.url)
    for _ in range(3):
        pay_order(store, product, clock)
    worker = deliverer()
    token, rows = worker._claim()
    stop = threading.Event()
    stop.set()
    assert worker._deliver(token, rows, stop).attempted == 0
    # Due again at once for any worker, not when the lease would have run out.
    assert deliverer().deliver_all_due().succeeded == 3
    assert len(receiver.received) == 3


def test_retry_policy_follows_an_explicit_schedule_then_gives_up(
    store, product, clock, receiver, add_endpoint, deliverer
):
    add_endpoint(receiver.url)
    pay_order(store, product, clock)
    receiver.replies = [500] * 5
    policy = RetryPolicy.from_waits([5, 3600])
    assert (policy.max_attempts, policy.schedule()) == (3, [5, 3600])
    worker = deliverer(policy=policy)

    for wait in (0, 5, 3600):
        clock.now += wait
        assert worker.deliver_due().attempted == 1
        row = deliveries_of(store)[0]
    assert (row.status, row.attempts) == ("failed", 3)
    assert RetryPolicy.from_waits([]) == RetryPolicy()


@pytest.mark.parametrize("address, why", REFUSED, ids=[a for a, _ in REFUSED])
def test_ipv6_embedding_a_private_ipv4_is_refused_at_creation(store, merchant, address, why):
    with pytest.raises(AddressNotAllowed) as caught:
        with store.transaction() as conn:
            webhooks.create_endpoint(
                conn, merchant.id, {"url": f"http://[{address}]:8080/hooks", "events": ["*"]}
            )
    assert (caught.value.code, caught.value.param) == ("url_not_allowed", "url")
    assert address in caught.value.message
    with pytest.raises(AddressNotAllowed):  # the same address as a name's DNS answer
        with store.transaction() as conn:
            webhooks.create_endpoint(
                conn,
                merchant.id,
                {"url": "https://hooks.example/x", "events": ["*"]},
                resolver=lambda host, port: ["93.184.216.34", address],
            )


@pytest.mark.parametrize("address, why", ALLOWED, ids=[a for a, _ in ALLOWED])
def test_ipv6_embedding_only_public_ipv4_is_accepted_at_creation(store, merchant, address, why):
    with store.transaction() as conn:
        endpoint = webhooks.create_endpoint(
            conn, merchant.id, {"url": f"https://[{address}]/hooks", "events": ["*"]}
        )
    assert endpoint.url == f"https://[{address}]/hooks"


@pytest.mark.parametrize("address, why", REFUSED, ids=[a for a, _ in REFUSED])
def test_ipv6_embedding_a_private_ipv4_is_refused_at_delivery(
    store, merchant, product, clock, receiver, deliverer, address, why
):
    with store.transaction() as conn:
        webhooks.create_endpoint(
            conn,
            merchant.id,
            {"url": f"http://hooks.example:{receiver.port}/hooks", "events": ["*"]},
            resolver=lambda host, port: ["93.184.216.34"],
            now=clock() - 1,
        )
    pay_order(store, product, clock)
    # The name now resolves to the embedded form (DNS rebinding): nothing is sent.
    worker = deliverer(allow_private=False, resolver=lambda host, port: [address])
    assert worker.deliver_due().retrying == 1
    [row] = deliveries_of(store)
    assert "private" in row.last_error and address in row.last_error
    assert receiver.received == []


def test_embedded_ipv4_unwraps_every_form():
    import ipaddress

    def inner(address):
        return [str(v4) for v4 in webhooks.embedded_ipv4(ipaddress.IPv6Address(address))]

    assert inner("::ffff:10.0.0.1") == ["10.0.0.1"]
    assert inner("::10.0.0.1") == ["10.0.0.1"]
    assert inner("::ffff:0:10.0.0.1") == ["10.0.0.1"]
    assert inner("2002:a00:1::") == ["10.0.0.1"]
    assert inner("64:ff9b::10.0.0.1") == ["10.0.0.1"]
    # Teredo: the server, then the client (the last 32 bits XOR 0xffffffff).
    assert inner("2001:0:4136:e378:8000:63bf:f5ff:fffe") == ["65.54.227.120", "10.0.0.1"]
    assert inner("2606:4700:4700::1111") == []
