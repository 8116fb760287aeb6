"""index webhook deliveries by endpoint (workers claim per endpoint, and count its live claims)

Revision ID: 0010_webhook_delivery_fairness
Revises: 0009_merchant_allowed_origins
Create Date: 2026-12-01
"""
from alembic import op

revision = '0010_webhook_delivery_fairness'
down_revision = '0009_merchant_allowed_origins'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_webhook_deliveries_endpoint_due", "webhook_deliveries",
                    ["endpoint_id", "status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_endpoint_due", table_name="webhook_deliveries")
