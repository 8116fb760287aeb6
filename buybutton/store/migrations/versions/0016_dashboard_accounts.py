"""dashboard accounts (email + argon2 password hash per merchant login), API keys as rows (several
per merchant, each revocable; the merchants' existing keys are copied in), the offer links a
merchant issued (listed per product, each revocable by its id), and uploaded product images (the
stored sizes served publicly, and each product's current upload)

Revision ID: 0016_dashboard_accounts
Revises: 0015_perf_indexes_rollups
Create Date: 2026-12-01
"""
import secrets
import string

from alembic import op
import sqlalchemy as sa


revision = '0016_dashboard_accounts'
down_revision = '0015_perf_indexes_rollups'
branch_labels = None
depends_on = None

_ALPHABET = string.ascii_letters + string.digits


def _id(prefix: str) -> str:
    # A frozen copy of buybutton.ids.new_id: a migration must not change when the code does.
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def upgrade() -> None:
    op.create_table(
        'dashboard_accounts',
        sa.Column('pk', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('id', sa.String(32), nullable=False, unique=True),
        sa.Column('merchant_id', sa.String(32), sa.ForeignKey('merchants.id'), nullable=False,
                  index=True),
        sa.Column('email', sa.String(254), nullable=False, unique=True),
        sa.Column('password_hash', sa.String(255), nullable=False),
        sa.Column('created_at', sa.Integer(), nullable=False),
        sa.Column('password_changed_at', sa.Integer(), nullable=False),
    )
    api_keys = op.create_table(
        'api_keys',
        sa.Column('pk', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('id', sa.String(32), nullable=False, unique=True),
        sa.Column('merchant_id', sa.String(32), sa.ForeignKey('merchants.id'), nullable=False),
        sa.Column('key_hash', sa.String(64), nullable=False, unique=True),
        sa.Column('last4', sa.String(4), nullable=False),
        sa.Column('created_at', sa.Integer(), nullable=False),
        sa.Column('revoked_at', sa.Integer()),
        sa.Index('ix_api_keys_merchant_pk', 'merchant_id', 'pk'),
    )
    op.create_table(
        'offer_links',
        sa.Column('pk', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('id', sa.String(32), nullable=False, unique=True),
        sa.Column('merchant_id', sa.String(32), sa.ForeignKey('merchants.id'), nullable=False),
        sa.Column('product_id', sa.String(32), sa.ForeignKey('products.id'), nullable=False),
        sa.Column('ref', sa.String(64)),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(3), nullable=False),
        sa.Column('token_generation', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Integer()),
        sa.Column('created_at', sa.Integer(), nullable=False),
        sa.Column('revoked_at', sa.Integer()),
        sa.Index('ix_offer_links_product_pk', 'product_id', 'pk'),
    )
    op.create_table(
        'images',
        sa.Column('pk', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('key', sa.String(64), nullable=False, unique=True),
        sa.Column('content_type', sa.String(32), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.Integer(), nullable=False),
    )
    op.create_table(
        'product_images',
        sa.Column('pk', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('product_id', sa.String(32), sa.ForeignKey('products.id'), nullable=False,
                  unique=True),
        sa.Column('original_key', sa.String(64), nullable=False),
        sa.Column('card_key', sa.String(64), nullable=False),
        sa.Column('square_key', sa.String(64), nullable=False),
        sa.Column('updated_at', sa.Integer(), nullable=False),
    )
    merchants = sa.table(
        'merchants', sa.column('id'), sa.column('api_key_hash'), sa.column('api_key_last4'),
        sa.column('created_at'),
    )
    rows = op.get_bind().execute(
        sa.select(merchants.c.id, merchants.c.api_key_hash, merchants.c.api_key_last4,
                  merchants.c.created_at)
    ).all()
    if rows:
        op.bulk_insert(api_keys, [
            {'id': _id('key'), 'merchant_id': r.id, 'key_hash': r.api_key_hash,
             'last4': r.api_key_last4, 'created_at': r.created_at, 'revoked_at': None}
            for r in rows
        ])


def downgrade() -> None:
    op.drop_table('product_images')
    op.drop_table('images')
    op.drop_table('offer_links')
    op.drop_table('api_keys')
    op.drop_table('dashboard_accounts')
