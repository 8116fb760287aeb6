"""rename the widget funnel counters to funnel_counters (the beacons are "funnel", not "events")

The counters keep their rows. On PostgreSQL the unique constraint (and the index behind it),
the primary key and the pk sequence are renamed in place; SQLite cannot rename a constraint, so
there the table is rebuilt with the new name (batch mode copies the rows).

Revision ID: 0011_funnel_events
Revises: 0010_webhook_delivery_fairness
Create Date: 2026-12-01
"""
from alembic import op

revision = '0011_funnel_events'
down_revision = '0010_webhook_delivery_fairness'
branch_labels = None
depends_on = None

_KEY = ["merchant_id", "product_id", "ref"]


def _rename(old: str, new: str) -> None:
    op.rename_table(f"{old}_counters", f"{new}_counters")
    table = f"{new}_counters"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f'ALTER TABLE {table} RENAME CONSTRAINT "uq_{old}_counters_key" '
                   f'TO "uq_{new}_counters_key"')
        op.execute(f'ALTER TABLE {table} RENAME CONSTRAINT "{old}_counters_pkey" '
                   f'TO "{new}_counters_pkey"')
        op.execute(f'ALTER SEQUENCE "{old}_counters_pk_seq" RENAME TO "{new}_counters_pk_seq"')
        return
    with op.batch_alter_table(table, recreate="always") as batch:
        batch.drop_constraint(f"uq_{old}_counters_key", type_="unique")
        batch.create_unique_constraint(f"uq_{new}_counters_key", _KEY)


def upgrade() -> None:
    _rename("widget", "funnel")


def downgrade() -> None:
    _rename("funnel", "widget")
