"""buyer details, shipping and fulfilment: products that ship (their countries and rates) and
their listing identifiers; the merchant's notification and support emails and return policy;
the order's buyer, shipping address, shipping cost and fulfilment state

Existing orders had nothing to ship: their fulfilment is ``not_required`` and their shipping
cost 0.

Revision ID: 0012_buyer_shipping
Revises: 0011_funnel_events
Create Date: 2026-12-01
"""
from typing import Any

from alembic import op
import sqlalchemy as sa


revision = '0012_buyer_shipping'
down_revision = '0011_funnel_events'
branch_labels = None
depends_on = None

_MERCHANT: list[tuple[str, sa.types.TypeEngine[Any]]] = [
    ('email', sa.String(254)),
    ('support_email', sa.String(254)),
    ('return_policy_text', sa.Text()),
    ('return_policy_days', sa.Integer()),
]
_PRODUCT: list[tuple[str, sa.types.TypeEngine[Any]]] = [
    ('shipping', sa.Text()),
    ('sku', sa.String(64)),
    ('gtin', sa.String(14)),
    ('mpn', sa.String(70)),
    ('brand', sa.String(70)),
]
_ORDER: list[tuple[str, sa.types.TypeEngine[Any]]] = [
    ('customer_email', sa.String(254)),
    ('customer_name', sa.String(200)),
    ('customer_phone', sa.String(40)),
    ('shipping_name', sa.String(200)),
    ('shipping_line1', sa.String(200)),
    ('shipping_line2', sa.String(200)),
    ('shipping_city', sa.String(100)),
    ('shipping_postal_code', sa.String(20)),
    ('shipping_state', sa.String(100)),
    ('shipping_country', sa.String(2)),
    ('shipping_rate_id', sa.String(64)),
    ('shipping_rate_name', sa.String(100)),
    ('carrier', sa.String(100)),
    ('tracking_number', sa.String(100)),
    ('tracking_url', sa.String(2048)),
    ('shipped_at', sa.Integer()),
    ('delivered_at', sa.Integer()),
]


def upgrade() -> None:
    for name, type_ in _MERCHANT:
        op.add_column('merchants', sa.Column(name, type_, nullable=True))
    for name, type_ in _PRODUCT:
        op.add_column('products', sa.Column(name, type_, nullable=True))
    for name, type_ in _ORDER:
        op.add_column('orders', sa.Column(name, type_, nullable=True))
    op.add_column('orders', sa.Column('amount_shipping', sa.Integer(), nullable=False,
                                      server_default=sa.text('0')))
    op.add_column('orders', sa.Column('fulfillment_status', sa.String(16), nullable=False,
                                      server_default='not_required'))
    op.create_index('ix_orders_merchant_fulfillment', 'orders',
                    ['merchant_id', 'fulfillment_status', 'pk'])


def _drop(table: str, names: list[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops plain columns in place (3.35+); batch mode would copy the table, which
        # its foreign keys forbid once orders point at it.
        for name in names:
            op.execute(f'ALTER TABLE {table} DROP COLUMN "{name}"')
        return
    for name in names:
        op.drop_column(table, name)


def downgrade() -> None:
    op.drop_index('ix_orders_merchant_fulfillment', table_name='orders')
    _drop('orders', ['fulfillment_status', 'amount_shipping'] + [n for n, _ in reversed(_ORDER)])
    _drop('products', [n for n, _ in reversed(_PRODUCT)])
    _drop('merchants', [n for n, _ in reversed(_MERCHANT)])
