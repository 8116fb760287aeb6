"""idempotency keys of the merchant API

Revision ID: 0003_idempotency
Revises: 0002_webhook_endpoints
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_idempotency'
down_revision = '0002_webhook_endpoints'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('response_content_type', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('locked_at', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], ),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('merchant_id', 'idempotency_key', name='uq_idempotency_keys_key')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_created_at', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_created_at')
    op.drop_table('idempotency_keys')
