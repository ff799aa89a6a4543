"""The guided-fix dialog under AppTest: a button per fixable discrepancy; agents preview, ops run it.

The console's database is synced from the simulator, which is the store and the 3PL the fixes call.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from db.migrate import upgrade
from db.models import AppUser
from db.session import make_engine, session_scope
from services import auth, queue
from services.policy_change import ensure_policy
from services.sync import sync_all
from tests.pages.conftest import Console, app, console_env
from tests.services.fixes.support import World
from tests.services.sources.simulator import Sim, simulator

__all__ = ["console_env"]
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """AppTest installs the app script as `__main__`; put the real one back for later (spawning) tests."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture(scope="module")
def running() -> Iterator[Sim]:
    with simulator(orders=600, seed=7) as sim:
        yield sim


@pytest.fixture
def synced(running: Sim, tmp_path: Path, console_env: Any) -> World:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    engine = make_engine(url)
    upgrade(engine)
    rounds, auth.credentials.BCRYPT_ROUNDS = auth.credentials.BCRYPT_ROUNDS, 4
    try:
        with session_scope(engine) as session:
            passwords = auth.ensure_demo_users(session, datetime.now(UTC), demo_mode=True)
            session.execute(update(AppUser).values(is_demo=False))  # ordinary users: DEMO_MODE is off
    finally:
        auth.credentials.BCRYPT_ROUNDS = rounds
    settings = running.settings(database_url=url)
    with engine.begin() as conn:
        ensure_policy(conn, settings.policy(), datetime.now(UTC))
    sync_all(engine, settings, settings.policy(), now=datetime.now(UTC), full=True)
    console_env(Console(url, engine, passwords), sources=running.running.settings())
    return World(engine, running)


def _open(role: str, world: World, kind: str) -> tuple[Any, str]:
    name = world.pick(kind)
    at = app(role, "lookup", as_of=world.now.isoformat())
    at.text_input(key="lookup.query").input(name).run()
    assert not at.exception
    assert f"fix.open.{kind}" in [b.key for b in at.button]
    at.session_state["fix.open"] = (name, kind)  # what the button sets
    return at.run(), name


def _texts(at: Any) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in (at.info, at.warning, at.error, at.success) for e in kind]
    return "\n".join(str(p) for p in parts)


def test_an_agent_previews_the_exact_request_but_cannot_run_it(synced: World) -> None:
    at, _ = _open("agent", synced, "push-tracking")
    at.button(key="fix.preview").click().run()
    assert not at.exception and not at.error
    assert any("fulfillmentTrackingInfoUpdate(" in c.value for c in at.code)
    assert "Only ops or admin can run it" in _texts(at)
    assert "fix.run" not in [b.key for b in at.button]


def test_ops_runs_a_fix_after_typing_the_name_and_sees_the_order_again(synced: World) -> None:
    at, name = _open("ops", synced, "send-to-3pl")
    at.button(key="fix.preview").click().run()
    assert "POST /2026-07/order" in _texts(at)
    before = synced.calls("send-to-3pl")
    at.text_input(key="fix.confirm").input("wrong").run()
    at.button(key="fix.run").click().run()
    assert [e.value for e in at.error] == [f"Type the order name {name} exactly to confirm the fix."]
    assert synced.calls("send-to-3pl") == before
    at.text_input(key="fix.confirm").input(name).run()
    at.button(key="fix.run").click().run()
    assert not at.exception and not at.error
    done = _texts(at)
    assert "Send to the 3PL: done by ops (sent)." in done and "missing_at_3pl" not in done.split("Now")[-1]
    assert synced.calls("send-to-3pl") - before == 1
    assert "fix.open.send-to-3pl" not in [b.key for b in at.button]  # nothing left to mend


def test_the_overdue_queue_filters_by_has_a_fix(synced: World) -> None:

    at = app("ops", "overdue", as_of=synced.now.isoformat())
    assert not at.exception
    at.toggle(key="overdue.has_fix").set_value(True).run()
    assert not at.exception
    with synced.engine.connect() as conn:
        expected = queue.count_overdue(conn, as_of=synced.now, policy=synced.policy, has_fix=True)
        everything = queue.count_overdue(conn, as_of=synced.now, policy=synced.policy)
    assert 0 < expected < everything
    assert at.metric[0].value == f"{expected:,}"
