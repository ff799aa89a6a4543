"""Write what the sources say, read it back as domain records, and store each order's classification.

Works on a SQLAlchemy `Connection` inside the caller's transaction: the snapshot import wraps a whole
snapshot in one, the sync engine one page at a time. Core statements, not ORM objects, because
imports move hundreds of thousands of rows.

    tables          the tables, chunks, upsert
    writes          store orders, 3PL orders, trackers, inventory
    views           domain records and joined order views read back
    classification  classify, store the results, reclassify
"""

from services.store.classification import (
    CLASS_COLUMNS,
    OrderClassified,
    classification_out_of_date,
    classify_views,
    reclassify,
    reclassify_all,
    store_classifications,
    touched_order_ids,
    write_classifications,
)
from services.store.tables import (
    IN_CHUNK,
    T_CLASS,
    T_CODES,
    T_DAY_TOTAL,
    T_DISC,
    T_FULFILLMENT,
    T_INVENTORY,
    T_LINE,
    T_ORDER,
    T_REFUND,
    T_SHIPMENT,
    T_TRACKER,
    T_WAREHOUSE,
    chunks,
    upsert,
)
from services.store.views import (
    build_views,
    load_inventory,
    load_store_orders,
    load_trackers,
    load_views,
    unchanged_store_orders,
    unchanged_trackers,
    unchanged_warehouse_orders,
    with_stored_holds,
)
from services.store.writes import (
    TrackerScans,
    as_written,
    write_inventory,
    write_store_orders,
    write_tracker_scans,
    write_trackers,
    write_warehouse_orders,
)

__all__ = [
    "CLASS_COLUMNS",
    "IN_CHUNK",
    "T_CLASS",
    "T_CODES",
    "T_DAY_TOTAL",
    "T_DISC",
    "T_FULFILLMENT",
    "T_INVENTORY",
    "T_LINE",
    "T_ORDER",
    "T_REFUND",
    "T_SHIPMENT",
    "T_TRACKER",
    "T_WAREHOUSE",
    "OrderClassified",
    "TrackerScans",
    "as_written",
    "build_views",
    "chunks",
    "classification_out_of_date",
    "classify_views",
    "load_inventory",
    "load_store_orders",
    "load_trackers",
    "load_views",
    "reclassify",
    "reclassify_all",
    "store_classifications",
    "touched_order_ids",
    "unchanged_store_orders",
    "unchanged_trackers",
    "unchanged_warehouse_orders",
    "upsert",
    "with_stored_holds",
    "write_classifications",
    "write_inventory",
    "write_store_orders",
    "write_tracker_scans",
    "write_trackers",
    "write_warehouse_orders",
]
