"""The core of the social surfaces: refs, referral tags, share-URL parsing, oEmbed sizing,
feeds' XML hygiene, QR and card images (no web server involved)."""

from __future__ import annotations

import io
from xml.etree import ElementTree

import pytest
from PIL import Image

from buybutton import feeds, qrcodes, social
from buybutton.card_image import render_card_image
from buybutton.errors import InvalidRequest, NotFound
from buybutton.money import Money


@pytest.mark.parametrize("ref", ["a", "x" * 64, "insta-42", "كوب", "🎉 launch"])
def test_validate_ref_accepts_printable_tags_up_to_64(ref):
    assert social.validate_ref(ref) == ref


@pytest.mark.parametrize("ref", ["", "x" * 65, None, 7, "a\nb", "\x00"])
def test_validate_ref_rejects_the_rest_naming_the_param(ref):
    with pytest.raises(InvalidRequest) as raised:
        social.validate_ref(ref)
    assert raised.value.param == "ref"
    assert social.clean_ref(ref) is None


def test_with_ref_url_encodes():
    assert social.with_ref("http://s.test/p/T", "a b&c") == "http://s.test/p/T?ref=a+b%26c"
    assert social.with_ref("http://s.test/p/T", None) == "http://s.test/p/T"


def test_referral_tag_is_keyed_stable_and_opaque():
    tag = social.referral_tag("ord_abc", "secret")
    assert tag == social.referral_tag("ord_abc", "secret")
    assert tag != social.referral_tag("ord_abd", "secret")
    assert tag != social.referral_tag("ord_abc", "other-secret")
    assert tag.startswith("fr-") and len(tag) == 15 and "abc" not in tag[3:]
    assert social.validate_ref(tag) == tag


@pytest.mark.parametrize(
    "url, base, token",
    [
        ("http://shop.test/p/TOK", "http://shop.test", "TOK"),
        ("https://SHOP.test/embed/TOK?ref=x", "https://shop.test", "TOK"),
        ("https://x.test/shop/p/TOK", "https://x.test/shop", "TOK"),
        ("https://x.test/shop/p/TOK/", "https://x.test/shop/", "TOK"),
    ],
)
def test_token_from_share_url_finds_our_tokens(url, base, token):
    assert social.token_from_share_url(url, base) == token


@pytest.mark.parametrize(
    "url",
    [
        "https://x.test/p/TOK",
        "https://x.test/other/p/TOK",
        "https://x.test/shop/p/TOK/qr.svg",
        "https://x.test.evil/shop/p/TOK",
        "javascript:alert(1)",
        None,
        "",
        "https://x.test/shopp/p/TOK",
    ],
)
def test_token_from_share_url_refuses_everything_else(url):
    with pytest.raises(NotFound):
        social.token_from_share_url(url, "https://x.test/shop")


def test_embed_size_never_exceeds_bounds_and_refuses_tiny_ones():
    assert social.embed_size(None, None) == (social.EMBED_WIDTH, social.EMBED_HEIGHT)
    assert social.embed_size(250, 300) == (250, 300)
    assert social.embed_size(5000, 5000) == (social.EMBED_WIDTH, social.EMBED_HEIGHT)
    with pytest.raises(NotFound):
        social.embed_size(199, None)
    with pytest.raises(NotFound):
        social.embed_size(None, 100)


def test_oembed_thumbnail_keeps_aspect_ratio_within_bounds():
    answer = social.oembed_response(
        title="T",
        share_url="u",
        embed_url="e",
        provider_name="P",
        provider_url="pu",
        author_name="A",
        thumbnail=("t.png", 1200, 630),
        maxwidth=300,
    )
    assert (answer["thumbnail_width"], answer["thumbnail_height"]) == (300, 157)


def test_oembed_xml_round_trips_markup():
    root = ElementTree.fromstring(social.oembed_xml({"title": "<a & b>", "width": 3}))
    assert root.findtext("title") == "<a & b>" and root.findtext("width") == "3"


def test_share_tags_summary_is_short_but_jsonld_is_whole():
    tags = social.share_tags(
        title="T",
        description="word " * 200,
        url="u",
        site_name="S",
        money=Money(1999, "usd"),
        available=True,
        images=[],
    )
    assert len(tags["description"]) == social.SUMMARY_LENGTH
    assert tags["jsonld"]["description"] == "word " * 200
    assert ("og:price:amount", "19.99") in tags["og"]
    assert not any(key == "twitter:image" for key, _ in tags["twitter"])


def test_feed_rss_drops_characters_xml_cannot_carry():
    feed = feeds.Feed(
        "mch_1",
        "Shop\x0b",
        [
            feeds.FeedItem(
                id="prod_1",
                title="Bell\x07 mug",
                description="tab\tnew\nline",
                availability="in stock",
                condition="new",
                price="12.00 EUR",
                link="l",
                image_link="i",
                brand="Shop",
            )
        ],
    )
    root = ElementTree.fromstring(feeds.feed_rss(feed, link="http://s.test/"))
    item = root.find("channel/item")
    assert item.findtext(f"{{{feeds.GOOGLE_NS}}}title") == "Bell mug"
    assert item.findtext(f"{{{feeds.GOOGLE_NS}}}description") == "tab\tnew\nline"


def test_qr_code_rejects_unknown_kinds():
    with pytest.raises(InvalidRequest):
        qrcodes.qr_code("x", "gif")


@pytest.mark.parametrize(
    "title", ["", "x" * 500, "Supercalifragilistic" * 10, "🎉 كوب ☕ </script>"]
)
def test_card_image_renders_any_title(title):
    png = render_card_image(
        title=title, price="12.00 EUR", shop="Shop " * 50, url="http://s/p/T", sold_out=True
    )
    assert Image.open(io.BytesIO(png)).size == (social.CARD_IMAGE_WIDTH, social.CARD_IMAGE_HEIGHT)
