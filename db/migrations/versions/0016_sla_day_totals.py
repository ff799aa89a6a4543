"""sla day totals: the SLA population counted per due day and outcome facts, kept by triggers

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 19:40:00

The SLA page and the leadership report grouped every order due in their period on each first read: at
a million orders, a 30-day period is 300,000 to 640,000 orders and 3 to 4 s of SQLite time
(`make bench`, console figures). `sla_day_total` holds those groups' counts; triggers on
`order_classification` move an order from its old group to its new one on every insert, update and
delete (a cascade from `store_order` included), so every writer keeps it whole without knowing of it.
Only counts are kept: unlike a minimum or a maximum, a count can be taken back when an order leaves its
group. The groups are those of `services.sla.metric_rows`: the population's categories, and "shipped"
decided as there (no shipment, shipped by `due_at`, or after it).

A later migration that recreates `order_classification` on SQLite (a batch operation) drops its
triggers and must create them again.
"""

import sqlalchemy as sa
from alembic import op

import db.types
from db.sla_totals import FILL, POSTGRES_DROPS, POSTGRES_TRIGGERS, SQLITE_DROPS, SQLITE_TRIGGERS

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table('sla_day_total',
    sa.Column('due_day', sa.Date(), nullable=False),
    sa.Column('base_category', sa.String(length=32), nullable=False),
    sa.Column('warehouse_name', sa.String(), nullable=False),
    sa.Column('shipping_method', sa.String(), nullable=False),
    sa.Column('carrier', sa.String(), nullable=False),
    sa.Column('due_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('shipped', sa.String(length=8), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint(
        'due_day', 'base_category', 'warehouse_name', 'shipping_method', 'carrier', 'due_at', 'shipped'
    )
    )
    op.execute(FILL)
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DROPS:
            op.execute(statement)
    else:
        for name in SQLITE_DROPS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table('sla_day_total')
