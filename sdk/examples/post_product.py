"""Sell a product from a social post: create it, mint a token tagged with the post, and print
a caption whose link unfurls as a product card with a Buy button.

    BUYBUTTON_API_KEY=bb_sk_… BUYBUTTON_URL=https://buy.example.com \\
        python post_product.py --name "Blue mug" --amount 1200 --currency eur --ref insta-post-42

The idempotency keys are derived from ``--ref``: running the script twice for the same post
(within 24 hours) returns the same product and link instead of creating a second product.
"""

from __future__ import annotations

import argparse
import os
import sys

from buybutton_sdk import BuyButtonError, Client, Product, Token


def post_product(
    bb: Client,
    *,
    name: str,
    amount: int,
    currency: str,
    ref: str,
    stock: int | None = None,
    image_url: str | None = None,
    days: int = 7,
) -> tuple[Product, Token]:
    """Create the product and a token for the post ``ref``, valid ``days`` days."""
    product = bb.products.create(
        name=name,
        amount=amount,
        currency=currency,
        stock=stock,
        image_url=image_url,
        idempotency_key=f"post-{ref}-product",
    )
    token = bb.tokens.create(
        product.id, ref=ref, expires_in=days * 86400, idempotency_key=f"post-{ref}-token"
    )
    return product, token


def caption(product: Product, token: Token) -> str:
    """The text of the post: the link is what social networks turn into a product card."""
    return f"New in the shop: {product.name}! Tap to buy in one click: {token.share_url}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create a product and print a post's caption.")
    parser.add_argument("--name", required=True)
    parser.add_argument("--amount", type=int, required=True, help="minor units: 1200 = 12.00")
    parser.add_argument("--currency", required=True, help="ISO code, e.g. eur")
    parser.add_argument("--ref", required=True, help="names the post, e.g. insta-post-42")
    parser.add_argument("--stock", type=int)
    parser.add_argument("--image-url")
    args = parser.parse_args(argv)
    try:
        api_key, base_url = os.environ["BUYBUTTON_API_KEY"], os.environ["BUYBUTTON_URL"]
    except KeyError as missing:
        parser.error(f"set {missing.args[0]} in the environment")
    with Client(api_key=api_key, base_url=base_url) as bb:
        try:
            product, token = post_product(
                bb,
                name=args.name,
                amount=args.amount,
                currency=args.currency,
                ref=args.ref,
                stock=args.stock,
                image_url=args.image_url,
            )
        except BuyButtonError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    print(caption(product, token))
    print(f"\nProduct: {product.id}\nWeb page snippet:\n{token.snippet}\nQR code: {token.qr_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
