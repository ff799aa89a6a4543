"""webhook events

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-07 05:10:00.000000
"""

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0008'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=128), nullable=False),
    sa.Column('record_key', sa.String(length=128), nullable=True),
    sa.Column('occurred_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('applied_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=255), nullable=True),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'event_id', name='uq_webhook_event_source_event')
    )
    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_event_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_webhook_event_source_received', ['source', 'received_at'], unique=False)
        batch_op.create_index('ix_webhook_event_record', ['source', 'record_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_event_record')
        batch_op.drop_index('ix_webhook_event_source_received')
        batch_op.drop_index('ix_webhook_event_due')

    op.drop_table('webhook_event')
