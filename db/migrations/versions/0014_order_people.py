"""order people: the billing address, the customer record and the 3PL recipient

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-07 06:45:00

No rule reads these; the summary redactor needs every name, street, phone and email of an order to
remove them from free text before it is sent to a model.
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite: store_order keeps its search triggers).
    op.add_column('store_order', sa.Column('billing_address', sa.JSON(), nullable=True))
    op.add_column('store_order', sa.Column('customer_address', sa.JSON(), nullable=True))
    op.add_column('store_order', sa.Column('customer_email', sa.String(length=320), nullable=True))
    op.add_column('warehouse_order', sa.Column('recipient', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('warehouse_order', 'recipient')
    op.drop_column('store_order', 'customer_email')
    op.drop_column('store_order', 'customer_address')
    op.drop_column('store_order', 'billing_address')
