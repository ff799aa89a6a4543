"""Service tests act as users the database knows: `require` reads the role from there, never from the
Actor. A test module lists its actors in `ACTORS`; they are added to every database its tests get."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from db.session import session_scope
from services.auth.users import USER, insert_ignore
from services.permissions import Actor
from tests.services.sources.simulator import Sim, simulator

_ENGINE_FIXTURES = ("engine", "sqlite_engine", "pg_engine", "store")


def register_actors(engine: Engine, actors: Iterable[Actor]) -> None:
    """Add each actor as an enabled user with its role (no usable password: they never sign in)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        for actor in actors:
            insert_ignore(
                session,
                USER,
                {
                    "username": actor.username,
                    "display_name": actor.display_name,
                    "role": str(actor.role),
                    "password_hash": "!",  # matches no password
                    "disabled": False,
                    "created_at": now,
                    "updated_at": now,
                },
                key="username",
            )


@pytest.fixture(autouse=True)
def _module_actors(request: pytest.FixtureRequest) -> None:
    actors = getattr(request.module, "ACTORS", None)
    if not actors:
        return
    for name in _ENGINE_FIXTURES:
        if name in request.fixturenames:
            engine = request.getfixturevalue(name)
            if isinstance(engine, Engine):
                register_actors(engine, actors)


@pytest.fixture(scope="module")
def sim(request: pytest.FixtureRequest) -> Iterator[Sim]:
    """One simulator for a module's tests; the module's `SIM` dict (e.g. `{"orders": 60}`) sizes it."""
    with simulator(**getattr(request.module, "SIM", {})) as running:
        yield running


@pytest.fixture
def clean_sim(sim: Sim) -> Iterator[Sim]:
    """The module's simulator with no faults and an empty request log, its faults cleared afterwards."""
    sim.clear_faults()
    sim.reset_requests()
    yield sim
    sim.clear_faults()
