"""index orders by payment id (refund webhooks name the payment, not the order)

Revision ID: 0005_orders_payment_id_index
Revises: 0004_widget_events
Create Date: 2026-11-23
"""
from alembic import op

revision = '0005_orders_payment_id_index'
down_revision = '0004_widget_events'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_payment_id", "orders", ["payment_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_payment_id", table_name="orders")
