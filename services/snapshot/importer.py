"""Streaming import of a snapshot directory (SPEC §1): one transaction, idempotent, all or nothing.

Order of work: inventory, 3PL orders and trackers first, then store orders in batches, each batch
classified right away against the 3PL and carrier rows already written; finally orders touched only
by 3PL or carrier records are reclassified. Memory holds one batch, never a whole file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from checks.policy import SlaPolicy
from services import store
from services.errors import SnapshotError
from services.snapshot import pipeline, shopify_jsonl
from services.snapshot.collections_paced import fewer_collections
from services.snapshot.first_backfill import deferred_on_first_backfill
from services.snapshot.jsonstream import JsonStreamError, iter_array
from services.snapshot.uniqueness import SeenKeys, refuse_stored_elsewhere, shown
from services.sources.easypost import parse as easypost
from services.sources.json_fields import RecordError
from services.sources.shipbob import parse as shipbob
from services.sources.shopify import parse as shopify
from services.write_lock import write_lock

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
                return f"{key} {shown(raw[key])}"
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
            field=exc.field,
        ) from None
    except UnicodeDecodeError as exc:
        raise SnapshotError(f"{spec.relative}: not UTF-8 text ({exc.reason})", file=spec.relative) from None
    except OSError as exc:
        raise SnapshotError(f"{spec.relative}: cannot be read ({exc.strerror})", file=spec.relative) from None


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
    for spec in FILES.values():
        path = root / spec.relative
        if path.exists() and not path.is_file():  # e.g. a directory: never quietly "absent"
            raise SnapshotError(f"{spec.relative}: not a file", file=spec.relative)
    present = {name: root / spec.relative for name, spec in FILES.items() if (root / spec.relative).exists()}
    report.missing_files = [
        spec.relative
        for name, spec in FILES.items()
        if name not in present and not (name in STORE_FILES and set(STORE_FILES) & set(present))
    ]
    if not present:
        raise SnapshotError(
            f"{root}: no snapshot files (expected {', '.join(s.relative for s in FILES.values())})"
        )
    writing = [""]  # the file whose records are being written, for the message below
    try:
        with fewer_collections(), engine.begin() as conn:
            _import(conn, present, report, policy, now, batch_size, writing)
    except IntegrityError as exc:
        # The checks in `uniqueness` name the records of every conflict they know of; this is the
        # backstop for any other, still a refusal of the input and never a crash.
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "a stored row conflicts"
        raise SnapshotError(
            f"{writing[0]}: conflicts with the stored data ({reason})", file=writing[0]
        ) from None
    return report


def _import(
    conn: Connection,
    present: dict[str, Path],
    report: ImportReport,
    policy: SlaPolicy,
    now: datetime,
    batch_size: int,
    writing: list[str],
) -> None:
    writers: dict[str, Callable[[Connection, Any, datetime], Any]] = {
        "inventory": store.write_inventory,
        "warehouse": store.write_warehouse_orders,
        "trackers": store.write_trackers,
    }
    report.counts = {name: 0 for name in present}
    # First, as every writer does (services.sync.apply): a sync or refresh waits for the import.
    write_lock(conn)
    seen = SeenKeys(conn)
    with deferred_on_first_backfill(conn), _parsed(present, batch_size) as batches:
        for name, batch in batches:
            relative = writing[0] = FILES[name].relative
            start = report.counts[name]
            seen.add(relative, start, batch)
            refuse_stored_elsewhere(conn, relative, start, batch)
            if name in STORE_FILES:
                # Newest wins (SPEC §1): an order older than the stored one is not written, nor
                # classified from its stale data.
                written = store.write_store_orders(conn, batch, now)
                store.store_classifications(conn, store.build_views(conn, written, events=False), policy, now)
                report.classified += len(written)
            else:
                writers[name](conn, batch, now)
            report.counts[name] += len(batch)
    seen.drop()
    # Orders this snapshot touched only through their 3PL order or a tracker.
    has_store = bool(set(STORE_FILES) & set(present))
    others = store.touched_order_ids(conn, now, include_store=not has_store)
    report.classified += store.reclassify(conn, others, policy, now)


@contextmanager
def _parsed(present: dict[str, Path], batch_size: int) -> Iterator[Iterator[tuple[str, list[Any]]]]:
    """(file name, batch of records) for every present file, in FILES order (inventory, 3PL orders,
    trackers, store orders): the JSON files parsed in a helper process when they are large, here
    otherwise, and the bulk JSONL always here.

    The JSONL's reading (orjson and the record mapping) costs less than taking its records from a helper
    (unpickling them): with the helper this process alone used more CPU than the whole import without
    it (`bench/bulk_backfill.py`, 30,000 compact orders: 4.2-4.7 s against 3.4-3.9 s)."""

    def batches(names: list[str]) -> Iterator[tuple[str, list[Any]]]:
        for name in names:
            for batch in _batched(_records(present[name], FILES[name]), batch_size):
                yield name, batch

    json_files = [name for name in present if name != "store_jsonl"]
    jsonl = [name for name in present if name == "store_jsonl"]  # last in FILES order
    if pipeline.worthwhile(sum(present[name].stat().st_size for name in json_files)):
        with pipeline.batches_in_helper(lambda: batches(json_files)) as helped:
            yield chain(helped, batches(jsonl))
    else:
        yield batches([*json_files, *jsonl])
