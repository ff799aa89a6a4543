"""order search indexes: names, email parts, tracking numbers and 3PL references, case-insensitively

Revision ID: 0011
Revises: 0004
Create Date: 2026-12-07 05:30:00

SQLite: an FTS5 trigram index over the store orders' customer name and email (kept current by triggers),
so a part of either is found without scanning the table. PostgreSQL: pg_trgm GIN indexes on the lower-cased
name and email (a `LIKE '%…%'` uses them). Both: expression indexes for the case-insensitive exact keys
(email, tracking numbers, 3PL order numbers and references).
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

# (index name, table, expression) for the exact keys, on both databases.
EXPRESSION_INDEXES = (
    ("ix_store_order_email_lower", "store_order", "lower(email)"),
    ("ix_order_tracking_number_upper", "order_tracking_number", "upper(tracking_number)"),
    ("ix_warehouse_shipment_tracking_upper", "warehouse_shipment", "upper(tracking_number)"),
    ("ix_warehouse_order_order_number_upper", "warehouse_order", "upper(order_number)"),
    ("ix_warehouse_order_reference_id_upper", "warehouse_order", "upper(reference_id)"),
)
SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE order_search USING fts5("
    "customer_name, email, content='store_order', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER store_order_search_insert AFTER INSERT ON store_order BEGIN "
    "INSERT INTO order_search(rowid, customer_name, email) VALUES (new.id, new.customer_name, new.email); END",
    "CREATE TRIGGER store_order_search_delete AFTER DELETE ON store_order BEGIN "
    "INSERT INTO order_search(order_search, rowid, customer_name, email) "
    "VALUES ('delete', old.id, old.customer_name, old.email); END",
    "CREATE TRIGGER store_order_search_update AFTER UPDATE OF customer_name, email ON store_order "
    "WHEN old.customer_name IS NOT new.customer_name OR old.email IS NOT new.email BEGIN "
    "INSERT INTO order_search(order_search, rowid, customer_name, email) "
    "VALUES ('delete', old.id, old.customer_name, old.email); "
    "INSERT INTO order_search(rowid, customer_name, email) VALUES (new.id, new.customer_name, new.email); END",
    "INSERT INTO order_search(order_search) VALUES ('rebuild')",
)
PG_TRIGRAM_INDEXES = (
    ("ix_store_order_customer_name_trgm", "lower(customer_name)"),
    ("ix_store_order_email_trgm", "lower(email)"),
)


def _pg_trigram_schema(bind: sa.engine.Connection) -> str | None:
    """The schema pg_trgm lives in, installing it in `public` when it is missing (None: not possible).

    Always `public`, never the session's own schema: an extension exists once per database, and one
    dropped with a schema would take every other schema's trigram indexes with it.
    """
    found = bind.execute(
        sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
    ).scalar()
    if found:
        return str(found)
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
    except sa.exc.DBAPIError as exc:  # no privilege: search still works, by scanning
        log.warning("pg_trgm is not available (%s); name and email search will scan", exc.orig)
        return None
    return "public"


def upgrade() -> None:
    bind = op.get_bind()
    for name, table, expression in EXPRESSION_INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} ({expression})")
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
        return
    schema = _pg_trigram_schema(bind)
    if schema is not None:
        for name, expression in PG_TRIGRAM_INDEXES:
            op.execute(f'CREATE INDEX {name} ON store_order USING gin ({expression} "{schema}".gin_trgm_ops)')


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS store_order_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS order_search")
    else:
        for name, _ in PG_TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, _, _ in EXPRESSION_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
