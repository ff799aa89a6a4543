"""Claims: one holder per order, released by the holder or an admin, audited, and the queue by owner."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from db.models import AuditEntry
from db.session import session_scope
from services import claims, queue
from services.errors import ConflictError, NotFoundError, PermissionDenied
from services.lookup.orders import find_order_id
from services.permissions import Actor, Role
from services.settings import Settings
from services.snapshot import import_snapshot
from tests.conftest import SMALL_STORE

AS_OF = datetime(2026, 7, 6, 14, tzinfo=UTC)
AGENT, OPS, ADMIN = Actor("agent", Role.AGENT), Actor("ops", Role.OPS), Actor("admin", Role.ADMIN)
ACTORS = (AGENT, OPS, ADMIN)  # known to the database (tests/services/conftest.py)
POLICY = Settings(order_recon_config=SMALL_STORE / "sla.toml").policy()


@pytest.fixture
def store(engine: Engine) -> Engine:
    import_snapshot(SMALL_STORE, engine=engine, policy=POLICY, now=AS_OF)
    return engine


def _audit(engine: Engine) -> list[tuple[str, str, str | None, str]]:
    with session_scope(engine) as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
        return [(e.actor, e.action, e.order_name, e.outcome) for e in rows]


def test_claim_is_held_once_and_audited(store: Engine) -> None:
    with session_scope(store) as session:
        held = claims.claim(session, order="2001", actor=AGENT, now=AS_OF)
        again = claims.claim(session, order="#2001", actor=AGENT, now=AS_OF)
    assert held.username == again.username == "agent"
    assert _audit(store) == [("agent", "order.claim", "#2001", "ok")]


def test_someone_else_cannot_claim_or_release(store: Engine) -> None:
    with session_scope(store) as session:
        claims.claim(session, order="#2001", actor=AGENT, now=AS_OF)
    with pytest.raises(ConflictError, match="already claimed by agent"), session_scope(store) as session:
        claims.claim(session, order="#2001", actor=OPS, now=AS_OF)
    with pytest.raises(ConflictError, match="only they or an admin"), session_scope(store) as session:
        claims.release(session, order="#2001", actor=OPS, now=AS_OF)
    with session_scope(store) as session:
        order_id = find_order_id(session.connection(), "#2001")
        assert order_id is not None
        assert claims.claims_for(session.connection(), [order_id])[order_id].username == "agent"


def test_holder_or_admin_releases(store: Engine) -> None:
    with session_scope(store) as session:
        claims.claim(session, order="#2001", actor=AGENT, now=AS_OF)
        claims.release(session, order="#2001", actor=AGENT, now=AS_OF)
        claims.claim(session, order="#2001", actor=OPS, now=AS_OF)
        claims.release(session, order="#2001", actor=ADMIN, now=AS_OF)
        assert claims.my_claims(session.connection(), "ops") == []
    assert _audit(store)[-1] == ("admin", "order.release", "#2001", "ok")


def test_unknown_order_and_no_actor(store: Engine) -> None:
    with pytest.raises(NotFoundError), session_scope(store) as session:
        claims.claim(session, order="#404", actor=AGENT, now=AS_OF)
    with pytest.raises(PermissionDenied), session_scope(store) as session:
        claims.claim(session, order="#2001", actor=None, now=AS_OF)
    assert _audit(store)[-1][1:] == ("order.claim", "#2001", "denied")


def test_queue_by_owner_pages_in_sql(store: Engine) -> None:
    with session_scope(store) as session:
        claims.claim(session, order="#2001", actor=AGENT, now=AS_OF)
    with store.connect() as conn:
        everyone = [r.order for r in queue.overdue_queue(conn, as_of=AS_OF, policy=POLICY)]
        mine = [
            r.order
            for r in queue.overdue_queue(conn, as_of=AS_OF, policy=POLICY, owner="me", username="agent")
        ]
        free = [r.order for r in queue.overdue_queue(conn, as_of=AS_OF, policy=POLICY, owner="unclaimed")]
        assert mine == ["#2001"] and "#2001" not in free and sorted(mine + free) == sorted(everyone)
        assert queue.count_overdue(conn, as_of=AS_OF, policy=POLICY, owner="unclaimed") == len(free)
        assert (
            queue.overdue_queue(
                conn, as_of=AS_OF, policy=POLICY, owner="unclaimed", limit=1, offset=len(free)
            )
            == []
        )
        assert queue.queue_filter_values(conn)["shipping_method"]
