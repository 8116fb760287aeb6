"""indexes for the dashboard's orders: an order's timeline (its events) and the search by the
buyer's email (any letter case)

Revision ID: 0017_dashboard_ops
Revises: 0016_dashboard_accounts
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = '0017_dashboard_ops'
down_revision = '0016_dashboard_accounts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_order_pk", "events", ["order_id", "pk"])
    op.create_index(
        "ix_orders_merchant_email", "orders", ["merchant_id", sa.text("lower(customer_email)")]
    )


def downgrade() -> None:
    op.drop_index("ix_orders_merchant_email", table_name="orders")
    op.drop_index("ix_events_order_pk", table_name="events")
