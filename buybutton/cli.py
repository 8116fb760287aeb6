"""The buybutton command line: run the demo or the server, migrate, create merchants,
products and tokens. Every command reads the same configuration as the server
(BUYBUTTON_HOME, DATABASE_URL, BUYBUTTON_SECRET_KEYS, BUYBUTTON_PUBLIC_URL).

Errors are one line on stderr, ``buybutton: error: …`` (:func:`main` translates them in one
place); so is what a command creates (the SQLite database, the secret key), ``buybutton: …``.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import cast

from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from . import __version__, accounts, catalog, digital, idempotency, merchants, orders
from .config import Settings, load_settings, setup_log
from .errors import BuyButtonError, ConfigError, ErrorCode, InvalidRequest, NotFound
from .expiry import start_expiry_thread
from .mail.delivery import (
    OrderDelivery,
    OrderUrl,
    mail_deliverer,
    no_delivery,
    resend_receipt,
    start_mail_thread,
)
from .mail.outbox import list_mail
from .offers import OfferLinks, issue_link
from .payments.providers import make_provider
from .reconcile import reconcile_pending_orders
from .storage import LocalStorage
from .store import Store, diagnose
from .tokens import TokenSigner
from .webhooks import Deliverer, delivery_options, start_delivery_thread

# Shown by --help: plain text (argparse prints it as it is, so no reST markup).
DESCRIPTION = (
    "buybutton: a self-hosted one-click Buy Now button. Run the demo or the server, "
    "migrate the database, create merchants, products and tokens. Configuration comes "
    "from the environment: BUYBUTTON_HOME, DATABASE_URL, BUYBUTTON_SECRET_KEYS, "
    "BUYBUTTON_PUBLIC_URL (see docs/quickstart.md)."
)


def _out(args: argparse.Namespace, data: Mapping[str, object], human: str) -> None:
    print(json.dumps(data) if args.json else human)


def _base_url(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> str:
    return settings.public_url or f"http://{host}:{port}"


# The commands that build the server's links or run it import the server (and Flask) when they
# run, not here: the core never imports Flask, and every other command works without it.


def _server_links(base_url: str) -> OfferLinks:
    """The server's links on ``base_url``, built from its own URL map."""
    from buybutton_server.routes import offline_links

    return offline_links(base_url)


def _order_urls(settings: Settings) -> OrderUrl:
    """The shopper's order page of an order id, for the links in mail (none without a public
    URL: a link to 127.0.0.1 would be useless in a shopper's inbox)."""
    if settings.public_url is None:
        return lambda order_id: None
    from buybutton_server.routes import offline_links

    links = offline_links(settings.public_url)
    signer = TokenSigner(settings.secret_keys)
    return lambda order_id: links.order_url(signer.sign_order_ref(order_id))


def _order_deliveries(settings: Settings) -> OrderDelivery:
    """An order's download link and licence key, for the receipt (no link without a public
    URL, as for :func:`_order_urls`)."""
    if settings.public_url is None:
        return no_delivery
    # The server's Links (its module is imported only when a command needs it) build downloads.
    links = cast(digital.DownloadLinks, _server_links(settings.public_url))
    signer = TokenSigner(settings.secret_keys)
    policy = digital.DownloadPolicy.from_settings(settings)

    def delivery(conn: Connection, order_id: str) -> digital.Delivery | None:
        return digital.order_delivery(conn, order_id, signer=signer, links=links, policy=policy)

    return delivery


def _mail_label(settings: Settings) -> str:
    if settings.smtp is None:
        return f"written as .eml files into {settings.home / 'mail'}"
    return f"sent through {settings.smtp.host}:{settings.smtp.port}"


def _store(settings: Settings, *, upgrade: bool = False) -> Store:
    """The store, its schema checked: migrated when ``upgrade`` or on SQLite (embedded, so its
    first use sets it up); elsewhere an unmigrated or outdated schema is an error naming
    ``buybutton db upgrade``."""
    store = Store.from_settings(settings)
    if upgrade:
        store.upgrade()
    else:
        store.ensure_schema(upgrade=store.dialect == "sqlite")
    return store


def _database_label(settings: Settings) -> str:
    """Where the data lives, for people: the SQLite file, or the URL without its password."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return f"SQLite at {url.database}"
    return url.render_as_string(hide_password=True)


# -- commands ------------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings, upgrade=True)
    print(
        f"Database at revision {store.current_revision()} ({store.url.render_as_string(hide_password=True)})."
    )
    return 0


def cmd_db_purge_idempotency_keys(args: argparse.Namespace, settings: Settings) -> int:
    count = idempotency.purge_expired(_store(settings))
    print(f"Deleted {count} idempotency key(s) older than 24 hours.")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """The password on standard input: its first line, without the line ending (so
    ``echo "$PW" | buybutton …`` and a file both work). Never a command-line argument, which
    other users of the machine can read in the process list."""
    if not args.password_stdin:
        raise ConfigError("Give --password-stdin and the password on standard input.")
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _merchant_settings(args: argparse.Namespace) -> dict[str, object]:
    """The merchant settings given on the command line, as ``PATCH /v1/merchant`` takes them."""
    fields: dict[str, object] = {}
    for key in ("email", "support_email"):
        if getattr(args, key, None) is not None:
            fields[key] = getattr(args, key)
    if getattr(args, "return_days", None) is not None:
        fields["return_policy"] = {"days": args.return_days, "text": args.return_policy or ""}
    elif getattr(args, "return_policy", None) is not None:
        raise InvalidRequest(
            "--return-policy needs --return-days (0: no returns).", param="return_days"
        )
    return fields


def cmd_merchants_create(args: argparse.Namespace, settings: Settings) -> int:
    # --email is the merchant's address; with --password-stdin it is also the dashboard sign-in.
    if args.password_stdin and not args.email:
        raise ConfigError("--password-stdin needs --email (the dashboard sign-in).")
    password = _read_password(args) if args.password_stdin else None
    if password is not None:  # checked before anything is written
        accounts.normalize_email(args.email)
        accounts.validate_password(password)
    store = _store(settings)
    with store.transaction() as conn:
        if password is not None and accounts.find_account(
            conn, accounts.normalize_email(args.email)
        ):
            raise accounts.email_taken(accounts.normalize_email(args.email))
        merchant, api_key = merchants.create_merchant(
            conn, args.name, allowed_origins=args.allowed_origin
        )
        extra = _merchant_settings(args)
        if extra:
            merchant = merchants.update_merchant(conn, merchant.id, extra)
        account = (
            accounts.create_account(conn, merchant.id, args.email, password)
            if password is not None
            else None
        )
    sign_in = (
        f"\nDashboard sign-in: {account.email} (/dashboard/login)"
        if account
        else "\nNo dashboard sign-in: add --email and --password-stdin to create one."
    )
    _out(
        args,
        {
            "id": merchant.id,
            "name": merchant.name,
            "api_key": api_key,
            "allowed_origins": list(merchant.allowed_origins),
            "email": merchant.email,
            "support_email": merchant.support_email,
            **({"dashboard_email": account.email} if account else {}),
        },
        f"Merchant {merchant.id} ({merchant.name})\n"
        f"Secret API key (shown once, keep it safe): {api_key}{sign_in}",
    )
    return 0


def cmd_merchants_set_password(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args)
    email = accounts.normalize_email(args.email)
    accounts.validate_password(password)
    with _store(settings).transaction() as conn:
        account = accounts.set_password(conn, email, password)
    _out(
        args,
        {"email": account.email, "merchant_id": account.merchant_id},
        f"New password set for {account.email}; its other dashboard sessions are signed out.",
    )
    return 0


def cmd_merchants_update(args: argparse.Namespace, settings: Settings) -> int:
    fields = _merchant_settings(args)
    if args.allowed_origin:
        fields["allowed_origins"] = args.allowed_origin
    with _store(settings).transaction() as conn:
        if merchants.get_merchant(conn, args.merchant_id) is None:
            raise NotFound(
                f"No such merchant: {args.merchant_id!r}.",
                code=ErrorCode.MERCHANT_NOT_FOUND,
                param="merchant",
            )
        merchant = merchants.update_merchant(conn, args.merchant_id, fields)
    data = merchant.to_dict()
    _out(args, data, f"Merchant {merchant.id} ({merchant.name}) updated.")
    return 0


def _json_option(value: str, param: str) -> object:
    """A JSON value given inline or as ``@path`` (a file holding it)."""
    try:
        if value.startswith("@"):
            with open(value[1:], encoding="utf-8") as file:
                return json.load(file)
        return json.loads(value)
    except OSError as exc:
        raise InvalidRequest(f"Cannot read {value[1:]!r}: {exc.strerror}.", param=param) from None
    except ValueError as exc:
        raise InvalidRequest(f"--{param} is not valid JSON: {exc}.", param=param) from None


def cmd_products_create(args: argparse.Namespace, settings: Settings) -> int:
    fields = {"name": args.name, "amount": args.amount, "currency": args.currency}
    for key in (
        "description",
        "image_url",
        "stock",
        "max_per_order",
        "hold_seconds",
        "sku",
        "gtin",
        "mpn",
        "brand",
    ):
        if getattr(args, key) is not None:
            fields[key] = getattr(args, key)
    if args.in_feed:
        fields["in_feed"] = True
    if args.license_keys:
        fields["license_keys"] = True
    if args.shipping is not None:
        fields["shipping"] = _json_option(args.shipping, "shipping")
    store = _store(settings)
    with store.transaction() as conn:
        if merchants.get_merchant(conn, args.merchant) is None:
            raise BuyButtonError(
                f"No such merchant: {args.merchant!r}.",
                code=ErrorCode.MERCHANT_NOT_FOUND,
                param="merchant",
            )
        product = catalog.create_product(conn, args.merchant, fields)
    _out(args, product.to_dict(), f"Product {product.id}: {product.name}, {product.price.format()}")
    return 0


def cmd_products_list(args: argparse.Namespace, settings: Settings) -> int:
    with _store(settings).read() as conn:
        if merchants.get_merchant(conn, args.merchant) is None:
            raise NotFound(
                f"No such merchant: {args.merchant!r}.",
                code=ErrorCode.MERCHANT_NOT_FOUND,
                param="merchant",
            )
        items, _ = catalog.list_products(conn, args.merchant, limit=100)
    if args.json:
        print(json.dumps([p.to_dict() for p in items]))
    for p in [] if args.json else items:
        stock = "unlimited" if p.stock is None else p.stock
        print(f"{p.id}  {p.price.format():>12}  stock {stock:<9}  {p.name}")
    return 0


def _describe_file(product: catalog.Product) -> str:
    file = product.file
    if file is None:
        return f"Product {product.id} has no file."
    return f"Product {product.id}: {file.name}, {file.size} bytes, {file.type}"


def cmd_products_upload_file(args: argparse.Namespace, settings: Settings) -> int:
    store, storage = _store(settings), LocalStorage.for_settings(settings)
    with store.read() as conn:
        product = catalog.get_product(conn, args.product_id)
    try:
        stream = open(args.path, "rb")  # noqa: SIM115 (closed below, after the upload)
    except OSError as exc:
        raise BuyButtonError(f"Cannot read {args.path}: {exc.strerror}.", param="path") from None
    with stream:
        stored = storage.save(stream, max_bytes=settings.max_upload_bytes, param="path")
    name = catalog.clean_file_name(args.name or args.path.replace("\\", "/").rsplit("/", 1)[-1])
    with store.transaction() as conn:
        product, replaced = catalog.attach_file(
            conn, product.merchant_id, product.id, stored, name=name
        )
    digital.forget_file(store, storage, replaced)
    _out(args, product.to_dict(), _describe_file(product))
    return 0


def cmd_products_delete_file(args: argparse.Namespace, settings: Settings) -> int:
    store, storage = _store(settings), LocalStorage.for_settings(settings)
    with store.transaction() as conn:
        product = catalog.get_product(conn, args.product_id)
        product, released = catalog.detach_file(conn, product.merchant_id, product.id)
    digital.forget_file(store, storage, released)
    _out(args, product.to_dict(), f"Removed the file of product {product.id}.")
    return 0


def cmd_licenses_verify(args: argparse.Namespace, settings: Settings) -> int:
    with _store(settings).read() as conn:
        license = digital.verify_license(conn, args.merchant, args.key)
    state = "valid" if license["valid"] else f"NOT valid ({license['status']})"
    _out(
        args,
        license,
        f"{license['key']}: {state}; order {license['order_id']}, product {license['product_id']}",
    )
    return 0 if license["valid"] else 3


def cmd_tokens_issue(args: argparse.Namespace, settings: Settings) -> int:
    links = _server_links(_base_url(settings))
    with _store(settings).transaction() as conn:
        product = catalog.get_product(conn, args.product_id)
        offer = issue_link(
            conn,
            TokenSigner(settings.secret_keys),
            product,
            links=links,
            ref=args.ref,
            expires_in=args.expires_in,
        )
    _out(
        args,
        offer,
        f"Token: {offer['token']}\n\nSnippet:\n{offer['snippet']}\n\n"
        f"Share link: {offer['share_url']}\nBuy link:   {offer['buy_url']}",
    )
    return 0


def _order_line(order: orders.Order) -> str:
    ship, where = order.shipping, "-"
    if ship is not None:
        where = (
            f"{ship.name}, {ship.address.postal_code} {ship.address.city} {ship.address.country}"
        )
    return (
        f"{order.id}  {order.status:<8}  {order.fulfillment.status:<12}  "
        f"{order.customer.email or '-'}  {where}"
    )


def cmd_orders_list(args: argparse.Namespace, settings: Settings) -> int:
    with _store(settings).read() as conn:
        items, _ = orders.list_orders(
            conn, args.merchant, limit=100, status=args.status, fulfillment=args.fulfillment
        )
    if args.json:
        print(json.dumps([o.to_dict() for o in items]))
    for order in [] if args.json else items:
        print(_order_line(order))
    return 0


def cmd_orders_export(args: argparse.Namespace, settings: Settings) -> int:
    with _store(settings).read() as conn:
        document = orders.orders_csv(
            conn, args.merchant, status=args.status, fulfillment=args.fulfillment
        )
    if args.output in (None, "-"):
        sys.stdout.write(document)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as file:
            file.write(document)
        print(f"Wrote {document.count(chr(10)) - 1} order(s) to {args.output}.")
    return 0


def _change_fulfilment(args: argparse.Namespace, settings: Settings, deliver: bool) -> int:
    with _store(settings).transaction() as conn:
        merchant_id = orders.get_order(conn, args.order_id).merchant_id
        if deliver:
            order = orders.deliver_order(conn, merchant_id, args.order_id)
        else:
            order = orders.fulfill_order(
                conn,
                merchant_id,
                args.order_id,
                carrier=args.carrier,
                tracking_number=args.tracking_number,
                tracking_url=args.tracking_url,
            )
    _out(args, order.to_dict(), f"Order {order.id}: {order.fulfillment.status}.")
    return 0


def cmd_orders_fulfill(args: argparse.Namespace, settings: Settings) -> int:
    return _change_fulfilment(args, settings, deliver=False)


def cmd_orders_deliver(args: argparse.Namespace, settings: Settings) -> int:
    return _change_fulfilment(args, settings, deliver=True)


def cmd_orders_expire(args: argparse.Namespace, settings: Settings) -> int:
    count = orders.expire_stale_orders(_store(settings))
    print(f"Expired {count} stale pending order(s).")
    return 0


def cmd_events_deliver(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    deliverer = Deliverer(store, **delivery_options(settings), batch_size=args.batch_size)
    if args.once:
        report = deliverer.deliver_all_due()
        print(
            f"Attempted {report.attempted} webhook delivery(ies): {report.succeeded} "
            f"acknowledged, {report.retrying} to retry, {report.failed} given up, "
            f"{report.canceled} canceled."
        )
        return 0
    stop = _stop_on_signal()
    print(f"Delivering webhooks every {args.interval:g} s when idle; Ctrl-C stops.", flush=True)
    deliverer.run(stop, idle_seconds=args.interval)
    return 0


def _stop_on_signal() -> threading.Event:
    """An event that SIGINT (Ctrl-C) or SIGTERM sets, for a worker loop to stop cleanly."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def cmd_mail_deliver(args: argparse.Namespace, settings: Settings) -> int:
    deliverer = mail_deliverer(
        _store(settings),
        settings,
        order_url=_order_urls(settings),
        order_delivery=_order_deliveries(settings),
        batch_size=args.batch_size,
    )
    if args.once:
        report = deliverer.deliver_all_due()
        print(
            f"Mail: {report.sent} sent, {report.retrying} to retry, {report.failed} given up "
            f"({_mail_label(settings)})."
        )
        return 0
    stop = _stop_on_signal()
    print(f"Delivering mail ({_mail_label(settings)}); Ctrl-C stops.", flush=True)
    deliverer.run(stop, idle_seconds=args.interval)
    return 0


def cmd_mail_list(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    with store.read() as conn:
        orders.get_order(conn, args.order_id)  # NotFound: one line, not an empty list
        sent = list_mail(conn, args.order_id)
    if args.json:
        print(json.dumps({"object": "list", "data": [m.to_dict() for m in sent]}))
        return 0
    for m in sent:
        error = f"  {m.last_error}" if m.last_error and m.status != "sent" else ""
        print(f"{m.id}  {m.kind:<9}  {m.status:<7}  {m.attempts} attempt(s)  {m.to_address}{error}")
    if not sent:
        print(f"No mail about {args.order_id}.")
    return 0


def cmd_mail_resend(args: argparse.Namespace, settings: Settings) -> int:
    delivery = resend_receipt(_store(settings), args.order_id, to=args.to)
    _out(
        args,
        delivery.to_dict(),
        f"Receipt of {delivery.order_id} queued for {delivery.to_address} ({delivery.id}); "
        "the mail worker sends it (serve's thread, or 'buybutton mail deliver').",
    )
    return 0


def _prepare_serving(args: argparse.Namespace, settings: Settings) -> socket.socket:
    """Refuse, in one line and before any banner, what cannot serve; returns the listening
    socket. Fixes ``args.workers`` when it was not given."""
    from buybutton_server.serving import bind_listener, check_serving, default_workers

    if args.workers is None:
        args.workers = default_workers(settings)
    check_serving(settings, args.workers)
    listener = bind_listener(args.host, args.port)
    args.port = listener.getsockname()[1]  # the one chosen, for --port 0
    return listener


def _payments_label(settings: Settings) -> str:
    if settings.payment_provider != "stripe":
        return "offline sandbox"
    live = (settings.stripe_secret_key or "").startswith(("sk_live_", "rk_live_"))
    return "Stripe, LIVE mode (real money)" if live else "Stripe, test mode"


def _serve_with_webhooks(
    args: argparse.Namespace, settings: Settings, listener: socket.socket
) -> None:
    """Serve on ``listener`` until interrupted, with the expiry thread beside the server (lapsed
    checkouts give their stock back), one webhook delivery thread unless --no-webhooks, and one
    mail thread unless --no-mail; they stop when the server does."""
    from buybutton_server.serving import serve

    threads = [
        start_expiry_thread(_store(settings), interval_seconds=settings.expiry_interval_seconds)
    ]
    try:
        if not args.no_webhooks:
            threads.append(start_delivery_thread(_store(settings), **delivery_options(settings)))
        if not args.no_mail:
            deliverer = mail_deliverer(
                _store(settings),
                settings,
                order_url=_order_urls(settings),
                order_delivery=_order_deliveries(settings),
            )
            threads.append(start_mail_thread(deliverer))
        serve(settings, listener=listener, workers=args.workers)
    finally:
        for _thread, stop in threads:
            stop.set()
        for thread, _stop in threads:
            thread.join(timeout=15)
        listener.close()  # a no-op once serve() has handed it to gunicorn


def cmd_orders_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    report = reconcile_pending_orders(
        store, make_provider(settings, store), stale_after=args.stale_after
    )
    print(
        f"Checked {report.checked} pending order(s) with the payment provider: "
        f"{report.paid} paid, {report.expired} expired, {report.failed} could not be checked."
    )
    return 1 if report.failed else 0


def _require_public_url(settings: Settings) -> None:
    """A server without a public URL or allowed hosts would build links from whatever ``Host``
    header a client sends (into cached pages, feeds, payment return URLs): refuse to start."""
    if settings.public_url is None and not settings.allowed_hosts:
        raise ConfigError(
            "set BUYBUTTON_PUBLIC_URL to the address shoppers use (e.g. "
            "https://buy.example.com), or BUYBUTTON_ALLOWED_HOSTS to the host "
            "names this server answers to, before serving"
        )


def _demo_public_url(settings: Settings, host: str, port: int) -> str:
    """The demo's links: the public URL if set, else the address it serves on."""
    if settings.public_url:
        return settings.public_url
    if host in ("", "0.0.0.0", "::"):
        raise ConfigError(
            f"demo --host {host or repr(host)} serves other machines: set "
            f"BUYBUTTON_PUBLIC_URL to the address they use "
            f"(e.g. http://192.168.1.20:{port})"
        )
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    _require_public_url(settings)
    listener = _prepare_serving(args, settings)
    try:
        _store(settings, upgrade=not args.no_migrate)
    except BaseException:
        listener.close()
        raise
    print(
        f"buybutton serve — {_database_label(settings)}, payments: {_payments_label(settings)}, "
        f"{args.workers} worker(s), on http://{args.host}:{args.port}",
        flush=True,
    )
    if settings.payment_provider == "sandbox":
        print(
            "buybutton: WARNING: payments go to the offline SANDBOX: no real money moves and "
            "any test card is accepted; set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET to take "
            "real payments.",
            file=sys.stderr,
            flush=True,
        )
    _serve_with_webhooks(args, settings, listener)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    # The demo's webhook endpoints are typically on this machine (a local receiver).
    settings = settings.with_overrides(webhook_allow_private=True)
    listener = None if args.no_serve else _prepare_serving(args, settings)
    try:
        base = _demo_public_url(settings, args.host, args.port)  # after binding: --port 0 is known
        settings = settings.with_overrides(public_url=base)
        from buybutton_server.demo import seed_demo

        state = seed_demo(_store(settings, upgrade=True), settings, _server_links(base))
    except BaseException:
        if listener is not None:
            listener.close()
        raise
    first = state["offers"][0]
    print(f"""
buybutton demo — {_database_label(settings)}, payments: {_payments_label(settings)}

  Shop (open it):   {base}/demo
  Dashboard:        {base}/dashboard
    email:          {state["dashboard_email"]}
    password:       {state["dashboard_password"]}
  Merchant API key: {state["api_key"]}
  Health:           {base}/healthz
  Mail:             {_mail_label(settings)}

  Buy links (pay with the test card 4242 4242 4242 4242):""")
    for offer in state["offers"]:
        print(f"    {offer['buy_url']}")
    print(
        f"""
  Snippet for any web page:
    {first["snippet"].replace(chr(10), chr(10) + "    ")}

  Share link for a social post:
    {first["share_url"]}

  Try the API:
    curl -H "Authorization: Bearer {state["api_key"]}" {base}/v1/orders
""",
        flush=True,
    )
    if listener is None:
        return 0
    _serve_with_webhooks(args, settings, listener)
    return 0


# -- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="buybutton", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"buybutton {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def server_options(p: argparse.ArgumentParser, port: int = 8000) -> None:
        p.add_argument(
            "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
        )
        p.add_argument("--port", type=int, default=port, help=f"port (default {port})")
        p.add_argument(
            "--workers",
            type=int,
            default=None,
            help="gunicorn worker processes (default 2 with REDIS_URL, else 1; more "
            "than 1 needs REDIS_URL for shared rate limits)",
        )
        p.add_argument(
            "--no-webhooks",
            action="store_true",
            help="do not run a webhook delivery thread (run 'buybutton events deliver')",
        )
        p.add_argument(
            "--no-mail",
            action="store_true",
            help="do not run a mail thread (run 'buybutton mail deliver')",
        )

    demo = sub.add_parser("demo", help="seed a demo shop and serve it (SQLite + offline sandbox)")
    server_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="seed and print, then exit")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the server under gunicorn")
    server_options(serve)
    serve.add_argument(
        "--no-migrate", action="store_true", help="do not upgrade the database first"
    )
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database commands").add_subparsers(
        dest="db", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="create or migrate the database (safe to repeat)").set_defaults(
        func=cmd_db_upgrade
    )
    db.add_parser(
        "purge-idempotency-keys", help="delete API idempotency keys older than 24 h (run daily)"
    ).set_defaults(func=cmd_db_purge_idempotency_keys)

    m = sub.add_parser("merchants", help="merchant accounts").add_subparsers(
        dest="merchants", required=True, metavar="ACTION"
    )
    mc = m.add_parser("create", help="create a merchant and print its secret key once")
    mc.add_argument("name")
    mc.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="the merchant's own site, e.g. https://shop.example (repeatable): buy "
        "pages link back to, and tell, only these",
    )
    _merchant_options(mc)
    mc.add_argument(
        "--password-stdin",
        dest="password_stdin",
        action="store_true",
        help="read a dashboard password from standard input (its first line): --email "
        "becomes the merchant's dashboard sign-in",
    )
    mc.add_argument("--json", action="store_true", help="print one JSON object")
    mc.set_defaults(func=cmd_merchants_create)
    ms = m.add_parser("set-password", help="set a dashboard account's password (from stdin)")
    ms.add_argument("email")
    ms.add_argument(
        "--password-stdin",
        dest="password_stdin",
        action="store_true",
        help="read the new password from standard input (its first line)",
    )
    ms.add_argument("--json", action="store_true", help="print one JSON object")
    ms.set_defaults(func=cmd_merchants_set_password)
    mu = m.add_parser("update", help="change a merchant's emails, return policy or origins")
    mu.add_argument("merchant_id")
    mu.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="replace the merchant's sites with these (repeatable)",
    )
    _merchant_options(mu)
    mu.add_argument("--json", action="store_true", help="print one JSON object")
    mu.set_defaults(func=cmd_merchants_update)

    p = sub.add_parser("products", help="products").add_subparsers(
        dest="products", required=True, metavar="ACTION"
    )
    pc = p.add_parser("create", help="create a product")
    pc.add_argument("--merchant", required=True, help="merchant id (mch_…)")
    pc.add_argument("--name", required=True)
    pc.add_argument("--amount", type=int, required=True, help="price in minor units (1200 = 12.00)")
    pc.add_argument("--currency", required=True, help="ISO-4217 code, e.g. eur")
    pc.add_argument("--description")
    pc.add_argument("--image-url", dest="image_url")
    pc.add_argument("--stock", type=int, help="units in stock (omit for unlimited)")
    pc.add_argument(
        "--max-per-order",
        dest="max_per_order",
        type=int,
        help="most units one order may take (default 10)",
    )
    pc.add_argument(
        "--hold-seconds",
        dest="hold_seconds",
        type=int,
        help="how long an unpaid order holds its stock (120-86400; default: "
        "BUYBUTTON_CHECKOUT_TTL_SECONDS)",
    )
    pc.add_argument(
        "--in-feed",
        dest="in_feed",
        action="store_true",
        help="list it in the public catalog feeds (off by default)",
    )
    pc.add_argument(
        "--license-keys",
        dest="license_keys",
        action="store_true",
        help="give each paid order a licence key",
    )
    pc.add_argument(
        "--shipping",
        help='JSON (or @file): {"countries": ["FR"], "rates": [{"id": "colissimo", '
        '"name": "Colissimo", "amount": 490, "delivery_estimate": {"min_days": 2, '
        '"max_days": 4}}]}; omit for goods that do not ship',
    )
    pc.add_argument("--sku")
    pc.add_argument("--gtin", help="EAN/UPC (8, 12, 13 or 14 digits)")
    pc.add_argument("--mpn", help="manufacturer part number")
    pc.add_argument("--brand")
    pc.add_argument("--json", action="store_true", help="print one JSON object")
    pc.set_defaults(func=cmd_products_create)
    pu = p.add_parser(
        "upload-file",
        help="make a file the product's download (a digital good; replaces any)",
    )
    pu.add_argument("product_id")
    pu.add_argument("path", help="the file (at most BUYBUTTON_MAX_UPLOAD_BYTES)")
    pu.add_argument("--name", help="the name shoppers save it as (default: the file's own)")
    pu.add_argument("--json", action="store_true", help="print one JSON object")
    pu.set_defaults(func=cmd_products_upload_file)
    pd = p.add_parser("delete-file", help="remove the product's file (downloads stop)")
    pd.add_argument("product_id")
    pd.add_argument("--json", action="store_true", help="print one JSON object")
    pd.set_defaults(func=cmd_products_delete_file)

    lic = sub.add_parser("licenses", help="licence keys of paid orders").add_subparsers(
        dest="licenses", required=True, metavar="ACTION"
    )
    lv = lic.add_parser(
        "verify", help="is a licence key one of the merchant's, and valid? (exit 3 if not valid)"
    )
    lv.add_argument("key")
    lv.add_argument("--merchant", required=True, help="merchant id (mch_…)")
    lv.add_argument("--json", action="store_true", help="print one JSON object")
    lv.set_defaults(func=cmd_licenses_verify)
    pl = p.add_parser("list", help="list a merchant's products")
    pl.add_argument("--merchant", required=True)
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=cmd_products_list)

    t = sub.add_parser("tokens", help="product tokens").add_subparsers(
        dest="tokens", required=True, metavar="ACTION"
    )
    ti = t.add_parser("issue", help="sign a token and print its snippet and links")
    ti.add_argument("product_id")
    ti.add_argument("--ref", help="campaign tag carried to the orders")
    ti.add_argument(
        "--expires-in", dest="expires_in", type=int, help="seconds until the offer lapses"
    )
    ti.add_argument("--json", action="store_true", help="print one JSON object")
    ti.set_defaults(func=cmd_tokens_issue)

    o = sub.add_parser("orders", help="orders").add_subparsers(
        dest="orders", required=True, metavar="ACTION"
    )
    o.add_parser(
        "expire", help="expire lapsed pending orders, giving their stock back"
    ).set_defaults(func=cmd_orders_expire)
    for name, func, helptext in (
        ("list", cmd_orders_list, "list a merchant's newest orders (100)"),
        ("export", cmd_orders_export, "export a merchant's orders as CSV (buyer and address)"),
    ):
        ol = o.add_parser(name, help=helptext)
        ol.add_argument("--merchant", required=True, help="merchant id (mch_…)")
        ol.add_argument("--status", help="pending, paid, expired, canceled or refunded")
        ol.add_argument(
            "--fulfillment", help="unfulfilled (still to ship), shipped, delivered, not_required"
        )
        if name == "export":
            ol.add_argument("-o", "--output", help="file to write (default: standard output)")
        else:
            ol.add_argument("--json", action="store_true")
        ol.set_defaults(func=func)
    of = o.add_parser("fulfill", help="mark a paid order shipped (sends order.shipped)")
    of.add_argument("order_id")
    of.add_argument("--carrier")
    of.add_argument("--tracking-number", dest="tracking_number")
    of.add_argument("--tracking-url", dest="tracking_url")
    of.add_argument("--json", action="store_true", help="print one JSON object")
    of.set_defaults(func=cmd_orders_fulfill)
    od = o.add_parser("deliver", help="mark a paid order delivered (sends order.delivered)")
    od.add_argument("order_id")
    od.add_argument("--json", action="store_true", help="print one JSON object")
    od.set_defaults(func=cmd_orders_deliver)

    e = sub.add_parser("events", help="merchant webhook events").add_subparsers(
        dest="events", required=True, metavar="ACTION"
    )
    ed = e.add_parser(
        "deliver", help="deliver due webhook events (a worker; run as many as you like)"
    )
    ed.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    ed.add_argument(
        "--interval", type=float, default=1.0, help="seconds to wait when idle (default 1)"
    )
    ed.add_argument(
        "--batch-size",
        dest="batch_size",
        type=int,
        default=10,
        help="deliveries of one endpoint claimed at a time (default 10)",
    )
    ed.set_defaults(func=cmd_events_deliver)

    m = sub.add_parser(
        "mail", help="receipts and notices to shoppers and merchants"
    ).add_subparsers(dest="mail", required=True, metavar="ACTION")
    md = m.add_parser("deliver", help="send due mail (a worker; run as many as you like)")
    md.add_argument("--once", action="store_true", help="send what is due now, then exit")
    md.add_argument(
        "--interval", type=float, default=1.0, help="seconds to wait when idle (default 1)"
    )
    md.add_argument(
        "--batch-size",
        dest="batch_size",
        type=int,
        default=10,
        help="messages claimed at a time (default 10)",
    )
    md.set_defaults(func=cmd_mail_deliver)
    ml = m.add_parser("list", help="the mail about an order and what became of it")
    ml.add_argument("order_id")
    ml.add_argument("--json", action="store_true", help="print one JSON object")
    ml.set_defaults(func=cmd_mail_list)
    mr = m.add_parser("resend", help="queue the receipt of a paid order again")
    mr.add_argument("order_id")
    mr.add_argument("--to", help="send it to this address instead of the buyer's")
    mr.add_argument("--json", action="store_true", help="print one JSON object")
    mr.set_defaults(func=cmd_mail_resend)
    orc = o.add_parser(
        "reconcile",
        help="ask the payment provider about stale pending orders and apply what it says",
    )
    orc.add_argument(
        "--stale-after",
        dest="stale_after",
        type=int,
        default=600,
        help="only orders at least this many seconds old (default 600)",
    )
    orc.set_defaults(func=cmd_orders_reconcile)
    return parser


def _merchant_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--email",
        help="where new-order notifications go (with --password-stdin at creation: also the "
        "dashboard sign-in)",
    )
    parser.add_argument("--support-email", dest="support_email", help="shown to buyers for help")
    parser.add_argument(
        "--return-days",
        dest="return_days",
        type=int,
        help="days a buyer has to return an item (0: no returns)",
    )
    parser.add_argument("--return-policy", dest="return_policy", help="the policy's text")


def _version() -> str:
    try:
        return version("buybutton")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return __version__


@contextmanager
def _print_setup_lines() -> Iterator[None]:
    """While a command runs, what it creates (``config.setup_log``) is a line on stderr."""

    class ToStderr(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            # sys.stderr looked up at each line, not kept: tests capture it, gunicorn keeps it.
            print(f"buybutton: {record.getMessage()}", file=sys.stderr, flush=True)

    handler, previous = ToStderr(logging.INFO), setup_log.level
    setup_log.addHandler(handler)
    setup_log.setLevel(logging.INFO)
    try:
        yield
    finally:
        setup_log.removeHandler(handler)
        setup_log.setLevel(previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Every failure the user can fix is one line, ``buybutton: error: …``:
    our errors (bad input, configuration) and a database that cannot be used (unreachable,
    read-only, …; named without its password)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = None
    with _print_setup_lines():
        try:
            settings = load_settings()
            command: Callable[[argparse.Namespace, Settings], int] = args.func
            return command(args, settings)
        except BuyButtonError as exc:
            field = f" ({exc.param})" if exc.param else ""
            print(f"buybutton: error: {exc.message}{field}", file=sys.stderr)
            return 1
        except DBAPIError as exc:
            problem = diagnose(exc)
            if problem is None or settings is None:
                raise  # a bug, not the database's state: the traceback is what to report
            print(
                f"buybutton: error: {problem.describe(make_url(settings.database_url))}",
                file=sys.stderr,
            )
            return 1


if __name__ == "__main__":
    sys.exit(main())
