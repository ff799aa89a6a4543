"""guided fixes: one row per fix sent to a source, claimed under a unique key

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 06:20:00.000000
"""

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('guided_fix',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('fix_key', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('order_name', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('requested_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=48), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fix_key')
    )
    with op.batch_alter_table('guided_fix', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guided_fix_order_id'), ['order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('guided_fix', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guided_fix_order_id'))
    op.drop_table('guided_fix')
