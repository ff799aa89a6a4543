"""The SQL of `sla_day_total` (migration 0016): its groups, the triggers that keep it, and its fill.

Migration 0016 creates the table and triggers from here, and a first backfill
(`services.snapshot.first_backfill`) drops the triggers and fills the table once instead. The text is
part of that migration: a change to a group or a trigger needs a new migration that replaces them.
"""

from __future__ import annotations

KEY = "due_day, base_category, warehouse_name, shipping_method, carrier, due_at, shipped"
CANDIDATES = "('open', 'sync_delay', 'fulfilled')"


def _group(row: str) -> list[str]:
    """The group of an `order_classification` row (`new` or `old`): one expression per KEY column."""
    return [
        f"{row}.due_day",
        f"{row}.base_category",
        f"coalesce({row}.warehouse_name, '')",
        f"coalesce({row}.shipping_method, '')",
        f"coalesce({row}.carrier, '')",
        f"{row}.due_at",
        f"CASE WHEN {row}.shipped_at IS NULL THEN 'none' WHEN {row}.shipped_at <= {row}.due_at "
        "THEN 'on_time' ELSE 'late' END",
    ]


def _add(row: str) -> str:
    return (
        f"INSERT INTO sla_day_total ({KEY}, orders) SELECT {', '.join(_group(row))}, 1 "
        f"WHERE {row}.base_category IN {CANDIDATES} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET orders = sla_day_total.orders + 1"
    )


def _take(row: str) -> list[str]:
    match = f"({KEY}) = ({', '.join(_group(row))}) AND {row}.base_category IN {CANDIDATES}"
    return [
        f"UPDATE sla_day_total SET orders = orders - 1 WHERE {match}",
        f"DELETE FROM sla_day_total WHERE {match} AND orders <= 0",
    ]


# An update that leaves the order in its group (most do: a sync rewrites unchanged classifications)
# touches no total. Column by column: SQLite before 3.39 has no IS DISTINCT FROM.
CHANGED = " OR ".join(
    f"({old}) IS DISTINCT FROM ({new})" for old, new in zip(_group("OLD"), _group("NEW"), strict=True)
)
SQLITE_CHANGED = " OR ".join(
    f"({old}) IS NOT ({new})" for old, new in zip(_group("old"), _group("new"), strict=True)
)

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER sla_day_total_insert AFTER INSERT ON order_classification BEGIN {_add('new')}; END",
    "CREATE TRIGGER sla_day_total_delete AFTER DELETE ON order_classification BEGIN "
    + "; ".join(_take("old"))
    + "; END",
    f"CREATE TRIGGER sla_day_total_update AFTER UPDATE ON order_classification WHEN {SQLITE_CHANGED} BEGIN "
    + "; ".join([*_take("old"), _add("new")])
    + "; END",
)
SQLITE_DROPS = ("sla_day_total_insert", "sla_day_total_delete", "sla_day_total_update")

POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION sla_day_total_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NOT ({CHANGED}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {"; ".join(_take("OLD"))};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_add("NEW")};
    END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER sla_day_total_follow AFTER INSERT OR UPDATE OR DELETE ON order_classification "
    "FOR EACH ROW EXECUTE FUNCTION sla_day_total_follow()",
)
POSTGRES_DROPS = (
    "DROP TRIGGER IF EXISTS sla_day_total_follow ON order_classification",
    "DROP FUNCTION IF EXISTS sla_day_total_follow()",
)

FILL = (
    f"INSERT INTO sla_day_total ({KEY}, orders) SELECT {', '.join(_group('c'))}, count(*) "
    f"FROM order_classification AS c WHERE c.base_category IN {CANDIDATES} GROUP BY 1, 2, 3, 4, 5, 6, 7"
)
