"""Syncs a person or the command line starts: one permission check on the stored role, one audit trail,
whoever calls (SPEC §7: every role may refresh one order; only ops and admin sync whole sources)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import audit
from services.cli.system import system_actor
from services.errors import NotFoundError, PermissionDenied
from services.permissions import Actor, Role
from services.sync import refresh_order_as, sync_all_as
from tests.services.sources.simulator import Sim

pytestmark = pytest.mark.timeout(120)
SIM = {"orders": 60}  # the module's simulator (tests/services/conftest.py)
AGENT = Actor("ana", Role.AGENT)
OPS = Actor("oscar", Role.OPS)
ACTORS = [AGENT, OPS]


def _entries(engine: Engine) -> list[tuple[str, str | None, str, str, str | None, dict[str, object]]]:
    with Session(engine) as session:
        return [
            (e.actor, e.role, e.action, e.outcome, e.order_name, e.params)
            for e in audit.list_entries(session, limit=100)
        ][::-1]


def test_an_agent_refreshes_one_order_and_it_is_audited(sqlite_engine: Engine, sim: Sim) -> None:
    settings = sim.settings()
    now = sim.now()
    result = refresh_order_as(
        sqlite_engine, settings, settings.policy(), AGENT, "#2001", sources=["store"], now=now
    )
    assert result.ok
    assert _entries(sqlite_engine)[-1] == (
        "ana",
        "agent",
        "sync.order",
        "ok",
        "#2001",
        {"sources": ["store"], "failed": []},
    )


def test_a_refresh_that_fails_is_audited_as_failed(sqlite_engine: Engine, sim: Sim) -> None:
    settings = sim.settings()
    with pytest.raises(NotFoundError):
        refresh_order_as(
            sqlite_engine, settings, settings.policy(), AGENT, "#999999", sources=["store"], now=sim.now()
        )
    actor, _, action, outcome, order, params = _entries(sqlite_engine)[-1]
    assert (actor, action, outcome, order) == ("ana", "sync.order", "failed", "#999999")
    assert "999999" in str(params["error"])


def test_an_agent_may_not_sync_whole_sources(sqlite_engine: Engine, sim: Sim) -> None:
    settings = sim.settings()
    with pytest.raises(PermissionDenied, match="bulk_sync"):
        sync_all_as(sqlite_engine, settings, settings.policy(), AGENT, sources=["shipbob"], now=sim.now())
    assert _entries(sqlite_engine)[-1][:4] == ("ana", "agent", "sync.all", "denied")


def test_ops_and_the_command_line_leave_the_same_entries(sqlite_engine: Engine, sim: Sim) -> None:
    settings = sim.settings()
    for actor in (OPS, system_actor()):
        results = sync_all_as(
            sqlite_engine, settings, settings.policy(), actor, sources=["shipbob"], now=sim.now()
        )
        assert results["shipbob"].ok
    ops, cli = [e for e in _entries(sqlite_engine) if e[2] == "sync.source"]
    assert ops[:4] == ("oscar", "ops", "sync.source", "ok")
    assert cli[:4] == ("system", None, "sync.source", "ok")
    assert cli[5]["os_user"] == system_actor().os_user
    assert set(cli[5]) - {"os_user"} == set(ops[5]) == {"source", "mode", "records", "error"}
    assert (ops[5]["source"], ops[5]["mode"], ops[5]["error"]) == ("shipbob", "full", None)
    assert (cli[5]["source"], cli[5]["mode"], cli[5]["error"]) == ("shipbob", "incremental", None)
    assert ops[5]["records"] > 0
