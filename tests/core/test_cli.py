"""The command line, run in-process against a temporary BUYBUTTON_HOME."""

import json
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

from buybutton.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("BUYBUTTON_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BUYBUTTON_SECRET_KEYS", "cli-test-key")
    monkeypatch.setenv("BUYBUTTON_PUBLIC_URL", "https://buy.example.com")
    return tmp_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert len(out.strip().splitlines()) == 1  # exactly one JSON object
    return json.loads(out)


def test_db_upgrade_is_safe_to_repeat(home, capsys):
    for _ in range(2):
        code, out, _ = run(capsys, "db", "upgrade")
        assert code == 0 and "revision" in out


def test_create_merchant_product_and_token_as_json(home, capsys):
    merchant = run_json(capsys, "merchants", "create", "Ana's shop", "--json")
    assert set(merchant) == {
        "id",
        "name",
        "api_key",
        "allowed_origins",
        "email",
        "support_email",
    } and merchant["api_key"].startswith("bb_sk_")
    product = run_json(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant["id"],
        "--name",
        "Mug",
        "--amount",
        "1200",
        "--currency",
        "EUR",
        "--stock",
        "4",
        "--json",
    )
    assert (product["currency"], product["stock"], product["in_feed"]) == ("eur", 4, False)
    listed = run_json(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant["id"],
        "--name",
        "Tote",
        "--amount",
        "1900",
        "--currency",
        "eur",
        "--in-feed",
        "--json",
    )
    assert listed["in_feed"] is True
    token = run_json(capsys, "tokens", "issue", product["id"], "--ref", "poster", "--json")
    assert token["share_url"].startswith("https://buy.example.com/p/")
    assert token["ref"] == "poster"
    code, out, _ = run(capsys, "products", "list", "--merchant", merchant["id"])
    assert code == 0 and "Mug" in out and "€12.00" in out


def test_cli_merchant_can_use_the_api_of_a_server_started_afterwards(home, capsys):
    from buybutton_server import create_app

    merchant = run_json(capsys, "merchants", "create", "Later", "--json")
    client = create_app().test_client()
    created = client.post(
        "/v1/products",
        headers={"Authorization": f"Bearer {merchant['api_key']}"},
        json={"name": "Cup", "amount": 500, "currency": "usd"},
    )
    assert created.status_code == 201
    token = run_json(capsys, "tokens", "issue", created.json["id"], "--json")
    assert client.get(f"/v1/embed/{token['token']}").status_code == 200  # same secret keys


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            [
                "products",
                "create",
                "--merchant",
                "mch_nope",
                "--name",
                "x",
                "--amount",
                "1",
                "--currency",
                "eur",
            ],
            "No such merchant",
        ),
        (["tokens", "issue", "prod_nope"], "No such product"),
        (["merchants", "create", "   "], "merchant name"),
    ],
)
def test_bad_arguments_fail_with_a_clear_message(home, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 1 and message in err and out == ""


def test_invalid_currency_names_the_field(home, capsys):
    merchant = run_json(capsys, "merchants", "create", "Ana", "--json")
    code, _, err = run(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant["id"],
        "--name",
        "x",
        "--amount",
        "100",
        "--currency",
        "zzz",
    )
    assert code == 1 and "(currency)" in err


def test_demo_seeds_once_and_reuses(home, capsys):
    code, first, _ = run(capsys, "demo", "--no-serve")
    assert code == 0 and "bb_sk_" in first and "/buy/" in first and "/p/" in first
    code, second, _ = run(capsys, "demo", "--no-serve")
    key = lambda text: [line for line in text.splitlines() if "Merchant API key" in line]  # noqa: E731
    assert key(first) == key(second)
    state = json.loads((home / "demo.json").read_text())
    assert len(state["product_ids"]) == 3


def test_demo_banner_says_where_mail_goes(home, capsys, monkeypatch):
    code, out, _ = run(capsys, "demo", "--no-serve")
    assert code == 0 and f"Mail:             written as .eml files into {home / 'mail'}" in out
    monkeypatch.setenv("BUYBUTTON_SMTP_URL", "smtp://mail.example.com:587")
    monkeypatch.setenv("BUYBUTTON_MAIL_FROM", "Shop <orders@shop.example>")
    code, out, _ = run(capsys, "demo", "--no-serve")
    assert code == 0 and "Mail:             sent through mail.example.com:587" in out


def test_demo_links_name_the_address_it_serves_on(home, capsys, monkeypatch):
    monkeypatch.delenv("BUYBUTTON_PUBLIC_URL")
    code, out, _ = run(capsys, "demo", "--no-serve", "--port", "9123")
    assert code == 0 and "http://127.0.0.1:9123/demo" in out and "http://127.0.0.1:9123/p/" in out
    code, out, _ = run(capsys, "demo", "--no-serve", "--host", "::1", "--port", "9123")
    assert code == 0 and "http://[::1]:9123/buy/" in out


def test_demo_on_every_interface_needs_a_public_url(home, capsys, monkeypatch):
    monkeypatch.delenv("BUYBUTTON_PUBLIC_URL")
    code, out, err = run(capsys, "demo", "--no-serve", "--host", "0.0.0.0", "--port", "9000")
    assert (code, out) == (1, "") and len(err.splitlines()) == 1
    assert err.startswith(
        "buybutton: error: demo --host 0.0.0.0 serves other machines: set BUYBUTTON_PUBLIC_URL"
    )
    monkeypatch.setenv("BUYBUTTON_PUBLIC_URL", "http://192.168.1.20:9000")
    code, out, _ = run(capsys, "demo", "--no-serve", "--host", "0.0.0.0", "--port", "9000")
    assert code == 0 and "http://192.168.1.20:9000/demo" in out


def test_serve_refuses_to_start_without_a_public_url_or_allowed_hosts(home, monkeypatch):
    """Links would otherwise name whatever Host header a client sends. Run as a process: on a
    server that does start, the timeout ends the test (and the server) instead of hanging."""
    env = {**os.environ, "BUYBUTTON_HOME": str(home), "HOME": str(home)}
    env.pop("BUYBUTTON_PUBLIC_URL")
    command = [
        sys.executable,
        "-m",
        "buybutton.cli",
        "serve",
        "--port",
        str(free_port()),
        "--workers",
        "1",
        "--no-webhooks",
    ]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 1 and out == ""
    assert err.splitlines() == [
        "buybutton: error: set BUYBUTTON_PUBLIC_URL to the address "
        "shoppers use (e.g. https://buy.example.com), or "
        "BUYBUTTON_ALLOWED_HOSTS to the host names this server answers "
        "to, before serving"
    ]


@pytest.mark.parametrize(
    "public_url",
    [
        "buy.example.com",
        "https://buy.example.com/shop",
        "https://buy.example.com/?a=1",
        "javascript:alert(1)",
        "https://user:pw@buy.example.com",
        "https://:8000",
    ],
)
def test_bad_public_url_is_one_clear_line(home, capsys, monkeypatch, public_url):
    monkeypatch.setenv("BUYBUTTON_PUBLIC_URL", public_url)
    code, out, err = run(capsys, "db", "upgrade")  # every command reads the settings first
    assert (code, out) == (1, "") and len(err.splitlines()) == 1
    assert (
        err.startswith("buybutton: error: BUYBUTTON_PUBLIC_URL must be the server's http(s) origin")
        and repr(public_url) in err
    )


def test_usage_errors_exit_non_zero():
    result = subprocess.run(
        [sys.executable, "-m", "buybutton.cli", "products", "create"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "--merchant" in result.stderr


def test_orders_expire_gives_lapsed_checkouts_stock_back(home, capsys, database_url):
    from buybutton import catalog, orders
    from buybutton.store import Store
    from buybutton.tokens import TokenSigner

    merchant = run_json(capsys, "merchants", "create", "Ana", "--json")
    product = run_json(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant["id"],
        "--name",
        "Pin",
        "--amount",
        "800",
        "--currency",
        "eur",
        "--stock",
        "1",
        "--json",
    )
    token = run_json(capsys, "tokens", "issue", product["id"], "--json")["token"]
    store = Store(database_url)
    try:
        with store.transaction() as conn:
            orders.create_order(
                conn,
                TokenSigner(["cli-test-key"]).verify_token(token),
                1,
                provider="sandbox",
                ttl_seconds=60,
                now=1_000,
            )
        code, out, _ = run(capsys, "orders", "expire")
        assert code == 0 and "Expired 1 stale pending order(s)." in out
        with store.read() as conn:
            assert catalog.get_product(conn, product["id"]).stock == 1
    finally:
        store.dispose()


def test_demo_does_not_print_the_database_password(home, capsys, monkeypatch, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a database URL with a password needs PostgreSQL (trust auth ignores it)")
    url = make_url(database_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", url)
    code, out, _ = run(capsys, "demo", "--no-serve")
    assert code == 0 and "bb_sk_" in out
    assert "s3cret-pw" not in out


def test_products_create_sets_the_hoarding_limits(home, capsys):
    merchant = run_json(capsys, "merchants", "create", "Limits", "--json")
    product = run_json(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant["id"],
        "--name",
        "Mug",
        "--amount",
        "1200",
        "--currency",
        "eur",
        "--stock",
        "40",
        "--max-per-order",
        "3",
        "--hold-seconds",
        "600",
        "--json",
    )
    assert (product["max_per_order"], product["hold_seconds"]) == (3, 600)
    code, out, err = run(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant["id"],
        "--name",
        "Cup",
        "--amount",
        "500",
        "--currency",
        "eur",
        "--hold-seconds",
        "5",
    )
    assert code != 0 and err.count("\n") == 1 and err.startswith("buybutton: error: ")
    assert "hold_seconds" in err


def test_ship_an_order_from_the_command_line(home, capsys, tmp_path):
    """Merchant with emails and a return policy, a product that ships, a sandbox payment with
    an address, then ``orders list/export/fulfill/deliver``."""
    from buybutton.checkout import start_checkout
    from buybutton.config import load_settings
    from buybutton.payments.sandbox import SandboxProvider
    from buybutton.store import Store
    from buybutton.tokens import TokenSigner

    merchant = run_json(
        capsys,
        "merchants",
        "create",
        "Ana's shop",
        "--email",
        "ana@shop.example",
        "--support-email",
        "help@shop.example",
        "--return-days",
        "30",
        "--return-policy",
        "Unused, in 30 days.",
        "--json",
    )
    shipping = tmp_path / "shipping.json"
    shipping.write_text(
        json.dumps(
            {"countries": ["FR"], "rates": [{"id": "std", "name": "Standard", "amount": 500}]}
        )
    )
    product = run_json(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant["id"],
        "--name",
        "Tote",
        "--amount",
        "1900",
        "--currency",
        "eur",
        "--shipping",
        f"@{shipping}",
        "--sku",
        "TOTE-1",
        "--json",
    )
    assert product["shipping"]["rates"][0]["id"] == "std" and product["sku"] == "TOTE-1"
    code, _, err = run(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant["id"],
        "--name",
        "X",
        "--amount",
        "1",
        "--currency",
        "eur",
        "--shipping",
        "{nope",
    )
    assert code == 1 and err.startswith("buybutton: error: --shipping is not valid JSON")
    updated = run_json(
        capsys, "merchants", "update", merchant["id"], "--return-days", "14", "--json"
    )
    assert updated["return_policy"] == {"text": "", "days": 14}

    settings = load_settings()
    store, signer = Store.from_settings(settings), TokenSigner(settings.secret_keys)
    token = run_json(capsys, "tokens", "issue", product["id"], "--json")["token"]
    provider = SandboxProvider(store)
    order = start_checkout(
        store,
        signer,
        provider,
        token,
        1,
        return_urls=lambda o: ("http://a/", "http://b/"),
        ttl_seconds=1800,
    )
    code, out, _ = run(capsys, "orders", "list", "--merchant", merchant["id"])
    assert code == 0 and f"{order.id}  pending   unfulfilled   -  -" in out  # nothing paid yet
    code, _, err = run(capsys, "orders", "fulfill", order.id)
    assert code == 1 and "order_not_fulfillable" not in err and "it is pending" in err
    provider.pay(
        order.provider_session_id,
        "4242424242424242",
        {
            "email": "camille@example.fr",
            "name": "Camille Martin",
            "address_line1": "8 rue de la Paix",
            "address_city": "Paris",
            "address_postal_code": "75002",
            "address_country": "FR",
        },
    )
    store.dispose()
    code, out, _ = run(
        capsys, "orders", "list", "--merchant", merchant["id"], "--fulfillment", "unfulfilled"
    )
    assert code == 0 and order.id in out and "camille@example.fr" in out and "75002 Paris FR" in out
    export = tmp_path / "orders.csv"
    code, out, _ = run(capsys, "orders", "export", "--merchant", merchant["id"], "-o", str(export))
    assert code == 0 and out.strip() == f"Wrote 1 order(s) to {export}."
    assert "8 rue de la Paix" in export.read_text()
    shipped = run_json(
        capsys,
        "orders",
        "fulfill",
        order.id,
        "--carrier",
        "Colissimo",
        "--tracking-number",
        "6A1",
        "--json",
    )
    assert (shipped["fulfillment"]["status"], shipped["fulfillment"]["carrier"]) == (
        "shipped",
        "Colissimo",
    )
    code, out, _ = run(capsys, "orders", "deliver", order.id)
    assert (code, out.strip()) == (0, f"Order {order.id}: delivered.")


def test_a_digital_product_file_and_licence_keys_from_the_command_line(home, capsys, tmp_path):
    from buybutton import catalog, digital, orders
    from buybutton.store import Store

    merchant = run_json(capsys, "merchants", "create", "Ana's shop", "--json")
    product = run_json(
        capsys,
        "products",
        "create",
        "--merchant",
        merchant["id"],
        "--name",
        "App",
        "--amount",
        "900",
        "--currency",
        "eur",
        "--license-keys",
        "--json",
    )
    assert product["license_keys"] is True and product["file"] is None
    source = tmp_path / "app.zip"
    source.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    uploaded = run_json(capsys, "products", "upload-file", product["id"], str(source), "--json")
    assert uploaded["file"]["name"] == "app.zip" and uploaded["file"]["size"] == 204
    assert uploaded["file"]["type"] == "application/zip"
    code, out, _ = run(
        capsys, "products", "upload-file", product["id"], str(source), "--name", "My App.zip"
    )
    assert code == 0 and "My App.zip, 204 bytes, application/zip" in out
    code, _, err = run(capsys, "products", "upload-file", product["id"], str(tmp_path / "none"))
    assert code == 1 and err.startswith("buybutton: error: Cannot read") and "Traceback" not in err

    store = Store(os.environ["DATABASE_URL"])
    with store.transaction() as conn:
        mug = catalog.get_product(conn, product["id"])
        order = orders.create_order(
            conn, catalog.offer_claims(mug), 1, provider="sandbox", ttl_seconds=600
        )
        orders.mark_paid(conn, order.id, amount=None, currency=None, payment_id="pi_1")
        key = digital.get_entitlement(conn, order.id).license_key
    code, out, _ = run(capsys, "licenses", "verify", key, "--merchant", merchant["id"])
    assert code == 0 and f"{key}: valid; order {order.id}" in out
    with store.transaction() as conn:
        orders.mark_refunded(conn, order.id)
    code, out, _ = run(capsys, "licenses", "verify", key, "--merchant", merchant["id"])
    assert code == 3 and "NOT valid (refunded)" in out
    code, _, err = run(capsys, "licenses", "verify", "nope", "--merchant", merchant["id"])
    assert code == 1 and err == "buybutton: error: No such licence key for this merchant. (key)\n"
    store.dispose()
    removed = run_json(capsys, "products", "delete-file", product["id"], "--json")
    assert removed["file"] is None
    code, _, err = run(capsys, "products", "delete-file", product["id"])
    assert code == 1 and "This product has no file." in err
