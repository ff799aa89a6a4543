"""Schema objects for order search that only migration 0011 defines (no model can express them): the
SQLite FTS5 table with its shadow tables, and the expression and trigram indexes. Alembic's comparison of
the models with a database leaves them out (`include_object`)."""

from __future__ import annotations

from typing import Any

SEARCH_TABLE = "order_search"
SEARCH_INDEXES = frozenset(
    {
        "ix_store_order_email_lower",
        "ix_order_tracking_number_upper",
        "ix_warehouse_shipment_tracking_upper",
        "ix_warehouse_order_order_number_upper",
        "ix_warehouse_order_reference_id_upper",
        "ix_store_order_customer_name_trgm",
        "ix_store_order_email_trgm",
    }
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """False for the search objects, which exist in the database but not in the models."""
    if (
        type_ == "table"
        and name is not None
        and (name == SEARCH_TABLE or name.startswith(f"{SEARCH_TABLE}_"))
    ):
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)
