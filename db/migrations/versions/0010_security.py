"""security: a keyed audit chain guarded by triggers, server-side sessions, password versions

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-07 05:30:00

- audit_head: `legacy_until` (entries up to it keep their plain SHA-256; later ones are HMAC-chained under
  AUDIT_KEY), the head's `signature` and the `key_id` of the key that signed it;
- triggers refusing UPDATE, DELETE (and TRUNCATE on PostgreSQL) on audit_entry, DELETE/TRUNCATE on
  audit_head, and any move of the head backwards;
- app_user: `password_version`, `is_demo`; login_throttle keys up to 200 characters;
- auth_session: one row per sign-in.
"""

from alembic import op
import sqlalchemy as sa
import db.types


revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None

DEMO_USERS = "('agent', 'ops', 'lead', 'admin')"

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only: DELETE refused'); END",
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    "BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END",
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
    "WHEN NEW.last_id < OLD.last_id OR NEW.legacy_until <> OLD.legacy_until "
    "OR (NEW.last_id = OLD.last_id AND NEW.last_hash <> OLD.last_hash) "
    "BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END",
)
SQLITE_DROPS = ("audit_entry_no_update", "audit_entry_no_delete", "audit_head_no_delete", "audit_head_forward_only")

POSTGRES_TRIGGERS = (
    """CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
    END $$""",
    """CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.last_id < OLD.last_id OR NEW.legacy_until <> OLD.legacy_until
           OR (NEW.last_id = OLD.last_id AND NEW.last_hash <> OLD.last_hash) THEN
            RAISE EXCEPTION 'audit_head only moves forward';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()",
)
POSTGRES_DROPS = (
    "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
    "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry",
    "DROP TRIGGER IF EXISTS audit_head_no_delete ON audit_head",
    "DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head",
    "DROP TRIGGER IF EXISTS audit_head_forward ON audit_head",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
    "DROP FUNCTION IF EXISTS audit_head_forward_only()",
)


def upgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legacy_until', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('signature', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    op.execute("UPDATE audit_head SET legacy_until = last_id")
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.alter_column('legacy_until', server_default=None)

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('is_demo', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(f"UPDATE app_user SET is_demo = true WHERE username IN {DEMO_USERS} AND display_name LIKE 'Demo %'")
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.alter_column('password_version', server_default=None)
        batch_op.alter_column('is_demo', server_default=None)

    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.alter_column('username', existing_type=sa.String(length=64), type_=sa.String(length=200))

    op.create_table('auth_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_version', sa.Integer(), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=True),
    sa.Column('created_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_username'), ['username'], unique=False)

    # Last: the batch operations above recreate SQLite tables, which would drop triggers made earlier.
    statements = POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DROPS:
            op.execute(statement)
    else:
        for name in SQLITE_DROPS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_username'))
    op.drop_table('auth_session')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.alter_column('username', existing_type=sa.String(length=200), type_=sa.String(length=64))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('is_demo')
        batch_op.drop_column('password_version')
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('key_id')
        batch_op.drop_column('signature')
        batch_op.drop_column('legacy_until')
