"""Snapshot import: the sample's answers, idempotence, all-or-nothing refusal, bounded memory."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from checks.policy import load_policy
from services.errors import SnapshotError
from services.snapshot import import_snapshot
from services.store import T_CLASS, T_ORDER
from tests.conftest import SMALL_STORE
from tests.services.snapshots import copy_sample, dump_tables, edit_json

POLICY = load_policy(SMALL_STORE / "sla.toml")
EXPECTED = json.loads((SMALL_STORE / "expected.json").read_text())
NOW = datetime(2026, 7, 6, 14, tzinfo=UTC)


def _import(path: Path, engine: Engine, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return import_snapshot(path, engine=engine, policy=POLICY, now=now)


def test_sample_import_counts_every_file(engine: Engine) -> None:
    report = _import(SMALL_STORE, engine)
    assert report.counts == {"inventory": 3, "warehouse": 4, "trackers": 1, "store": 7}
    assert report.missing_files == []
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(T_CLASS)) == 7


def test_importing_the_same_snapshot_again_changes_nothing(engine: Engine) -> None:
    _import(SMALL_STORE, engine)
    first = dump_tables(engine)
    _import(SMALL_STORE, engine, now=datetime(2026, 7, 7, tzinfo=UTC))
    assert dump_tables(engine) == first


BAD_RECORDS = [
    (
        "shopify/orders.json",
        lambda d: d["orders"][2].pop("created_at"),
        "record 2 (id 5410000000003)",
        "created_at",
    ),
    (
        "shopify/orders.json",
        lambda d: d["orders"][0]["line_items"][0].update(quantity="two"),
        "record 0",
        "line_items[0].quantity",
    ),
    (
        "shopify/orders.json",
        lambda d: d["orders"][1].update(cancelled_at="yesterday"),
        "record 1",
        "cancelled_at",
    ),
    (
        "shipbob/orders.json",
        lambda d: d[1]["shipments"][0].update(status=None),
        "record 1 (id 90000002)",
        "shipments[0].status",
    ),
    (
        "easypost/trackers.json",
        lambda d: d["trackers"][0].pop("tracking_code"),
        "record 0 (id trk_",
        "tracking_code",
    ),
    (
        "shipbob/inventory.json",
        lambda d: d[0].update(total_fulfillable_quantity="many"),
        "record 0",
        "total_fulfillable_quantity",
    ),
]


@pytest.mark.parametrize(("relative", "change", "record", "field"), BAD_RECORDS)
def test_a_bad_record_refuses_the_whole_snapshot_and_names_it(
    engine: Engine,
    tmp_path: Path,
    relative: str,
    change,
    record: str,
    field: str,  # type: ignore[no-untyped-def]
) -> None:
    _import(SMALL_STORE, engine)
    before = dump_tables(engine)
    snapshot = copy_sample(tmp_path)
    # Make every other record look different so a partial write would show.
    edit_json(
        snapshot / "shopify/orders.json", lambda d: [o.update(financial_status="voided") for o in d["orders"]]
    )
    edit_json(snapshot / relative, change)
    with pytest.raises(SnapshotError) as caught:
        _import(snapshot, engine)
    message = str(caught.value)
    assert relative in message and record in message and field in message
    assert dump_tables(engine) == before


@pytest.mark.parametrize(
    ("relative", "content", "expected"),
    [
        ("shopify/orders.json", '{"orders": [{"id": 1,', "shopify/orders.json"),
        ("shopify/orders.json", '[{"id": 1}]', "expected '{'"),
        ("shopify/orders.json", '{"items": []}', 'missing "orders"'),
        ("shipbob/orders.json", '{"orders": []}', "expected '['"),
        ("easypost/trackers.json", "not json", "easypost/trackers.json"),
        ("shipbob/orders.json", "[1, 2]", "record 0"),
    ],
)
def test_malformed_files_are_refused_with_the_file_named(
    engine: Engine, tmp_path: Path, relative: str, content: str, expected: str
) -> None:
    _import(SMALL_STORE, engine)
    before = dump_tables(engine)
    snapshot = copy_sample(tmp_path)
    (snapshot / relative).write_text(content)
    with pytest.raises(SnapshotError) as caught:
        _import(snapshot, engine)
    assert relative in str(caught.value) and expected in str(caught.value)
    assert dump_tables(engine) == before


def test_a_repeated_order_id_is_refused(engine: Engine, tmp_path: Path) -> None:
    snapshot = copy_sample(tmp_path)
    edit_json(snapshot / "shopify/orders.json", lambda d: d["orders"].append(dict(d["orders"][0])))
    with pytest.raises(SnapshotError, match="5410000000001 appears twice"):
        _import(snapshot, engine)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(T_ORDER)) == 0


def test_absent_files_are_allowed_and_later_files_reclassify_stored_orders(
    engine: Engine, tmp_path: Path
) -> None:
    store_only = copy_sample(tmp_path)
    for relative in ("shipbob/orders.json", "shipbob/inventory.json", "easypost/trackers.json"):
        (store_only / relative).unlink()
    report = _import(store_only, engine)
    assert set(report.missing_files) == {
        "shipbob/orders.json",
        "shipbob/inventory.json",
        "easypost/trackers.json",
    }
    with engine.connect() as conn:
        # Without the 3PL file the 3PL-shipped #2005 is an open order, not a sync delay.
        assert conn.scalar(select(T_CLASS.c.base_category).where(T_CLASS.c.order_name == "#2005")) == "open"
    warehouse_only = tmp_path / "warehouse-only"
    (warehouse_only / "shipbob").mkdir(parents=True)
    (warehouse_only / "shipbob/orders.json").write_text((SMALL_STORE / "shipbob/orders.json").read_text())
    _import(warehouse_only, engine, now=datetime(2026, 7, 6, 15, tzinfo=UTC))
    with engine.connect() as conn:
        assert (
            conn.scalar(select(T_CLASS.c.base_category).where(T_CLASS.c.order_name == "#2005"))
            == "sync_delay"
        )


def test_an_empty_directory_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no snapshot files"):
        _import(tmp_path, engine)


def _write_orders(path: Path, count: int) -> None:
    template = json.loads((SMALL_STORE / "shopify/orders.json").read_text())["orders"][0]
    path.mkdir(parents=True, exist_ok=True)
    with (path / "orders.json").open("w") as out:
        out.write('{"orders": [')
        for i in range(count):
            order = dict(
                template,
                id=10_000_000 + i,
                name=f"#{500000 + i}",
                line_items=[dict(template["line_items"][0], id=20_000_000 + i)],
            )
            out.write(("," if i else "") + json.dumps(order))
        out.write("]}")


def test_import_memory_does_not_grow_with_the_file(sqlite_engine: Engine, tmp_path: Path) -> None:
    peaks = []
    for count in (1500, 6000):
        root = tmp_path / f"n{count}"
        _write_orders(root / "shopify", count)
        tracemalloc.start()
        import_snapshot(root, engine=sqlite_engine, policy=POLICY, now=NOW, batch_size=500)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # Past one batch, four times the records may not cost more memory (within noise).
    assert peaks[1] < peaks[0] * 1.25, peaks


@pytest.fixture
def two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the parse-in-a-second-process path that large snapshots take."""
    from services.snapshot import pipeline

    monkeypatch.setattr(pipeline, "MIN_BYTES", 0)
    assert pipeline.worthwhile(1)


def test_the_two_process_path_writes_the_same_rows(
    sqlite_engine: Engine, tmp_path: Path, two_processes: None
) -> None:
    from db.migrate import upgrade
    from db.session import make_engine

    _import(SMALL_STORE, sqlite_engine)
    single = make_engine(f"sqlite:///{tmp_path / 'single.db'}")
    upgrade(single)
    from services.snapshot import pipeline

    pipeline.MIN_BYTES = 1 << 60  # this one in one process (monkeypatch restores it afterwards)
    _import(SMALL_STORE, single)
    assert dump_tables(sqlite_engine) == dump_tables(single)


def test_the_two_process_path_refuses_a_bad_record_the_same_way(
    sqlite_engine: Engine, tmp_path: Path, two_processes: None
) -> None:
    _import(SMALL_STORE, sqlite_engine)
    before = dump_tables(sqlite_engine)
    snapshot = copy_sample(tmp_path)
    edit_json(snapshot / "shopify/orders.json", lambda d: d["orders"][2].pop("created_at"))
    with pytest.raises(SnapshotError) as caught:
        _import(snapshot, sqlite_engine)
    assert "shopify/orders.json: record 2 (id 5410000000003)" in str(caught.value)
    assert "created_at" in str(caught.value)
    assert dump_tables(sqlite_engine) == before
