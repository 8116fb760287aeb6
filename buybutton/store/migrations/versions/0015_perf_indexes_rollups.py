"""indexes for every filter of GET /v1/orders; daily stats rollups (issue 16)

``GET /v1/orders`` filters by status, ref, product and creation time within one merchant, newest
first: each filter gets an index that starts with the merchant and the filtered column, so a
filter that matches nothing costs an index probe, not a scan of the merchant's orders.

``stats_rollups`` holds the funnel per (merchant, UTC day, product, ref, currency): impressions,
clicks, orders started, paid and refunded orders, and revenue. Each order transition and each
beacon adds to its row in the same transaction, so ``GET /v1/stats`` sums a few rows per day
instead of reading every order. The rows are backfilled here from the orders (by the day each
thing happened) and from ``funnel_counters`` (which has no per-day history: its totals go to the
day of each counter's last beacon).

Revision ID: 0015_perf_indexes_rollups
Revises: 0014_digital_goods
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_perf_indexes_rollups'
down_revision = '0014_digital_goods'
branch_labels = None
depends_on = None

DAY = 86400
_INDEXES = {
    "ix_orders_merchant_status_pk": ["merchant_id", "status", "pk"],
    "ix_orders_merchant_ref_pk": ["merchant_id", "ref", "pk"],
    "ix_orders_merchant_product_pk": ["merchant_id", "product_id", "pk"],
    "ix_orders_merchant_created": ["merchant_id", "created_at", "pk"],
}
_METRICS = ("impressions", "clicks", "orders", "paid_orders", "refunded_orders", "revenue")


def _backfill(conn: sa.Connection) -> None:
    rows: dict[tuple[str, int, str, str, str], dict[str, int]] = {}

    def add(
        merchant_id: str, day: int, product_id: str, ref: str | None, currency: str | None,
        **counts: int,
    ) -> None:
        key = (merchant_id, int(day), product_id, ref or "", currency or "")
        row = rows.setdefault(key, dict.fromkeys(_METRICS, 0))
        for name, value in counts.items():
            row[name] += int(value or 0)

    def day(column: str) -> sa.TextClause:
        return sa.text(f"({column} / {DAY}) * {DAY}")

    for r in conn.execute(sa.text(
        f"SELECT merchant_id, {day('updated_at')} AS day, product_id, ref, "
        "SUM(impressions), SUM(clicks) FROM funnel_counters "
        f"GROUP BY merchant_id, {day('updated_at')}, product_id, ref"
    )):
        add(r[0], r[1], r[2], r[3], "", impressions=r[4], clicks=r[5])
    for r in conn.execute(sa.text(
        f"SELECT merchant_id, {day('created_at')}, product_id, ref, currency, COUNT(*) "
        f"FROM orders GROUP BY merchant_id, {day('created_at')}, product_id, ref, currency"
    )):
        add(r[0], r[1], r[2], r[3], r[4], orders=r[5])
    # Paid (refunded ones included, as the funnel counts them), on the day the money came.
    for r in conn.execute(sa.text(
        f"SELECT merchant_id, {day('COALESCE(paid_at, updated_at)')}, product_id, ref, currency, "
        "COUNT(*), SUM(COALESCE(amount_paid, 0)) FROM orders "
        "WHERE status IN ('paid', 'refunded') "
        f"GROUP BY merchant_id, {day('COALESCE(paid_at, updated_at)')}, product_id, ref, currency"
    )):
        add(r[0], r[1], r[2], r[3], r[4], paid_orders=r[5], revenue=r[6])
    # Refunded, on the day of the refund: the money goes out of that day's revenue.
    for r in conn.execute(sa.text(
        f"SELECT merchant_id, {day('updated_at')}, product_id, ref, currency, COUNT(*), "
        "SUM(COALESCE(amount_paid, 0)) FROM orders WHERE status = 'refunded' "
        f"GROUP BY merchant_id, {day('updated_at')}, product_id, ref, currency"
    )):
        add(r[0], r[1], r[2], r[3], r[4], refunded_orders=r[5], revenue=-int(r[6] or 0))
    if rows:
        table = sa.table(
            "stats_rollups",
            *(sa.column(name) for name in
              ("merchant_id", "day", "product_id", "ref", "currency", *_METRICS)),
        )
        conn.execute(sa.insert(table), [
            dict(zip(("merchant_id", "day", "product_id", "ref", "currency"), key), **counts)
            for key, counts in rows.items()
        ])


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.create_index(name, "orders", columns)
    op.create_table(
        "stats_rollups",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("merchant_id", sa.String(32), nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("product_id", sa.String(32), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False, server_default=""),
        sa.Column("currency", sa.String(3), nullable=False, server_default=""),
        *(sa.Column(name, sa.Integer, nullable=False, server_default="0")
          for name in _METRICS[:-1]),
        sa.Column("revenue", sa.BigInteger, nullable=False, server_default="0"),
        sa.UniqueConstraint(
            "merchant_id", "day", "product_id", "ref", "currency", name="uq_stats_rollups_key"
        ),
    )
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table("stats_rollups")
    for name in _INDEXES:
        op.drop_index(name, table_name="orders")
