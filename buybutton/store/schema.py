"""The tables, as SQLAlchemy Core objects. Migrations (``migrations/versions``) create them.

Every table has an integer ``pk`` (insertion order, used for stable pagination) and, where the
outside world names a row, a random public ``id`` with a type prefix. Times are integer Unix
seconds and money is integer minor units, which every database stores exactly.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)

metadata = MetaData()

merchants = Table(
    "merchants",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("api_key_hash", String(64), nullable=False, unique=True),
    Column("api_key_last4", String(4), nullable=False),
    Column("created_at", Integer, nullable=False),
    # JSON list of the merchant's own web origins (migration 0007): return links and the
    # widget's postMessage target are honored only for these.
    Column("allowed_origins", Text),
    # Who the shop is to its buyers (migration 0012): where "new order" notifications go, the
    # address shown to shoppers for help, and the return policy (text, and days to return).
    Column("email", String(254)),
    Column("support_email", String(254)),
    Column("return_policy_text", Text),
    Column("return_policy_days", Integer),
)

products = Table(
    "products",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("image_url", String(2048)),
    Column("amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("stock", Integer),  # NULL: unlimited
    Column("active", Boolean, nullable=False, default=True),
    Column("allow_promotion_codes", Boolean, nullable=False, default=False),
    # Listed in the public catalog feeds; off unless the merchant opts in (migration 0008).
    Column("in_feed", Boolean, nullable=False, default=False, server_default=false()),
    Column("token_generation", Integer, nullable=False, default=1),
    Column("deleted_at", Integer),
    # Against hoarding (migration 0006): units one order may take, and how long an unpaid order
    # holds its stock (NULL: the server's BUYBUTTON_CHECKOUT_TTL_SECONDS).
    Column("max_per_order", Integer, nullable=False, default=10, server_default=text("10")),
    Column("hold_seconds", Integer),
    Column("created_at", Integer, nullable=False),
    Column("updated_at", Integer, nullable=False),
    # Physical goods (migration 0012): a JSON {"countries": [...], "rates": [...]}; NULL: the
    # product does not ship. Identifiers for merchant listings, each optional.
    Column("shipping", Text),
    Column("sku", String(64)),
    Column("gtin", String(14)),
    Column("mpn", String(70)),
    Column("brand", String(70)),
    # Digital goods (migration 0014): the product's one file, by its storage key (the SHA-256
    # of its bytes; several products may share one), the name shoppers download it as, its
    # size and sniffed type; and whether each paid order gets a licence key.
    Column("file_key", String(64), index=True),
    Column("file_name", String(255)),
    Column("file_size", BigInteger),
    Column("file_type", String(255)),
    Column("file_uploaded_at", Integer),
    Column("license_keys", Boolean, nullable=False, default=False, server_default=false()),
)

orders = Table(
    "orders",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False),
    Column("product_id", String(32), ForeignKey("products.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_amount", Integer, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("ref", String(64)),
    # The shopper-side idempotency key of POST /v1/checkout: a retried click finds its order.
    Column("checkout_key", String(255), unique=True),
    Column("stock_reserved", Boolean, nullable=False, default=False),
    Column("provider", String(16), nullable=False),
    Column("provider_session_id", String(255), unique=True),
    Column("checkout_url", String(2048)),
    Column("payment_id", String(255)),
    Column("amount_paid", Integer),
    Column("flag", String(64)),  # why a payment did not move the order (e.g. amount_mismatch)
    Column("created_at", Integer, nullable=False),
    Column("updated_at", Integer, nullable=False),
    Column("paid_at", Integer),
    Column("expires_at", Integer, nullable=False),
    # Who holds the stock: a keyed hash of the shopper's address (never the address itself), so
    # the units one client holds in pending orders can be capped (migration 0006).
    Column("client_key", String(64)),
    # When a shopper page last asked the provider about this order (migration 0007).
    Column("provider_checked_at", Integer),
    # The widget's checkout id: the random id of one click on a <buy-button>, nothing about the
    # shopper; GET /v1/checkouts/<id> tells that button how its checkout ended (migration 0018).
    Column("checkout_id", String(32)),
    # The shopper's language at checkout (``fr``, ``pt_BR``): their mail is written in it
    # (migration 0013). NULL: English.
    Column("locale", String(35)),
    # The buyer and where the goods go (migration 0012), recorded with the payment.
    Column("customer_email", String(254)),
    Column("customer_name", String(200)),
    Column("customer_phone", String(40)),
    Column("shipping_name", String(200)),
    Column("shipping_line1", String(200)),
    Column("shipping_line2", String(200)),
    Column("shipping_city", String(100)),
    Column("shipping_postal_code", String(20)),
    Column("shipping_state", String(100)),
    Column("shipping_country", String(2)),
    Column("shipping_rate_id", String(64)),
    Column("shipping_rate_name", String(100)),
    # What shipping cost (minor units, included in what the buyer paid); 0 until a rate is chosen.
    Column("amount_shipping", Integer, nullable=False, default=0, server_default=text("0")),
    # not_required (nothing ships) | unfulfilled | shipped | delivered (buybutton/orders.py).
    Column(
        "fulfillment_status",
        String(16),
        nullable=False,
        default="not_required",
        server_default="not_required",
    ),
    Column("carrier", String(100)),
    Column("tracking_number", String(100)),
    Column("tracking_url", String(2048)),
    Column("shipped_at", Integer),
    Column("delivered_at", Integer),
    Index("ix_orders_merchant_pk", "merchant_id", "pk"),
    # One per filter of GET /v1/orders, newest first within it (migration 0015).
    Index("ix_orders_merchant_status_pk", "merchant_id", "status", "pk"),
    Index("ix_orders_merchant_ref_pk", "merchant_id", "ref", "pk"),
    Index("ix_orders_merchant_product_pk", "merchant_id", "product_id", "pk"),
    Index("ix_orders_merchant_created", "merchant_id", "created_at", "pk"),
    Index("ix_orders_client_status", "client_key", "status"),
    Index("ix_orders_status_expires", "status", "expires_at"),
    # A refund webhook names the payment, not the order (migration 0005).
    Index("ix_orders_payment_id", "payment_id"),
    Index("ix_orders_checkout_id", "checkout_id"),
    # GET /v1/orders?fulfillment=unfulfilled: what remains to ship (migration 0012).
    Index("ix_orders_merchant_fulfillment", "merchant_id", "fulfillment_status", "pk"),
    # The dashboard's search by the buyer's email, in any letter case (migration 0017).
    Index("ix_orders_merchant_email", "merchant_id", func.lower(text("customer_email"))),
)

# What a paid order entitles its shopper to (migration 0014): made once, in the transaction that
# marks the order paid (order_id is unique). Downloads are counted by one conditional UPDATE
# (downloads_used < downloads_allowed), so concurrent downloads can never exceed the count.
entitlements = Table(
    "entitlements",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False),
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False),
    Column("product_id", String(32), ForeignKey("products.id"), nullable=False),
    Column("license_key", String(32)),  # NULL: the product issues no licence keys
    Column("downloads_used", Integer, nullable=False, default=0, server_default=text("0")),
    # This order's own download count and expiry; NULL: BUYBUTTON_DOWNLOAD_LIMIT, and
    # created_at (the payment) + BUYBUTTON_DOWNLOAD_TTL_SECONDS.
    Column("downloads_allowed", Integer),
    Column("expires_at", Integer),
    Column("last_download_at", Integer),
    Column("created_at", Integer, nullable=False),
    UniqueConstraint("order_id", name="uq_entitlements_order"),
    UniqueConstraint("license_key", name="uq_entitlements_license_key"),
    Index("ix_entitlements_merchant_pk", "merchant_id", "pk"),
)

# Provider events already applied: a replayed webhook is a no-op.
provider_events = Table(
    "provider_events",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("provider", String(16), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("type", String(64), nullable=False),
    Column("order_id", String(32)),
    Column("received_at", Integer, nullable=False),
    UniqueConstraint("provider", "event_id", name="uq_provider_events_event"),
)

# The outbox of merchant-facing events (order.paid, …), written in the same transaction as the
# order change it reports, so no event is lost and none is invented.
events = Table(
    "events",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("order_id", String(32)),
    Column("data", Text, nullable=False),
    Column("created_at", Integer, nullable=False),
    Index("ix_events_merchant_pk", "merchant_id", "pk"),
    # An order's timeline on the dashboard (migration 0017).
    Index("ix_events_order_pk", "order_id", "pk"),
)

# The offline sandbox provider's checkout sessions.
sandbox_sessions = Table(
    "sandbox_sessions",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("order_id", String(32), nullable=False, unique=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("product_name", String(200), nullable=False),
    Column("status", String(16), nullable=False),  # open | complete | expired
    Column("payment_id", String(64)),
    Column("refunded", Boolean, nullable=False, default=False),
    Column("success_url", String(2048), nullable=False),
    Column("cancel_url", String(2048), nullable=False),
    Column("created_at", Integer, nullable=False),
    Column("expires_at", Integer, nullable=False),
)

# Where merchants want their events (POST /v1/webhook_endpoints). ``events`` is a JSON list of
# event types or ["*"]; ``secret`` signs every delivery, so it is kept as it was issued.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("events", Text, nullable=False),
    Column("secret", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", Integer, nullable=False),
    Column("deleted_at", Integer),  # deleted endpoints keep their row for the delivery history
    Index("ix_webhook_endpoints_merchant_pk", "merchant_id", "pk"),
)

# One row per (event, endpoint): written with the event, in the same transaction, for every
# endpoint subscribed at that moment; then claimed by workers until acknowledged or given up.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(32), ForeignKey("events.id"), nullable=False),
    Column("endpoint_id", String(32), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("status", String(16), nullable=False),  # pending | succeeded | failed | canceled
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Integer, nullable=False),
    # A worker's claim: another worker may take the row once the lease has run out (a crash).
    Column("lease_token", String(32)),
    Column("lease_expires_at", Integer),
    Column("last_attempt_at", Integer),
    Column("last_status", Integer),  # the endpoint's HTTP status, NULL when none came back
    Column("last_error", String(500)),
    Column("delivered_at", Integer),
    Column("created_at", Integer, nullable=False),
    UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_endpoint"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    # A worker claims one endpoint's due deliveries at a time and counts its live claims.
    Index("ix_webhook_deliveries_endpoint_due", "endpoint_id", "status", "next_attempt_at"),
)

# Mail to shoppers and merchants (receipts, "shipped", "refunded", "new order"), queued like
# webhook deliveries: written with the order event that causes it, in the same transaction (one
# row per event and kind, so a replayed event queues nothing more), then claimed by the mail
# worker (buybutton/mail/delivery.py) until sent or given up. A resent receipt has no event.
# The message is rendered when it is sent; ``id`` is its Message-ID's left part, the same on
# every attempt (migration 0013).
mail_deliveries = Table(
    "mail_deliveries",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False),
    Column("event_id", String(32), ForeignKey("events.id")),
    Column("kind", String(16), nullable=False),  # receipt | new_order | shipped | refunded
    Column("to_address", String(254), nullable=False),
    Column("locale", String(35)),
    Column("status", String(16), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Integer, nullable=False),
    Column("lease_token", String(32)),
    Column("lease_expires_at", Integer),
    Column("last_attempt_at", Integer),
    Column("last_error", String(500)),
    Column("message_id", String(255)),
    Column("sent_at", Integer),
    Column("created_at", Integer, nullable=False),
    UniqueConstraint("event_id", "kind", name="uq_mail_deliveries_event_kind"),
    Index("ix_mail_deliveries_due", "status", "next_attempt_at"),
    Index("ix_mail_deliveries_order", "order_id", "pk"),
)

# Idempotency keys of the merchant API (buybutton/idempotency.py): the first response to a
# mutating request, replayed to its retries for 24 hours. NULL response_status: still running.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("response_status", Integer),
    Column("response_body", Text),
    Column("response_content_type", String(255)),
    Column("created_at", Integer, nullable=False),
    Column("locked_at", Integer, nullable=False),
    UniqueConstraint("merchant_id", "idempotency_key", name="uq_idempotency_keys_key"),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

# The conversion funnel: the widget's impression and click beacons, counted per product and ref
# (the campaign tag of a token; '' when none, so the unique key works the same on every
# database). Counters only: nothing about who saw or clicked (migration 0011 renamed it from
# widget_counters).
funnel_counters = Table(
    "funnel_counters",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("merchant_id", String(32), nullable=False),
    Column("product_id", String(32), nullable=False),
    Column("ref", String(64), nullable=False, default=""),
    Column("impressions", Integer, nullable=False, default=0),
    Column("clicks", Integer, nullable=False, default=0),
    Column("updated_at", Integer, nullable=False),
    UniqueConstraint("merchant_id", "product_id", "ref", name="uq_funnel_counters_key"),
)

# The funnel rolled up per (merchant, UTC day, product, ref, currency): what GET /v1/stats sums,
# so its cost follows the days asked for, not the orders. Each order transition and beacon adds
# to its row in its own transaction (buybutton/rollups.py). ``day`` is the Unix time of the UTC
# midnight; ``ref`` '' is "no ref"; ``currency`` '' holds the beacons (migration 0015).
stats_rollups = Table(
    "stats_rollups",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("merchant_id", String(32), nullable=False),
    Column("day", Integer, nullable=False),
    Column("product_id", String(32), nullable=False),
    Column("ref", String(64), nullable=False, server_default=""),
    Column("currency", String(3), nullable=False, server_default=""),
    Column("impressions", Integer, nullable=False, server_default=text("0")),
    Column("clicks", Integer, nullable=False, server_default=text("0")),
    Column("orders", Integer, nullable=False, server_default=text("0")),
    Column("paid_orders", Integer, nullable=False, server_default=text("0")),
    Column("refunded_orders", Integer, nullable=False, server_default=text("0")),
    # Money taken minus money refunded that day, in minor units of ``currency``.
    Column("revenue", BigInteger, nullable=False, server_default=text("0")),
    UniqueConstraint(
        "merchant_id", "day", "product_id", "ref", "currency", name="uq_stats_rollups_key"
    ),
)

# One row (pk 1) that GET /healthz rewrites, so that "healthy" means "the database takes writes"
# (a read-only or full database fails it), not merely "it answers a SELECT" (migration 0007).
health = Table(
    "health",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=False),
    Column("checked_at", Integer, nullable=False),
)

# Who may sign in to the dashboard (migration 0016): an email (stored lowercased) and an argon2
# hash of the password. ``password_changed_at`` is in every session cookie, so a reset password
# signs out every browser that signed in with the old one.
dashboard_accounts = Table(
    "dashboard_accounts",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False, index=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", Integer, nullable=False),
    Column("password_changed_at", Integer, nullable=False),
)

# The merchant's secret API keys, several at a time so one can be rotated without downtime
# (migration 0016 copied each merchant's first key in; ``merchants.api_key_hash`` is no longer
# read). Only the SHA-256 of a key is kept; a revoked key keeps its row for the listing.
api_keys = Table(
    "api_keys",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("last4", String(4), nullable=False),
    Column("created_at", Integer, nullable=False),
    Column("revoked_at", Integer),
    Index("ix_api_keys_merchant_pk", "merchant_id", "pk"),
)

# The offer links a merchant issued for a product (a token with its campaign tag and expiry), so
# they can be listed with their funnel numbers and revoked one by one: a token carrying a link id
# stops selling once its row is revoked (migration 0016).
offer_links = Table(
    "offer_links",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("merchant_id", String(32), ForeignKey("merchants.id"), nullable=False),
    Column("product_id", String(32), ForeignKey("products.id"), nullable=False),
    Column("ref", String(64)),
    Column("amount", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("token_generation", Integer, nullable=False),
    Column("expires_at", Integer),
    Column("created_at", Integer, nullable=False),
    Column("revoked_at", Integer),
    Index("ix_offer_links_product_pk", "product_id", "pk"),
)

# The stored sizes of uploaded product images that are served publicly (``/images/<key>.jpg``):
# only keys listed here are, so the storage's other files (digital goods) never are. Keys are
# the SHA-256 of the bytes, so the URL of an image changes whenever its bytes do (migration 0016).
images = Table(
    "images",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("content_type", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", Integer, nullable=False),
)

# A product's uploaded image: its cleaned original, the 1200×630 card (og:image) and the 600×600
# square (the widget's card, and the product's image_url).
product_images = Table(
    "product_images",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("product_id", String(32), ForeignKey("products.id"), nullable=False, unique=True),
    Column("original_key", String(64), nullable=False),
    Column("card_key", String(64), nullable=False),
    Column("square_key", String(64), nullable=False),
    Column("updated_at", Integer, nullable=False),
)
