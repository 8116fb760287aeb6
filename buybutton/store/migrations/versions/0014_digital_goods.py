"""digital goods: a product's file and licence-key flag; what each paid order is entitled to

A product may carry one file (stored content-addressed by ``buybutton.storage``: its key is the
SHA-256 of the bytes) and ``license_keys``. Each paid order gets one ``entitlements`` row, made
in the transaction that marks it paid: its downloads (how many are used, how many allowed, until
when) and its licence key, if the product issues them. ``order_id`` is unique, so a duplicate
payment event can never make two.

Revision ID: 0014_digital_goods
Revises: 0013_mail_outbox
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = '0014_digital_goods'
down_revision = '0013_mail_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy of the table, which SQLite's foreign keys would refuse
    # once orders point at its rows).
    op.add_column("products", sa.Column("file_key", sa.String(64)))
    op.add_column("products", sa.Column("file_name", sa.String(255)))
    op.add_column("products", sa.Column("file_size", sa.BigInteger()))
    op.add_column("products", sa.Column("file_type", sa.String(255)))
    op.add_column("products", sa.Column("file_uploaded_at", sa.Integer()))
    op.add_column("products", sa.Column("license_keys", sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.create_index("ix_products_file_key", "products", ["file_key"])
    op.create_table(
        "entitlements",
        sa.Column("pk", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(32), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("merchant_id", sa.String(32), sa.ForeignKey("merchants.id"), nullable=False),
        sa.Column("product_id", sa.String(32), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("license_key", sa.String(32)),
        sa.Column("downloads_used", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("downloads_allowed", sa.Integer()),
        sa.Column("expires_at", sa.Integer()),
        sa.Column("last_download_at", sa.Integer()),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.UniqueConstraint("order_id", name="uq_entitlements_order"),
        sa.UniqueConstraint("license_key", name="uq_entitlements_license_key"),
    )
    op.create_index("ix_entitlements_merchant_pk", "entitlements", ["merchant_id", "pk"])


def downgrade() -> None:
    op.drop_index("ix_entitlements_merchant_pk", table_name="entitlements")
    op.drop_table("entitlements")
    op.drop_index("ix_products_file_key", table_name="products")
    columns = ("license_keys", "file_uploaded_at", "file_type", "file_size", "file_name",
               "file_key")
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): batch mode would copy the table, which the foreign keys of
        # orders pointing at it forbid.
        for column in columns:
            op.execute(f'ALTER TABLE products DROP COLUMN "{column}"')
        return
    for column in columns:
        op.drop_column("products", column)
