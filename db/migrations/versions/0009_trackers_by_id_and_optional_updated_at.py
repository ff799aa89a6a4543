"""trackers keyed by id (a tracking code may repeat); a store order's updated_at may be unknown

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-07 05:30:00.000000
"""

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0009'
down_revision = '0004'
branch_labels = None
depends_on = None

# SQLite reflects the unnamed unique constraint of 0001 without a name; this gives it one to drop.
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_name() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "carrier_tracker_tracking_code_key"
    return "uq_carrier_tracker_tracking_code"


def upgrade() -> None:
    with op.batch_alter_table('carrier_tracker', schema=None, naming_convention=_NAMES) as batch_op:
        batch_op.drop_constraint(_unique_name(), type_='unique')
        batch_op.create_index('ix_carrier_tracker_tracking_code', ['tracking_code'], unique=False)
    with op.batch_alter_table('store_order', schema=None) as batch_op:
        batch_op.alter_column(
            'updated_at', existing_type=db.types.UTCDateTime(timezone=True), nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table('store_order', schema=None) as batch_op:
        batch_op.alter_column(
            'updated_at', existing_type=db.types.UTCDateTime(timezone=True), nullable=False
        )
    with op.batch_alter_table('carrier_tracker', schema=None, naming_convention=_NAMES) as batch_op:
        batch_op.drop_index('ix_carrier_tracker_tracking_code')
        batch_op.create_unique_constraint(_unique_name(), ['tracking_code'])
