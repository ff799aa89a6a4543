"""The replacement dialog under AppTest: opened from its session-state flag, clicked inside, per role.

Uses the console fixtures of `tests/pages` (the small-store sample; no 3PL, so inventory is the stored copy).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pages.conftest import app, console_db, console_env, fresh_db

__all__ = ["console_db", "console_env", "fresh_db"]  # fixtures of tests/pages, imported for these tests


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """AppTest installs the app script as `__main__`; put the real one back for later (spawning) tests."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def _lookup(role: str, order: str) -> Any:
    at = app(role, "lookup")
    at.text_input(key="lookup.query").input(order).run()
    at.session_state["replacement.open"] = order  # what the "Create replacement" button sets
    return at.run()


def _texts(at: Any) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for kind in (at.info, at.warning, at.error, at.success) for e in kind]
    return "\n".join(str(p) for p in parts)


def test_an_agent_previews_but_cannot_create(console_db: Any, console_env: Any) -> None:
    console_env(console_db)
    at = _lookup("agent", "#2006")
    assert not at.exception
    assert "stored copy" in _texts(at)  # no 3PL configured: the dialog says stock was not read live
    at.button(key="replacement.preview").click().run()
    assert not at.exception and not at.error
    assert json.loads(at.json[0].value)["reference_id"] == "5410000000006-R1"
    assert "Only ops or admin can create it" in _texts(at)
    assert "replacement.create" not in [b.key for b in at.button]


def test_ops_sees_why_a_blocked_order_cannot_be_replaced(console_db: Any, console_env: Any) -> None:
    console_env(console_db)
    at = _lookup("ops", "#2001")  # nothing has shipped yet
    assert not at.exception
    assert at.button(key="replacement.open_button").disabled
    texts = _texts(at)
    assert "Not possible" in texts and "order.shipped" in texts
    assert "replacement.preview" not in [b.key for b in at.button]


def test_an_error_from_create_is_shown_once_in_the_dialog(console_db: Any, console_env: Any) -> None:
    console_env(console_db)  # no 3PL configured: execute refuses and names the setting
    at = _lookup("ops", "#2006")
    at.button(key="replacement.preview").click().run()
    at.text_input(key="replacement.confirm").input("#2006").run()
    at.button(key="replacement.create").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["SHIPBOB_API_URL is not set: shipbob cannot be reached."]
    assert at.session_state["replacement.open"] == "#2006"  # the dialog stays open with the plan


def _stale_reservation(console: Any, order_id: int, name: str) -> str:
    """A `pending` replacement an hour old: its process stopped before the 3PL's answer was recorded."""
    from datetime import UTC, datetime, timedelta

    from db.session import session_scope
    from services.permissions import Actor, Role
    from services.replacements import records

    with session_scope(console.engine) as s:
        reservation = records.reserve(
            s.connection(),
            order_id=order_id,
            order_name=name,
            seq=1,
            reference_id=f"{order_id}-R1",
            items=(),
            payload={},
            actor=Actor("olga", Role.OPS),
            now=datetime.now(UTC) - timedelta(hours=1),
        )
    return reservation.reference_id


def test_ops_settles_a_replacement_left_pending(fresh_db: Any, console_env: Any) -> None:
    from tests.conftest import SMALL_STORE
    from tests.services.sources.simulator import simulator

    reference = _stale_reservation(fresh_db, 5410000000006, "#2006")
    with simulator(50) as sim:  # a 3PL that never received the reference
        console_env(
            fresh_db, sources=sim.running.settings(), ORDER_RECON_CONFIG=str(SMALL_STORE / "sla.toml")
        )
        agent = app("agent", "lookup")
        agent.text_input(key="lookup.query").input("#2006").run()
        assert "has been pending since" in _texts(agent) and "Ops or an admin can settle it." in _texts(agent)
        assert "replacement.settle" not in [b.key for b in agent.button]

        at = app("ops", "lookup")
        at.text_input(key="lookup.query").input("#2006").run()
        assert at.button(key="replacement.open_button").disabled  # the reservation blocks: replacement.exists
        at.button(key="replacement.settle").click().run()
        assert not at.exception and not at.error
        assert f"{reference} is not at the 3PL: recorded as failed" in _texts(at)
        assert "has been pending since" not in _texts(at)
        assert not at.button(key="replacement.open_button").disabled  # it can be created again
