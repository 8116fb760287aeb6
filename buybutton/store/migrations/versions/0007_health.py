"""a one-row health table that GET /healthz writes (a read-only database is not healthy)

Revision ID: 0007_health
Revises: 0006_order_limits
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_health'
down_revision = '0006_order_limits'
branch_labels = None
depends_on = None


def upgrade() -> None:
    health = op.create_table(
        "health",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("checked_at", sa.Integer(), nullable=False),
    )
    op.bulk_insert(health, [{"pk": 1, "checked_at": 0}])


def downgrade() -> None:
    op.drop_table("health")
