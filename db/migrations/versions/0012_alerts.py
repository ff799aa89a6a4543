"""alerts: digests sent, announcements, runs, settings, preferences

Revision ID: 0012
Revises: 0004
Create Date: 2026-12-07 05:05:00.000000
"""

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_digest',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=96), nullable=False),
    sa.Column('sent_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('as_of', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_digest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_digest_channel'), ['channel'], unique=False)

    op.create_table('alert_announcement',
    sa.Column('channel', sa.String(length=96), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['digest_id'], ['alert_digest.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['store_order.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('channel', 'kind', 'order_id')
    )
    with op.batch_alter_table('alert_announcement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_announcement_digest_id'), ['digest_id'], unique=False)

    op.create_table('alert_run',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ran_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('as_of', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('new_items', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alert_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_run_ran_at'), ['ran_at'], unique=False)

    op.create_table('alert_settings',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('slack_enabled', sa.Boolean(), nullable=False),
    sa.Column('email_enabled', sa.Boolean(), nullable=False),
    sa.Column('email_to', sa.Text(), nullable=False),
    sa.Column('digest_every_minutes', sa.Integer(), nullable=False),
    sa.Column('report_to', sa.Text(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('alert_preference',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('own_claims', sa.Boolean(), nullable=False),
    sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username')
    )


def downgrade() -> None:
    op.drop_table('alert_preference')
    op.drop_table('alert_settings')
    with op.batch_alter_table('alert_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_run_ran_at'))
    op.drop_table('alert_run')
    with op.batch_alter_table('alert_announcement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_announcement_digest_id'))
    op.drop_table('alert_announcement')
    with op.batch_alter_table('alert_digest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_digest_channel'))
    op.drop_table('alert_digest')
