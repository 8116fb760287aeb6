"""The dashboard's Orders, order and Analytics pages, through the Flask test client: what a
signed-in merchant sees and does, and what another merchant or a forged form cannot do."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from buybutton import accounts, funnel
from buybutton.store.schema import mail_deliveries
from tests.support.accounts import MerchantAccount, create_account
from tests.support.dashboard import PASSWORD, Login, sign_in
from tests.support.forms import submit_form


def buy(client, merchant, *, name="Mug", amount=1200, quantity=1, ref=None, pay=True):
    """A shopper's purchase through the sandbox; returns the order id."""
    product = client.post(
        "/v1/products",
        headers=merchant.headers,
        json={"name": name, "amount": amount, "currency": "eur"},
    ).json
    offer = client.post(
        f"/v1/products/{product['id']}/tokens",
        headers=merchant.headers,
        json={"ref": ref} if ref else {},
    ).json
    started = client.post("/v1/checkout", json={"token": offer["token"], "quantity": quantity})
    assert started.status_code == 201, started.json
    if pay:
        paid = submit_form(
            client,
            started.json["checkout_url"],
            {"card_number": "4242 4242 4242 4242", "email": "Ada@Example.org"},
            form_class="card-form",
        )
        assert paid.status_code == 303
    return started.json["order_id"]


@pytest.fixture
def merchant(store) -> MerchantAccount:
    """A merchant with a dashboard sign-in (owner@shop.test) and an API key."""
    with store.transaction() as conn:
        shop, key, _ = accounts.create_merchant_with_account(
            conn, "Test Shop", "owner@shop.test", PASSWORD
        )
    return MerchantAccount(shop.id, key)


@pytest.fixture
def signed_in(app, merchant):
    """A browser signed in to the dashboard as ``merchant``."""
    browser = app.test_client()
    sign_in(browser, Login(merchant.id, "owner@shop.test"))
    return browser


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_orders_page_lists_orders_newest_first_with_their_columns(signed_in, merchant):
    first = buy(signed_in, merchant, name="Mug", quantity=2)
    second = buy(signed_in, merchant, name="Tote", pay=False)
    page = signed_in.get("/dashboard/orders")
    assert page.status_code == 200
    body = page.text
    assert body.index(second) < body.index(first)
    row = text_of(body[body.index(first) : body.index("</tr>", body.index(first))])
    assert "Mug" in row and "2" in row and "€24.00" in row and "Paid" in row


def test_orders_page_filters_and_searches(signed_in, merchant):
    paid = buy(signed_in, merchant, ref="insta")
    pending = buy(signed_in, merchant, ref="tiktok", pay=False)
    only_paid = signed_in.get("/dashboard/orders?status=paid").text
    assert paid in only_paid and pending not in only_paid
    tagged = signed_in.get("/dashboard/orders?ref=tiktok").text
    assert pending in tagged and paid not in tagged
    by_id = signed_in.get(f"/dashboard/orders?q={pending}").text
    assert pending in by_id and paid not in by_id
    nothing = signed_in.get("/dashboard/orders?from=2001-01-01&to=2001-01-31").text
    assert "No order matches these filters." in nothing


def test_a_bad_filter_is_said_next_to_its_field_and_the_rest_still_lists(signed_in, merchant):
    order = buy(signed_in, merchant)
    page = signed_in.get("/dashboard/orders?from=yesterday&status=lost")
    assert page.status_code == 200
    assert 'id="e-from">Enter a date as YYYY-MM-DD.' in page.text
    assert 'id="e-status"' in page.text and order in page.text


def test_orders_paginate_with_a_cursor(signed_in, merchant, monkeypatch):
    monkeypatch.setattr("buybutton_server.dashboard.orders.PAGE_SIZE", 2)
    made = [buy(signed_in, merchant, pay=False) for _ in range(3)]
    first = signed_in.get("/dashboard/orders").text
    assert made[2] in first and made[1] in first and made[0] not in first
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1)
    second = signed_in.get(unescape(older)).text
    assert made[0] in second and made[2] not in second and 'rel="next"' not in second


def test_export_csv_takes_the_filters_and_is_formula_safe(signed_in, merchant):
    buy(signed_in, merchant, name='=HYPERLINK("http://evil")')
    buy(signed_in, merchant, name="Tote", pay=False)
    response = signed_in.get("/dashboard/orders.csv?status=paid")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert rows[0]["product_name"].startswith("'=") and rows[0]["status"] == "paid"


def test_order_page_shows_items_amounts_and_timeline(signed_in, merchant):
    order = buy(signed_in, merchant, quantity=3)
    page = signed_in.get(f"/dashboard/orders/{order}")
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Mug × 3" in words and "€36.00" in words
    assert "Timeline" in words and "Placed" in words and "Paid" in words


def test_another_merchants_order_is_not_found(signed_in, client, store, merchant):
    other = create_account(store, "Other Shop")
    theirs = buy(client, other)
    assert signed_in.get(f"/dashboard/orders/{theirs}").status_code == 404
    assert signed_in.get(f"/dashboard/orders/{theirs}/refund").status_code == 404
    token = csrf_of(signed_in, buy(signed_in, merchant))
    refused = signed_in.post(f"/dashboard/orders/{theirs}/refund", data={"csrf_token": token})
    assert refused.status_code == 404
    assert client.get(f"/v1/orders/{theirs}", headers=other.headers).json["status"] == "paid"


def test_refund_asks_first_then_refunds_through_the_core(signed_in, client, merchant):
    order = buy(signed_in, merchant)
    confirm = signed_in.get(f"/dashboard/orders/{order}/refund")
    assert "Refund this order?" in confirm.text and "€12.00" in confirm.text
    done = submit_form(signed_in, f"/dashboard/orders/{order}/refund", form_class="refund-form")
    assert done.status_code == 303
    assert "The order was refunded." in signed_in.get(done.location).text
    assert client.get(f"/v1/orders/{order}", headers=merchant.headers).json["status"] == "refunded"


def test_refunding_an_unpaid_order_says_why(signed_in, merchant):
    token = csrf_of(signed_in, buy(signed_in, merchant))  # the browser's token, of any form
    order = buy(signed_in, merchant, pay=False)
    refused = signed_in.post(f"/dashboard/orders/{order}/refund", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "Only a paid order can be refunded" in refused.text


def csrf_of(client, order_id):
    page = client.get(f"/dashboard/orders/{order_id}/refund").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_form_without_its_token_is_refused(signed_in, client, merchant):
    order = buy(signed_in, merchant)
    refused = signed_in.post(f"/dashboard/orders/{order}/refund", data={})
    assert refused.status_code == 403
    assert client.get(f"/v1/orders/{order}", headers=merchant.headers).json["status"] == "paid"


def test_a_script_in_a_product_name_stays_text(signed_in, merchant):
    order = buy(signed_in, merchant, name="<script>alert(1)</script>")
    for url in ("/dashboard/orders", f"/dashboard/orders/{order}", "/dashboard/analytics"):
        body = signed_in.get(url).text
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_signed_out_visitors_see_no_orders(client, merchant):
    response = client.get("/dashboard/orders")
    assert response.status_code in (302, 303)
    assert "/dashboard/login" in response.location


# -- Analytics ----------------------------------------------------------------------------------


def table_rows(html: str, heading_id: str) -> list[list[str]]:
    """The body rows (cell texts) of the table in the section headed ``heading_id``."""
    section = html[html.index(f'id="{heading_id}"') :]
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    return [
        [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def numbers(html: str, css_class: str) -> list[str]:
    return re.findall(rf'class="{css_class}">([^<]*)<', html)


def test_analytics_numbers_equal_the_stats_api_for_all_time(signed_in, client, merchant):
    buy(signed_in, merchant, ref="insta", quantity=2)
    buy(signed_in, merchant, ref="insta", pay=False)
    refunded = buy(signed_in, merchant, name="Tote", amount=2500)
    submit_form(signed_in, f"/dashboard/orders/{refunded}/refund", form_class="refund-form")
    stats = client.get("/v1/stats", headers=merchant.headers).json
    page = signed_in.get("/dashboard/analytics?period=all").text
    totals = stats["totals"]
    assert numbers(page, "step-count") == [
        str(totals["impressions"]),
        str(totals["clicks"]),
        str(totals["orders"]),
        str(totals["paid_orders"]),
    ]
    assert numbers(page, "revenue") == ["€24.00"] and totals["revenue"] == {"eur": 2400}

    def expected(rows, name):
        return [
            [name(row)]
            + [str(row[k]) for k in ("impressions", "clicks", "orders", "paid_orders")]
            + [str(row["refunded_orders"])]
            for row in rows
        ]

    assert [r[:6] for r in table_rows(page, "refs-heading")] == expected(
        stats["by_ref"], lambda row: row["ref"] or "(no tag)"
    )
    assert [r[:6] for r in table_rows(page, "products-heading")] == expected(
        stats["by_product"], lambda row: row["name"]
    )
    money = {(): "—", (("eur", 0),): "€0.00", (("eur", 2400),): "€24.00"}
    assert [r[6] for r in table_rows(page, "products-heading")] == [
        money[tuple(sorted(row["revenue"].items()))] for row in stats["by_product"]
    ]


def test_analytics_of_a_period_are_the_stats_of_that_period(signed_in, store, merchant, app):
    buy(signed_in, merchant)
    page = signed_in.get("/dashboard/analytics?from=2001-01-01&to=2001-01-31").text
    with store.read() as conn:
        stats = funnel.merchant_stats(
            conn, merchant.id, period=funnel.Period(date(2001, 1, 1), date(2001, 1, 31))
        )
    assert stats["totals"]["orders"] == 0
    assert numbers(page, "step-count")[2:] == ["0", "0"]
    assert "No paid order in this period." in page


def test_analytics_of_the_last_7_days_equal_the_stats_api_from_to(signed_in, client, merchant):
    buy(signed_in, merchant, ref="insta", quantity=2)
    buy(signed_in, merchant, ref="insta", pay=False)
    today = datetime.now(UTC).date()
    since = (today - timedelta(days=6)).isoformat()
    stats = client.get(
        f"/v1/stats?from={since}&to={today.isoformat()}", headers=merchant.headers
    ).json
    page = signed_in.get("/dashboard/analytics?period=7d").text
    totals = stats["totals"]
    assert totals["orders"] == 2 and totals["paid_orders"] == 1
    assert numbers(page, "step-count") == [
        str(totals[k]) for k in ("impressions", "clicks", "orders", "paid_orders")
    ]
    assert numbers(page, "revenue") == ["€24.00"] and totals["revenue"] == {"eur": 2400}


def test_analytics_chart_is_named_and_has_its_data_table(signed_in, merchant):
    buy(signed_in, merchant, quantity=2)
    page = signed_in.get("/dashboard/analytics?period=7d").text
    svg = re.search(r"<svg[^>]*>", page).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="chart-paid-orders-title' in svg
    assert '<title id="chart-paid-orders-title">Paid orders per day</title>' in page
    assert 'table-caption">Revenue per day (EUR)</caption>' in page
    assert "<script" not in page.split("</main>")[0].split("<main")[1]
    day_rows = table_rows(page, "chart-revenue-eur-caption")
    assert len(day_rows) == 7 and day_rows[-1] == ["€24.00"]


def test_a_bad_period_falls_back_and_says_so(signed_in, merchant):
    page = signed_in.get("/dashboard/analytics?period=fortnight&from=&to=")
    assert page.status_code == 200 and 'id="e-period"' in page.text
    backwards = signed_in.get("/dashboard/analytics?from=2025-02-10&to=2025-02-01")
    assert 'id="e-to"' in backwards.text


SHIPS = {"countries": ["FR"], "rates": [{"id": "colissimo", "name": "Colissimo", "amount": 490}]}


def buy_shippable(client, make_product, make_token):
    token = make_token(make_product(name="Poster", shipping=SHIPS))
    started = client.post("/v1/checkout", json={"token": token, "quantity": 1})
    assert started.status_code == 201, started.json
    paid = submit_form(
        client,
        started.json["checkout_url"],
        {
            "card_number": "4242 4242 4242 4242",
            "email": "ada@example.org",
            "name": "Ada Lovelace",
            "address_line1": "12 rue de la Paix",
            "address_city": "Paris",
            "address_postal_code": "75002",
            "address_country": "FR",
            "shipping_rate": "colissimo",
        },
        form_class="card-form",
    )
    assert paid.status_code == 303, paid.text
    return started.json["order_id"]


def test_mark_as_shipped_then_delivered_through_the_core(
    signed_in, client, merchant, make_product, make_token
):
    order = buy_shippable(signed_in, make_product, make_token)
    page = signed_in.get(f"/dashboard/orders/{order}").text
    assert "Mark as shipped" in page and "To ship" in page
    words = text_of(page)
    assert "Ada Lovelace" in words and "75002 PARIS" in words and "€4.90 (Colissimo)" in words
    assert "€16.90" in words  # 12.00 + 4.90 shipping
    shipped = submit_form(
        signed_in,
        f"/dashboard/orders/{order}",
        {
            "carrier": "La Poste",
            "tracking_number": "6A123",
            "tracking_url": "https://t.example/6A123",
        },
        form_class="ship-form",
    )
    assert shipped.status_code == 303
    after = signed_in.get(shipped.location).text
    assert "The order is marked as shipped." in after and "La Poste" in after
    api = client.get(f"/v1/orders/{order}", headers=merchant.headers).json["fulfillment"]
    assert (api["status"], api["carrier"], api["tracking_number"]) == (
        "shipped",
        "La Poste",
        "6A123",
    )
    token = re.search(r'name="csrf_token" value="([^"]+)"', after).group(1)
    delivered = signed_in.post(f"/dashboard/orders/{order}/deliver", data={"csrf_token": token})
    assert delivered.status_code == 303
    final = text_of(signed_in.get(delivered.location).text)
    assert "Delivered" in final and "Shipped" in final  # both in the timeline
    assert (
        client.get(f"/v1/orders/{order}", headers=merchant.headers).json["fulfillment"]["status"]
        == "delivered"
    )


def test_a_bad_tracking_url_is_said_next_to_the_field_and_keeps_the_input(
    signed_in, make_product, make_token
):
    order = buy_shippable(signed_in, make_product, make_token)
    refused = submit_form(
        signed_in,
        f"/dashboard/orders/{order}",
        {"carrier": "La Poste", "tracking_url": "javascript:alert(1)"},
        form_class="ship-form",
    )
    assert refused.status_code == 400
    assert 'id="e-tracking_url"' in refused.text
    assert 'value="La Poste"' in refused.text and 'aria-invalid="true"' in refused.text


def test_the_pages_speak_french(signed_in, merchant):
    order = buy(signed_in, merchant)
    orders_page = signed_in.get("/dashboard/orders?lang=fr").text
    assert '<html lang="fr">' in orders_page and "Exporter en CSV" in orders_page
    assert "Payée" in orders_page and "12,00\u00a0€" in orders_page
    order_page = text_of(signed_in.get(f"/dashboard/orders/{order}").text)  # the cookie remembers
    assert "Historique" in order_page and "Articles et montants" in order_page
    analytics_page = text_of(signed_in.get("/dashboard/analytics").text)
    assert "Entonnoir" in analytics_page and "Commandes payées par jour" in analytics_page


def test_resend_receipt_queues_the_buyers_receipt_again(signed_in, store, merchant):
    order = buy(signed_in, merchant)
    with store.read() as conn:
        before = conn.execute(
            select(func.count())
            .select_from(mail_deliveries)
            .where(mail_deliveries.c.order_id == order, mail_deliveries.c.kind == "receipt")
        ).scalar_one()
    sent = submit_form(signed_in, f"/dashboard/orders/{order}", form_class="resend-form")
    assert sent.status_code == 303
    assert "The receipt is on its way to the buyer again." in signed_in.get(sent.location).text
    with store.read() as conn:
        rows = conn.execute(
            select(mail_deliveries.c.to_address, mail_deliveries.c.status).where(
                mail_deliveries.c.order_id == order, mail_deliveries.c.kind == "receipt"
            )
        ).all()
    assert len(rows) == before + 1 and rows[-1] == ("Ada@example.org", "pending")
