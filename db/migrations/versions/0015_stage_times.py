"""stage times: each tracker's first scan, each order's hand-over and first scan

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:30:00

The leadership report's stage breakdown (SPEC §9) read every period order's 3PL order and every shipped
order's tracker scans. The sync now stores a tracker's oldest carrier scan beside its newest
(`carrier_tracker.first_scan_at`), and each order's 3PL hand-over and first scan with its classification,
so the breakdown is a read of the classifications alone. This fills them for the rows already stored,
with the same rules: `checks.model.Tracker.first_scan_at`, `checks.shipping.handed_over_at` and
`first_scan_at`.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

BATCH = 5000

# PostgreSQL reads each detail's instant exactly (offsets and microseconds).
POSTGRES_TRACKERS = """
UPDATE carrier_tracker SET first_scan_at = (
    SELECT min((d.value ->> 'datetime')::timestamptz) FROM json_array_elements(carrier_tracker.events) AS d
    WHERE (d.value ->> 'status') IS DISTINCT FROM 'pre_transit'
)
"""
# SQLite finds each tracker's oldest scan (julianday knows offsets), and Python converts that one text
# exactly as the sync does, since SQLite's own date functions keep only milliseconds.
SQLITE_FIRST_SCANS = """
SELECT t.id, (
    SELECT json_extract(d.value, '$.datetime') FROM json_each(t.events) AS d
    WHERE json_extract(d.value, '$.status') IS NOT 'pre_transit'
    ORDER BY julianday(json_extract(d.value, '$.datetime')), json_extract(d.value, '$.datetime') LIMIT 1
) FROM carrier_tracker AS t WHERE t.id > :after ORDER BY t.id LIMIT :batch
"""
ORDERS = """
UPDATE order_classification SET
    handed_over_at = (
        SELECT min(w.created_date) FROM warehouse_order AS w WHERE w.store_order_id = order_classification.order_id
    ),
    first_scan_at = (
        SELECT min(t.first_scan_at) FROM order_tracking_number AS c
        JOIN carrier_tracker AS t ON t.tracking_code = c.tracking_number
        WHERE c.order_id = order_classification.order_id
    )
"""


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)  # as services.store.views reads a stored scan
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _sqlite_trackers(conn: sa.Connection) -> None:
    tracker = sa.table('carrier_tracker', sa.column('id'), sa.column('first_scan_at', db.types.UTCDateTime()))
    update = tracker.update().where(tracker.c.id == sa.bindparam('tid')).values(first_scan_at=sa.bindparam('at'))
    after = ''
    while rows := conn.execute(sa.text(SQLITE_FIRST_SCANS), {'after': after, 'batch': BATCH}).all():
        found = [{'tid': tid, 'at': _instant(moment)} for tid, moment in rows if moment]
        if found:
            conn.execute(update, found)
        after = rows[-1][0]


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite).
    op.add_column('carrier_tracker', sa.Column('first_scan_at', db.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column(
        'order_classification', sa.Column('handed_over_at', db.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column(
        'order_classification', sa.Column('first_scan_at', db.types.UTCDateTime(timezone=True), nullable=True)
    )
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        conn.execute(sa.text(POSTGRES_TRACKERS))
    else:
        _sqlite_trackers(conn)
    conn.execute(sa.text(ORDERS))


def downgrade() -> None:
    op.drop_column('order_classification', 'first_scan_at')
    op.drop_column('order_classification', 'handed_over_at')
    op.drop_column('carrier_tracker', 'first_scan_at')
