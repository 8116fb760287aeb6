"""orders remember the widget's checkout id (the random id of one click), indexed

The widget asks GET /v1/checkouts/<checkout_id> how the checkout it opened ended, so that a
purchase completes even when the popup's window.opener is severed. Several orders may share one
checkout id (the popup's "Try again" starts a new order for the same click): the newest answers.

Revision ID: 0018_checkout_attempts
Revises: 0017_dashboard_ops
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_checkout_attempts'
down_revision = '0017_dashboard_ops'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("checkout_id", sa.String(32)))
    op.create_index("ix_orders_checkout_id", "orders", ["checkout_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_checkout_id", table_name="orders")
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): batch mode would copy the table, which the foreign keys of
        # the rows pointing at orders forbid.
        op.execute('ALTER TABLE orders DROP COLUMN "checkout_id"')
        return
    op.drop_column("orders", "checkout_id")
