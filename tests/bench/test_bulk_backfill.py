"""The bulk backfill bench measures what it says: both sides store every order of both shapes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bench.bulk_backfill import floor, measure_shape, write_jsonl

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize(("shape", "low_kb", "high_kb"), [("compact", 1.0, 2.5), ("full", 9.0, 15.0)])
def test_the_shapes_have_their_sizes_and_the_floor_stores_every_row(
    tmp_path: Path, shape: str, low_kb: float, high_kb: float
) -> None:
    path = tmp_path / "orders.jsonl"
    size = write_jsonl(path, 40, shape)
    assert low_kb <= size / 40 / 1024 <= high_kb
    assert floor(path, tmp_path / "floor.db") == 40
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    with sqlite3.connect(tmp_path / "floor.db") as conn:
        stored = conn.execute("SELECT count(*) FROM line_item").fetchone()[0]
    assert stored == sum(1 for o in lines if "sku" in o)


def test_both_sides_import_every_order() -> None:
    measured = measure_shape(30, "compact")
    assert measured["floor"]["orders"] == measured["ours"]["orders"] == 30
    assert measured["floor"]["seconds"] > 0 and measured["ours"]["peak_mb"] > 0
    assert measured["floor"]["cpu_s"] > 0 and measured["ours"]["cpu_s"] > 0
