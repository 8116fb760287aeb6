"""The share page /p/TOKEN: every tag a feed reads, escaped, for hostile product text."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

BASE = "http://shop.test"


@pytest.fixture
def database_url(sqlite_url):
    """Rendering, not storage, is under test here: SQLite only (feeds and referrals, which
    query, run on PostgreSQL too)."""
    return sqlite_url


HOSTILE = [
    pytest.param(
        "Mug \"quoted\" & 'single' <b>bold</b>",
        "Plain <i>tags</i> & entities &amp;",
        id="quotes-and-tags",
    ),
    pytest.param(
        "</script><script>alert(1)</script>",
        "</script><!-- <script> --> </SCRIPT >",
        id="script-breakout",
    ),
    pytest.param("Tasse ☕ 🎉 déjà vu", "Emoji 👩‍👩‍👧‍👦 and combining é̃", id="emoji"),
    pytest.param("كوب قهوة \u202eevil\u202c", "نص من اليمين إلى اليسار \u200f", id="rtl"),
    pytest.param("N" * 200, "🎉" * 2500, id="10kB-description"),
]


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html5lib")


def meta(soup, key: str, attr: str = "property") -> list[str]:
    return [tag["content"] for tag in soup.find_all("meta", attrs={attr: key})]


@pytest.mark.parametrize("name, description", HOSTILE)
def test_share_page_tags_carry_hostile_text_exactly_and_escaped(
    client, make_product, make_token, name, description
):
    product = make_product(name=name, description=description, image_url="https://img.test/m.jpg")
    token = make_token(product)
    response = client.get(f"/p/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    soup = soup_of(response)
    share_url = f"{BASE}/p/{token}"
    summary = " ".join(description.split())
    summary = summary if len(summary) <= 300 else summary[:299].rstrip() + "…"

    # Open Graph: the parser gives back exactly the text stored (so it was escaped right).
    assert meta(soup, "og:type") == ["product"]
    assert meta(soup, "og:title") == [name]
    assert meta(soup, "og:description") == [summary]
    assert meta(soup, "og:url") == [share_url]
    assert meta(soup, "og:site_name") == ["Test Shop"]
    assert meta(soup, "og:image") == ["https://img.test/m.jpg", f"{share_url}/card.png"]
    assert meta(soup, "og:image:width") == ["1200"] and meta(soup, "og:image:height") == ["630"]
    for prefix in ("product", "og"):
        assert meta(soup, f"{prefix}:price:amount") == ["12.00"]
        assert meta(soup, f"{prefix}:price:currency") == ["EUR"]
    assert meta(soup, "product:availability") == ["in stock"]
    assert meta(soup, "og:availability") == ["instock"]
    # Twitter/X
    assert meta(soup, "twitter:card", "name") == ["summary_large_image"]
    assert meta(soup, "twitter:title", "name") == [name]
    assert meta(soup, "twitter:description", "name") == [summary]
    assert meta(soup, "twitter:image", "name") == ["https://img.test/m.jpg"]
    assert meta(soup, "twitter:label1", "name") == ["Price"]
    assert meta(soup, "twitter:data1", "name") == ["€12.00"]
    assert meta(soup, "twitter:data2", "name") == ["In stock"]
    # canonical and oEmbed discovery
    assert soup.find("link", rel="canonical")["href"] == share_url
    assert soup.find("link", type="application/json+oembed")["href"].startswith(
        f"{BASE}/oembed?url="
    )
    # JSON-LD: one data block, parsed back to the same values, with no breakout possible.
    blocks = soup.find_all("script", type="application/ld+json")
    assert len(blocks) == 1
    data = json.loads(blocks[0].string)
    assert data["@type"] == "Product" and data["name"] == name
    assert data["description"] == description
    assert data["offers"] == {
        **data["offers"],
        "@type": "Offer",
        "price": "12.00",
        "priceCurrency": "EUR",
        "url": share_url,
        "availability": "https://schema.org/InStock",
    }
    raw_block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in raw_block and ">" not in raw_block and "&" not in raw_block
    # The only executable script is the widget: hostile text made no script element.
    scripts = [s for s in soup.find_all("script") if s.get("type") != "application/ld+json"]
    assert sorted(s.get("src") for s in scripts) == ["/static/share.js", "/widget.js"]
    assert all(not s.string for s in scripts)
    # Visible text, exactly.
    assert soup.find("h1", class_="product-name").get_text() == name
    assert soup.find("p", class_="product-description").get_text() == description
    assert soup.title.get_text() == f"{name} · Test Shop"


def test_share_page_buy_button_is_widget_with_plain_link_fallback(client, make_product, make_token):
    token = make_token(make_product())
    soup = soup_of(client.get(f"/p/{token}"))
    button = soup.find("buy-button")
    assert button["token"] == token
    link = button.find("a", class_="pay")
    assert link["href"] == f"{BASE}/buy/{token}"
    assert "€12.00" in link.get_text()
    assert soup.find("script", src="/widget.js").has_attr("async")
    assert soup.find("strong", class_="price-amount").get_text() == "€12.00"
    assert soup.find(class_="availability").get_text() == "In stock"
    # The fallback link really leads to a buy page for this token.
    assert client.get(link["href"]).status_code == 200


def test_share_page_has_share_box_and_strict_csp(client, make_product, make_token):
    token = make_token(make_product())
    response = client.get(f"/p/{token}?ref=friend-1")
    soup = soup_of(response)
    box = soup.find("section", class_="share-box")
    assert box["data-url"] == f"{BASE}/p/{token}?ref=friend-1"
    assert soup.find("input", class_="share-link")["value"] == box["data-url"]
    assert soup.find("button", class_="share-button").has_attr("hidden")  # shown by share.js
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert not soup.find(style=True)  # no inline styles
    assert client.get("/static/share.js").status_code == 200


def test_share_page_carries_ref_to_buy_link_but_not_canonical(client, make_product, make_token):
    token = make_token(make_product(), ref="campaign")
    soup = soup_of(client.get(f"/p/{token}?ref=friend%20one"))
    assert soup.find("buy-button").find("a")["href"] == f"{BASE}/buy/{token}?ref=friend+one"
    assert soup.find("buy-button")["ref"] == "friend one"
    assert soup.find("link", rel="canonical")["href"] == f"{BASE}/p/{token}"
    assert meta(soup, "og:url") == [f"{BASE}/p/{token}"]


def test_share_page_drops_an_invalid_ref_instead_of_failing(client, make_product, make_token):
    token = make_token(make_product())
    response = client.get(f"/p/{token}?ref=" + "x" * 65)
    assert response.status_code == 200
    assert soup_of(response).find("buy-button").find("a")["href"] == f"{BASE}/buy/{token}"


def test_share_page_of_sold_out_product_says_so_everywhere(client, make_product, make_token):
    token = make_token(make_product(stock=0))
    soup = soup_of(client.get(f"/p/{token}"))
    assert meta(soup, "product:availability") == ["out of stock"]
    assert meta(soup, "og:availability") == ["out of stock"]
    data = json.loads(soup.find("script", type="application/ld+json").string)
    assert data["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert soup.find("buy-button").find("a") is None
    assert soup.find("buy-button").get_text(strip=True) == "Sold out"


def test_share_page_without_product_image_uses_the_card_image(client, make_product, make_token):
    token = make_token(make_product())
    soup = soup_of(client.get(f"/p/{token}"))
    assert meta(soup, "og:image") == [f"{BASE}/p/{token}/card.png"]
    assert meta(soup, "twitter:image", "name") == [f"{BASE}/p/{token}/card.png"]


def test_share_page_prices_zero_decimal_currencies_plainly(client, make_product, make_token):
    token = make_token(make_product(amount=1200, currency="jpy"))
    soup = soup_of(client.get(f"/p/{token}"))
    assert meta(soup, "product:price:amount") == ["1200"]
    assert meta(soup, "og:price:currency") == ["JPY"]


def test_forged_token_gets_404_page_with_noindex(client):
    response = client.get("/p/not-a-real-token")
    assert response.status_code == 404
    soup = soup_of(response)
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert "no longer available" in soup.h1.get_text()
    assert not soup.find("meta", property="og:title")


def test_expired_token_gets_410_page(client, make_product, signer):
    from buybutton import catalog

    claims = catalog.offer_claims(make_product(), expires_at=1)
    response = client.get(f"/p/{signer.issue_token(claims)}")
    assert response.status_code == 410
    soup = soup_of(response)
    assert soup.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert soup.find(class_="message")["data-code"] == "token_expired"


def test_revoked_token_gets_410_page(client, merchant, make_product, make_token):
    product = make_product()
    token = make_token(product)
    assert (
        client.post(
            f"/v1/products/{product.id}/revoke_tokens", headers=merchant.headers
        ).status_code
        == 200
    )
    response = client.get(f"/p/{token}")
    assert response.status_code == 410
    assert soup_of(response).find(class_="message")["data-code"] == "token_revoked"


def test_card_image_is_a_1200x630_png(client, make_product, make_token):
    import io

    from PIL import Image

    token = make_token(make_product(name="Tasse ☕ </script>"))
    response = client.get(f"/p/{token}/card.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.data)).size == (1200, 630)
    assert response.headers["ETag"]
    again = client.get(f"/p/{token}/card.png", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_share_page_og_locale_only_with_a_territory(client, make_product, make_token):
    token = make_token(make_product())
    assert meta(
        soup_of(client.get(f"/p/{token}", headers={"Accept-Language": "fr-CA"})), "og:locale"
    ) == ["fr_CA"]
    french = soup_of(client.get(f"/p/{token}", headers={"Accept-Language": "fr"}))
    assert meta(french, "og:locale") == []
    assert french.html["lang"] == "fr"
    assert french.find("strong", class_="price-amount").get_text() == "12,00\u00a0€"


def test_share_page_markup_has_shipping_return_policy_ids_and_price_validity(
    client, store, merchant, make_product, make_token
):
    from buybutton import merchants

    with store.transaction() as conn:
        merchants.update_merchant(
            conn, merchant.id, {"return_policy": {"days": 30, "text": "Unused items."}}
        )
    product = make_product(
        sku="MUG-BLUE",
        gtin="4006381333931",
        mpn="M-1",
        brand="Atelier Bleu",
        shipping={
            "countries": ["FR", "BE"],
            "rates": [
                {
                    "id": "colissimo",
                    "name": "Colissimo",
                    "amount": 490,
                    "delivery_estimate": {"min_days": 2, "max_days": 4},
                },
                {"id": "pickup", "name": "Pick-up", "amount": 0},
            ],
        },
    )
    token = make_token(product, expires_in=86400 * 10)
    soup = soup_of(client.get(f"/p/{token}"))
    data = json.loads(soup.find("script", type="application/ld+json").string)
    assert (data["sku"], data["gtin"], data["mpn"]) == ("MUG-BLUE", "4006381333931", "M-1")
    assert data["brand"] == {"@type": "Brand", "name": "Atelier Bleu"}
    offer = data["offers"]
    first, second = offer["shippingDetails"]
    assert first == {
        "@type": "OfferShippingDetails",
        "name": "Colissimo",
        "shippingRate": {"@type": "MonetaryAmount", "value": "4.90", "currency": "EUR"},
        "shippingDestination": [
            {"@type": "DefinedRegion", "addressCountry": "FR"},
            {"@type": "DefinedRegion", "addressCountry": "BE"},
        ],
        "deliveryTime": {
            "@type": "ShippingDeliveryTime",
            "transitTime": {
                "@type": "QuantitativeValue",
                "minValue": 2,
                "maxValue": 4,
                "unitCode": "DAY",
            },
        },
    }
    assert second["shippingRate"]["value"] == "0.00" and "deliveryTime" not in second
    assert offer["hasMerchantReturnPolicy"] == {
        "@type": "MerchantReturnPolicy",
        "applicableCountry": ["FR", "BE"],
        "returnPolicyCategory": "https://schema.org/MerchantReturnFiniteReturnWindow",
        "merchantReturnDays": 30,
        "description": "Unused items.",
    }
    assert len(offer["priceValidUntil"]) == 10 and offer["priceValidUntil"][4] == "-"


def test_share_page_markup_of_a_plain_product_claims_nothing_more(client, make_product, make_token):
    soup = soup_of(client.get(f"/p/{make_token(make_product())}"))
    data = json.loads(soup.find("script", type="application/ld+json").string)
    assert not {"sku", "gtin", "mpn"} & set(data)
    assert not {"shippingDetails", "hasMerchantReturnPolicy", "priceValidUntil"} & set(
        data["offers"]
    )
