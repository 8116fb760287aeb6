"""the mail outbox (receipts and notices queued with the order event that causes them), and
the shopper's language on each order

Revision ID: 0013_mail_outbox
Revises: 0012_buyer_shipping
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_mail_outbox'
down_revision = '0012_buyer_shipping'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for every existing order: its mail is written in English.
    op.add_column('orders', sa.Column('locale', sa.String(35), nullable=True))
    op.create_table(
        'mail_deliveries',
        sa.Column('pk', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('id', sa.String(32), nullable=False, unique=True),
        sa.Column('order_id', sa.String(32), sa.ForeignKey('orders.id'), nullable=False),
        sa.Column('event_id', sa.String(32), sa.ForeignKey('events.id')),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('to_address', sa.String(254), nullable=False),
        sa.Column('locale', sa.String(35)),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.Integer(), nullable=False),
        sa.Column('lease_token', sa.String(32)),
        sa.Column('lease_expires_at', sa.Integer()),
        sa.Column('last_attempt_at', sa.Integer()),
        sa.Column('last_error', sa.String(500)),
        sa.Column('message_id', sa.String(255)),
        sa.Column('sent_at', sa.Integer()),
        sa.Column('created_at', sa.Integer(), nullable=False),
        sa.UniqueConstraint('event_id', 'kind', name='uq_mail_deliveries_event_kind'),
    )
    op.create_index('ix_mail_deliveries_due', 'mail_deliveries', ['status', 'next_attempt_at'])
    op.create_index('ix_mail_deliveries_order', 'mail_deliveries', ['order_id', 'pk'])


def downgrade() -> None:
    op.drop_index('ix_mail_deliveries_order', table_name='mail_deliveries')
    op.drop_index('ix_mail_deliveries_due', table_name='mail_deliveries')
    op.drop_table('mail_deliveries')
    if op.get_bind().dialect.name == 'sqlite':
        # In place (SQLite 3.35+): batch mode would copy the table, which the foreign keys
        # pointing at orders forbid once they have rows.
        op.execute('ALTER TABLE orders DROP COLUMN "locale"')
    else:
        op.drop_column('orders', 'locale')
