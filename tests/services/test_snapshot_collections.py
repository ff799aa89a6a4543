"""The import's collector pacing (`services.snapshot.collections_paced`) leaves the process as it was."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from services.errors import SnapshotError
from services.snapshot import import_snapshot
from services.snapshot.collections_paced import IMPORT_THRESHOLD, fewer_collections
from tests.services.test_snapshot_jsonl import NOW, POLICY, _world_snapshot


def test_nested_blocks_raise_the_threshold_until_the_last_one_ends() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] >= IMPORT_THRESHOLD and gc.get_threshold()[1:] == before[1:]
        with fewer_collections():
            pass
        assert gc.get_threshold()[0] >= IMPORT_THRESHOLD
    assert gc.get_threshold() == before


def test_an_import_puts_the_threshold_back_whether_it_succeeds_or_fails(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    before = gc.get_threshold()
    _world_snapshot(tmp_path, orders=20)
    import_snapshot(tmp_path, engine=sqlite_engine, policy=POLICY, now=NOW)
    assert gc.get_threshold() == before
    path = tmp_path / "shopify" / "orders.jsonl"
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(SnapshotError):
        import_snapshot(tmp_path, engine=sqlite_engine, policy=POLICY, now=NOW)
    assert gc.get_threshold() == before
