""" "Has a fix": the overdue queue and the discrepancies narrowed to what a guided fix mends."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from services import fixes, queries, queue
from tests.services.fixes.support import World, sim
from tests.services.sources.simulator import Sim

__all__ = ["sim"]
pytestmark = pytest.mark.timeout(120)


def test_the_fixable_codes_are_the_fixes_discrepancies() -> None:
    assert set(queries.FIXABLE_CODES) == set(fixes.offered_codes()) - {"sync_delay"}


def test_the_queue_filtered_by_has_a_fix_is_the_queue_rows_with_a_fixable_code(
    engine: Engine, sim: Sim
) -> None:
    world = World(engine, sim)
    with engine.connect() as conn:
        everything = queue.overdue_queue(conn, as_of=world.now, policy=world.policy)
        fixable = queue.overdue_queue(conn, as_of=world.now, policy=world.policy, has_fix=True)
        count = queue.count_overdue(conn, as_of=world.now, policy=world.policy, has_fix=True)
        unclaimed = queue.overdue_queue(
            conn, as_of=world.now, policy=world.policy, owner="unclaimed", has_fix=True
        )
    expected = [r.order for r in everything if set(r.discrepancies) & set(queries.FIXABLE_CODES)]
    assert expected and [r.order for r in fixable] == expected and count == len(expected)
    assert [r.order for r in unclaimed] == expected
    assert len(expected) < len(everything)


def test_discrepancies_narrowed_to_the_fixable_codes(sqlite_engine: Engine, sim: Sim) -> None:
    world = World(sqlite_engine, sim)
    with sqlite_engine.connect() as conn:
        rows = queries.discrepancies(conn, as_of=world.now, policy=world.policy, codes=queries.FIXABLE_CODES)
    assert {r.code for r in rows} == set(queries.FIXABLE_CODES)
