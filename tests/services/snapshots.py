"""Helpers for tests that import snapshots: copy the sample, edit one record, dump the tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

from tests.conftest import SMALL_STORE

SOURCE_TABLES = (
    "store_order",
    "store_line_item",
    "store_fulfillment",
    "store_refund",
    "warehouse_order",
    "warehouse_shipment",
    "carrier_tracker",
    "inventory_level",
    "order_classification",
    "order_discrepancy",
    "order_tracking_number",
)
VOLATILE = {"synced_at", "classified_at"}


def copy_sample(tmp_path: Path) -> Path:
    target = tmp_path / "snapshot"
    shutil.copytree(SMALL_STORE, target)
    for path in target.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return target


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def dump_tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the source and classification tables, without fetch timestamps, in key order."""
    meta = MetaData()
    meta.reflect(engine, only=SOURCE_TABLES)
    out = {}
    with engine.connect() as conn:
        for name in SOURCE_TABLES:
            table = meta.tables[name]
            cols = [c for c in table.columns if c.name not in VOLATILE]
            rows = conn.execute(select(*cols)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out
