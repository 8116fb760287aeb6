"""What the order page shows, in the shopper's language: the receipt (shop, item, amounts,
address, returns) and the tracker (a timeline from the order to its delivery or refund)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from buybutton.addresses import country_name
from buybutton.merchants import Merchant
from buybutton.money import Money
from buybutton.orders import Order

from .i18n import PageText


@dataclass(frozen=True)
class Step:
    """One step of the timeline: ``done`` ones have a time; ``current`` is the latest done."""

    key: str
    label: str
    at: str | None = None
    done: bool = False
    current: bool = False
    details: tuple[str, ...] = ()
    link: tuple[str, str] | None = None  # (url, label)


@dataclass(frozen=True)
class AmountLine:
    label: str
    amount: str
    key: str
    total: bool = False


@dataclass(frozen=True)
class OrderView:
    heading: str
    status: str
    steps: tuple[Step, ...]
    amounts: tuple[AmountLine, ...]
    address: tuple[str, ...] = ()
    shipping_method: str | None = None
    return_days: int | None = None
    return_policy: str | None = None
    support_email: str | None = None
    shop_name: str = ""


def _status(order: Order, t: PageText) -> str:
    """The order's state in words."""
    if order.status == "paid":
        return {
            "unfulfilled": t.gettext("Paid, being prepared"),
            "shipped": t.gettext("Shipped"),
            "delivered": t.gettext("Delivered"),
        }.get(order.fulfillment.status, t.gettext("Paid"))
    return {
        "pending": t.gettext("Waiting for payment"),
        "expired": t.gettext("Expired: nothing was charged"),
        "canceled": t.gettext("Canceled: nothing was charged"),
        "refunded": t.gettext("Refunded"),
    }[order.status]


def _heading(order: Order, checkout: str | None, t: PageText) -> str:
    if order.status == "pending" and checkout == "success":
        return t.gettext("Payment received, confirming…")
    if order.status == "paid":
        return {
            "shipped": t.gettext("Your order is on its way"),
            "delivered": t.gettext("Your order was delivered"),
        }.get(order.fulfillment.status, t.gettext("Thank you! Your order is paid."))
    return {
        "pending": t.gettext("Waiting for payment"),
        "expired": t.gettext("This checkout expired"),
        "canceled": t.gettext("Checkout canceled"),
        "refunded": t.gettext("This order was refunded"),
    }[order.status]


def _steps(order: Order, t: PageText) -> list[Step]:
    steps = [Step("placed", t.gettext("Order placed"), t.moment(order.created_at), done=True)]
    if order.status in ("expired", "canceled"):
        label = (
            t.gettext("Checkout expired")
            if order.status == "expired"
            else t.gettext("Checkout canceled")
        )
        steps.append(Step(order.status, label, t.moment(order.updated_at), done=True))
        return steps
    paid = order.paid_at is not None
    steps.append(
        Step(
            "paid",
            t.gettext("Paid") if paid else t.gettext("Waiting for payment"),
            t.moment(order.paid_at) if order.paid_at is not None else None,
            done=paid,
        )
    )
    fulfillment = order.fulfillment
    ships = fulfillment.status != "not_required"
    refunded = order.status == "refunded"
    if ships and (not refunded or fulfillment.shipped_at is not None):
        details = []
        if fulfillment.carrier:
            details.append(t.gettext("Carrier: %(carrier)s", carrier=fulfillment.carrier))
        if fulfillment.tracking_number:
            details.append(
                t.gettext("Tracking number: %(number)s", number=fulfillment.tracking_number)
            )
        steps.append(
            Step(
                "shipped",
                t.gettext("Shipped"),
                t.moment(fulfillment.shipped_at) if fulfillment.shipped_at is not None else None,
                done=fulfillment.shipped_at is not None,
                details=tuple(details),
                link=(
                    (fulfillment.tracking_url, t.gettext("Track your parcel"))
                    if fulfillment.tracking_url
                    else None
                ),
            )
        )
        if not refunded or fulfillment.delivered_at is not None:
            steps.append(
                Step(
                    "delivered",
                    t.gettext("Delivered"),
                    t.moment(fulfillment.delivered_at)
                    if fulfillment.delivered_at is not None
                    else None,
                    done=fulfillment.delivered_at is not None,
                )
            )
    if refunded:
        steps.append(Step("refunded", t.gettext("Refunded"), t.moment(order.updated_at), True))
    last_done = max(i for i, step in enumerate(steps) if step.done)
    steps[last_done] = replace(steps[last_done], current=True)
    return steps


def _amounts(order: Order, t: PageText) -> list[AmountLine]:
    locale = t.locale

    def money(amount: int) -> str:
        return Money(amount, order.currency).format(locale)

    lines = [AmountLine(t.gettext("Subtotal"), money(order.amount_subtotal), "subtotal")]
    if order.shipping is not None:
        lines.append(AmountLine(t.gettext("Shipping"), money(order.amount_shipping), "shipping"))
    paid = order.amount_paid
    if paid is not None and order.paid_at is not None and paid < order.amount_total:
        discount = order.amount_total - paid
        lines.append(AmountLine(t.gettext("Discount"), "−" + money(discount), "discount"))
        lines.append(AmountLine(t.gettext("Total paid"), money(paid), "total", total=True))
    else:
        lines.append(AmountLine(t.gettext("Total"), money(order.amount_total), "total", True))
    if order.status == "refunded":
        refunded = order.amount_total if paid is None else paid
        lines.append(AmountLine(t.gettext("Refunded"), money(refunded), "refunded"))
    return lines


def _address(order: Order, t: PageText) -> tuple[str, ...]:
    shipping = order.shipping
    if shipping is None:
        return ()
    a = shipping.address
    try:
        country = country_name(a.country, t.locale)
    except ValueError:
        country = a.country
    city = " ".join(part for part in (a.postal_code, a.city) if part)
    return tuple(line for line in (shipping.name, a.line1, a.line2, city, a.state, country) if line)


def order_view(
    order: Order,
    merchant: Merchant | None,
    t: PageText,
    *,
    checkout: str | None = None,
) -> OrderView:
    """The order page of ``order`` in ``t``'s language (``checkout``: ``?checkout=`` of a
    shopper just back from the payment page)."""
    policy = merchant.return_policy if merchant else None
    return OrderView(
        heading=_heading(order, checkout, t),
        status=_status(order, t),
        steps=tuple(_steps(order, t)),
        amounts=tuple(_amounts(order, t)),
        address=_address(order, t),
        shipping_method=order.shipping.rate_name if order.shipping else None,
        return_days=policy.days if policy and order.paid_at is not None else None,
        return_policy=policy.text if policy and order.paid_at is not None else None,
        support_email=merchant.support_email if merchant else None,
        shop_name=merchant.name if merchant else "",
    )
