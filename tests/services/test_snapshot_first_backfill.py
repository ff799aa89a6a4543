"""A first backfill into an empty store defers the search index and the SLA day totals
(`services.snapshot.first_backfill`): search must find exactly what it finds when the index followed
every write, the totals must be those the triggers keep, and both must keep following later writes.
Both databases (PostgreSQL keeps its indexes and trigger as they are: the same answers either way)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from db.migrate import upgrade
from db.session import make_engine
from services.errors import SnapshotError
from services.lookup.search import search_orders
from services.snapshot import import_snapshot
from services.store import T_ORDER
from tests.services.test_snapshot_jsonl import NOW, POLICY, _world_snapshot


def _queries(engine: Engine) -> list[str]:
    """Parts of names and emails as an agent types them, and whole ones."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(T_ORDER.c.customer_name, T_ORDER.c.email)
            .where(T_ORDER.c.customer_name.is_not(None), T_ORDER.c.email.is_not(None))
            .order_by(T_ORDER.c.id)
            .limit(15)
        ).all()
    assert rows
    out = []
    for name, email in rows:
        out += [name, name.split()[-1].upper(), email, email.split("@")[0][1:], email.split("@")[1][:6]]
    return out


def _found(engine: Engine, queries: list[str]) -> dict[str, list[tuple[str, str]]]:
    with engine.connect() as conn:
        return {q: [(h.order, h.matched_on) for h in search_orders(conn, q, limit=50)] for q in queries}


def _keep_first(src: Path, dst: Path, orders: int) -> None:
    """`dst`: a snapshot of the first `orders` orders of `src`."""
    lines = (src / "shopify" / "orders.jsonl").read_text().splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if '"__parentId"' not in line]
    (dst / "shopify").mkdir(parents=True)
    (dst / "shopify" / "orders.jsonl").write_text("".join(lines[: starts[orders]]))


def _triggers(engine: Engine, prefix: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE :like"),
                {"like": f"{prefix}%"},
            )
            or 0
        )


def _search_triggers(engine: Engine) -> int:
    return _triggers(engine, "store_order_search_")


def _totals(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(text("SELECT * FROM sla_day_total ORDER BY 1, 2, 3, 4, 5, 6, 7"))
        ]


def _backfilled_beside_a_store_written_order_by_order(engine: Engine, tmp_path: Path) -> Engine:
    """`engine`'s empty store given a 150-order snapshot (deferred on SQLite), and another store given
    ten of them first, then all: there the triggers followed every write. Returns the other store."""
    _world_snapshot(tmp_path / "all", orders=150)
    _keep_first(tmp_path / "all", tmp_path / "some", 10)
    other = _other_engine(engine, tmp_path)
    import_snapshot(tmp_path / "some", engine=other, policy=POLICY, now=NOW)
    import_snapshot(tmp_path / "all", engine=other, policy=POLICY, now=NOW)
    import_snapshot(tmp_path / "all", engine=engine, policy=POLICY, now=NOW)
    return other


def test_search_after_a_first_backfill_finds_what_a_store_written_order_by_order_finds(
    engine: Engine, tmp_path: Path
) -> None:
    other = _backfilled_beside_a_store_written_order_by_order(engine, tmp_path)
    queries = _queries(engine)
    found = _found(engine, queries)
    assert found == _found(other, queries) and all(found.values())
    if engine.dialect.name == "sqlite":
        assert _search_triggers(engine) == 3
        with engine.begin() as conn:  # FTS5 compares the index with the table
            conn.execute(text("INSERT INTO order_search(order_search) VALUES ('integrity-check')"))
    other.dispose()


def test_the_sla_totals_of_a_first_backfill_are_those_the_triggers_keep(
    engine: Engine, tmp_path: Path
) -> None:
    other = _backfilled_beside_a_store_written_order_by_order(engine, tmp_path)
    totals = _totals(engine)
    assert totals == _totals(other)
    assert sum(row[-1] for row in totals) > 100  # most of the 150 orders are in the SLA population
    assert _triggers(engine, "sla_day_total_") == 3
    other.dispose()


def test_the_totals_follow_writes_after_a_first_backfill(engine: Engine, tmp_path: Path) -> None:
    _world_snapshot(tmp_path, orders=40)
    import_snapshot(tmp_path, engine=engine, policy=POLICY, now=NOW)
    before = sum(row[-1] for row in _totals(engine))
    with engine.begin() as conn:  # an order leaves the store: its classification goes with it
        conn.execute(
            text(
                "DELETE FROM order_classification WHERE base_category IN ('open', 'fulfilled') "
                "AND order_id = (SELECT min(order_id) FROM order_classification "
                "WHERE base_category IN ('open', 'fulfilled'))"
            )
        )
    assert sum(row[-1] for row in _totals(engine)) == before - 1


def test_the_index_follows_writes_after_a_first_backfill(engine: Engine, tmp_path: Path) -> None:
    _world_snapshot(tmp_path, orders=40)
    import_snapshot(tmp_path, engine=engine, policy=POLICY, now=NOW)
    path = tmp_path / "shopify" / "orders.jsonl"
    first = path.read_text().splitlines()[0]
    with engine.connect() as conn:
        email = conn.scalar(
            select(T_ORDER.c.email).where(T_ORDER.c.email.is_not(None)).order_by(T_ORDER.c.id)
        )
    assert email and email in first
    path.write_text(path.read_text().replace(email, "zebracrossing@example.org"))
    import_snapshot(tmp_path, engine=engine, policy=POLICY, now=NOW)
    assert _found(engine, ["bracross"])["bracross"] and not _found(engine, [email])[email]


def test_a_failed_first_backfill_leaves_the_search_index_as_it_was(engine: Engine, tmp_path: Path) -> None:
    _world_snapshot(tmp_path, orders=30)
    path = tmp_path / "shopify" / "orders.jsonl"
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(SnapshotError):
        import_snapshot(tmp_path, engine=engine, policy=POLICY, now=NOW)
    if engine.dialect.name == "sqlite":
        assert _search_triggers(engine) == 3
        assert _triggers(engine, "sla_day_total_") == 3


def _other_engine(engine: Engine, tmp_path: Path) -> Engine:
    """A second empty store on the same kind of database."""
    if engine.dialect.name == "sqlite":
        other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
        upgrade(other)
        return other
    pytest.skip("one PostgreSQL database per test; the SQLite run covers the deferral")
