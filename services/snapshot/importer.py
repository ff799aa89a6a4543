"""Streaming import of a snapshot directory (SPEC §1): one transaction, idempotent, all or nothing.

Order of work: inventory, 3PL orders and trackers first, then store orders in batches, each batch
classified right away against the 3PL and carrier rows already written; finally orders touched only
by 3PL or carrier records are reclassified. Memory holds one batch, never a whole file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column, MetaData, Table
from sqlalchemy.engine import Connection, Engine

from checks.policy import SlaPolicy
from services import store
from services.bulk import bulk_select, bulk_write_values
from services.errors import SnapshotError
from services.snapshot import pipeline, shopify_jsonl
from services.snapshot.jsonstream import JsonStreamError, iter_array
from services.sources import easypost, shipbob, shopify
from services.sources.fields import RecordError

T = TypeVar("T")
BATCH = 2000


@dataclass(frozen=True)
class SnapshotFile:
    relative: str
    key: str | None  # the top-level key holding the list, None for a bare list
    parse: Callable[[Any], Any]


FILES = {
    "inventory": SnapshotFile("shipbob/inventory.json", None, shipbob.parse_inventory_item),
    "warehouse": SnapshotFile("shipbob/orders.json", None, shipbob.parse_order),
    "trackers": SnapshotFile("easypost/trackers.json", "trackers", easypost.parse_tracker),
    "store": SnapshotFile("shopify/orders.json", "orders", shopify.parse_order),
    # The bulk-operation JSONL of the connector's order query, read by `services.snapshot.shopify_jsonl`.
    "store_jsonl": SnapshotFile(shopify_jsonl.RELATIVE, None, lambda order: order),
}
STORE_FILES = ("store", "store_jsonl")  # either or both may be present


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=dict)
    classified: int = 0
    missing_files: list[str] = field(default_factory=list)


def _record_id(raw: Any) -> str:
    if isinstance(raw, dict):
        for key in ("id", "sku", "tracking_code", "name"):
            if raw.get(key) is not None:
                return f"{key} {raw[key]}"
    return "no id"


def _records(path: Path, spec: SnapshotFile) -> Iterator[Any]:
    """Parsed domain records of one file; any problem becomes a SnapshotError naming file and record."""
    if spec.relative == shopify_jsonl.RELATIVE:
        yield from shopify_jsonl.read_orders(path)
        return
    index = -1
    try:
        with path.open(encoding="utf-8") as handle:
            for index, raw in enumerate(iter_array(handle, spec.key)):
                try:
                    yield spec.parse(raw)
                except RecordError as exc:
                    raise SnapshotError(
                        f"{spec.relative}: record {index} ({_record_id(raw)}): {exc}",
                        file=spec.relative,
                        record=f"{index} ({_record_id(raw)})",
                        field=exc.field,
                    ) from None
    except JsonStreamError as exc:
        record = exc.record if exc.record is not None else (index + 1 if index >= 0 else None)
        where = f" at record {record}" if record is not None else ""
        raise SnapshotError(
            f"{spec.relative}{where}: {exc}",
            file=spec.relative,
            record=None if record is None else str(record),
        ) from None
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{spec.relative}: not UTF-8 text ({exc.reason})", file=spec.relative) from None


def _batched(records: Iterator[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_snapshot(
    directory: Path | str, *, engine: Engine, policy: SlaPolicy, now: datetime, batch_size: int = BATCH
) -> ImportReport:
    """Import every present file of the snapshot at `directory` in one transaction.

    A bad file or record raises `SnapshotError` and leaves the database exactly as it was.
    """
    root = Path(directory)
    if not root.is_dir():
        raise SnapshotError(f"{root}: not a directory")
    report = ImportReport()
    present = {name: root / spec.relative for name, spec in FILES.items() if (root / spec.relative).is_file()}
    report.missing_files = [
        spec.relative
        for name, spec in FILES.items()
        if name not in present and not (name in STORE_FILES and set(STORE_FILES) & set(present))
    ]
    if not present:
        raise SnapshotError(
            f"{root}: no snapshot files (expected {', '.join(s.relative for s in FILES.values())})"
        )
    with engine.begin() as conn:
        _import(conn, present, report, policy, now, batch_size)
    return report


def _import(
    conn: Connection,
    present: dict[str, Path],
    report: ImportReport,
    policy: SlaPolicy,
    now: datetime,
    batch_size: int,
) -> None:
    writers: dict[str, Callable[[Connection, Any, datetime], None]] = {
        "inventory": store.write_inventory,
        "warehouse": store.write_warehouse_orders,
        "trackers": store.write_trackers,
    }
    report.counts = {name: 0 for name in present}
    has_store = bool(set(STORE_FILES) & set(present))
    seen = _seen_table(conn) if has_store else None
    with _parsed(present, batch_size) as batches:
        for name, batch in batches:
            if name in STORE_FILES:
                assert seen is not None
                _refuse_repeats(conn, batch, seen, FILES[name].relative)
                store.write_store_orders(conn, batch, now)
                store.store_classifications(conn, store.build_views(conn, batch, events=False), policy, now)
                report.classified += len(batch)
            else:
                writers[name](conn, batch, now)
            report.counts[name] += len(batch)
    if seen is not None:
        seen.drop(conn)
    # Orders this snapshot touched only through their 3PL order or a tracker.
    others = store.touched_order_ids(conn, now, include_store=not has_store)
    report.classified += store.reclassify(conn, others, policy, now)


def _parsed(
    present: dict[str, Path], batch_size: int
) -> AbstractContextManager[Iterator[tuple[str, list[Any]]]]:
    """(file name, batch of records) for every present file, in FILES order (inventory, 3PL orders,
    trackers, store orders): parsed in a helper process for a large snapshot, here otherwise."""

    def batches() -> Iterator[tuple[str, list[Any]]]:
        for name, path in present.items():
            for batch in _batched(_records(path, FILES[name]), batch_size):
                yield name, batch

    if pipeline.worthwhile(sum(path.stat().st_size for path in present.values())):
        return pipeline.batches_in_helper(batches)
    return nullcontext(batches())


def _refuse_repeats(conn: Connection, batch: list[Any], seen: Table, relative: str) -> None:
    """An order id twice in one file is a broken export. The ids seen so far live in a temporary
    table, not in Python, so memory stays flat however long the file is. Driver SQL: this runs for
    every batch."""
    ids = [o.id for o in batch]
    repeated = next((i for i in ids if ids.count(i) > 1), None) if len(set(ids)) != len(ids) else None
    if repeated is None:
        repeated = min((i for (i,) in bulk_select(conn, seen, ("id",), "id", ids)), default=None)
    if repeated is not None:
        raise SnapshotError(
            f"{relative}: order id {repeated} appears twice", file=relative, record=f"id {repeated}"
        )
    bulk_write_values(conn, seen, ("id",), [(i,) for i in ids])


def _seen_table(conn: Connection) -> Table:
    table = Table(
        "import_seen_order", MetaData(), Column("id", BigInteger, primary_key=True), prefixes=["TEMPORARY"]
    )
    table.drop(conn, checkfirst=True)
    table.create(conn)
    return table
