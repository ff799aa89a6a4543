"""Roles and permissions (SPEC §7): the grant table, and `require` refusing with an audited denial."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.models.audit import AuditEntry
from db.models.auth import AppUser
from services import audit
from services.errors import PermissionDenied
from services.permissions import GRANTS, Actor, Permission, Role, allowed, require

NOW = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
ACTORS = (Actor("olga", Role.OPS), Actor("ann", Role.AGENT), Actor("lee", Role.LEAD))

# SPEC §7 transcribed: which roles may do what ("✓" columns agent, ops, lead, admin).
SPEC_TABLE = {
    "lookup": {"agent", "ops", "lead", "admin"},
    "queues": {"agent", "ops", "lead", "admin"},
    "replacement_dry_run": {"agent", "ops", "admin"},
    "replacement_execute": {"ops", "admin"},
    "fix_dry_run": {"agent", "ops", "admin"},
    "fix_execute": {"ops", "admin"},
    "bulk_sync": {"ops", "admin"},
    "metrics": {"ops", "lead", "admin"},
    "administer": {"admin"},
}


@pytest.mark.parametrize("role", ["agent", "ops", "lead", "admin"])
@pytest.mark.parametrize("permission", sorted(SPEC_TABLE))
def test_grant_table_matches_spec(role: str, permission: str) -> None:
    assert allowed(Role(role), Permission(permission)) is (role in SPEC_TABLE[permission])
    assert allowed(role, Permission(permission)) is (role in SPEC_TABLE[permission])


def test_roles_and_permissions_are_exactly_the_spec_ones() -> None:
    assert {r.value for r in Role} == {"agent", "ops", "lead", "admin"}
    assert {p.value for p in Permission} == set(SPEC_TABLE)
    assert set(GRANTS) == set(Permission)


@pytest.mark.parametrize("role", [None, "", "superuser", "ADMIN"])
def test_unknown_or_missing_role_holds_nothing(role: str | None) -> None:
    assert not any(allowed(role, p) for p in Permission)


def _entries(engine: Engine) -> list[AuditEntry]:
    with Session(engine) as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())  # type: ignore[arg-type]


def test_allowed_call_returns_and_writes_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        require(
            session, Actor("olga", Role.OPS), Permission.REPLACEMENT_EXECUTE, action="replacement.execute"
        )
        session.commit()
    assert _entries(engine) == []


def test_denied_call_raises_and_is_audited(engine: Engine) -> None:
    actor = Actor("ann", Role.AGENT, "Ann Agent")
    with Session(engine) as session, pytest.raises(PermissionDenied) as raised:
        require(
            session,
            actor,
            Permission.REPLACEMENT_EXECUTE,
            action="replacement.execute",
            order="#1001",
            params={"sku": "TEE-M", "quantity": 1},
            clock=lambda: NOW,
        )
    assert raised.value.actor == "ann" and raised.value.role == "agent"
    assert raised.value.action == "replacement.execute"
    assert "replacement_execute" in str(raised.value)
    [entry] = _entries(engine)
    assert (entry.actor, entry.role, entry.action, entry.order_name, entry.outcome) == (
        "ann",
        "agent",
        "replacement.execute",
        "#1001",
        "denied",
    )
    assert entry.params == {"quantity": 1, "sku": "TEE-M"}
    assert entry.at == NOW


def test_anonymous_caller_is_denied_and_audited(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(PermissionDenied):
        require(session, None, Permission.LOOKUP, action="order.lookup", clock=lambda: NOW)
    [entry] = _entries(engine)
    assert (entry.actor, entry.role, entry.outcome) == ("anonymous", None, "denied")


def test_denial_survives_the_callers_rollback_after_its_own_writes(engine: Engine) -> None:
    """The caller wrote first (on SQLite it then holds the write lock) and rolls back on the exception."""
    with Session(engine) as session:
        session.add(
            AppUser(username="ghost", role="agent", password_hash="x", created_at=NOW, updated_at=NOW)
        )
        session.flush()
        with pytest.raises(PermissionDenied):
            require(
                session, Actor("lee", Role.LEAD), Permission.BULK_SYNC, action="sync.bulk", clock=lambda: NOW
            )
        session.rollback()
    with Session(engine) as session:
        ghosts = select(func.count()).select_from(AppUser).where(AppUser.username == "ghost")
        assert session.execute(ghosts).scalar_one() == 0 and audit.verify(session).ok
    assert [(e.actor, e.action, e.outcome) for e in _entries(engine)] == [("lee", "sync.bulk", "denied")]


def test_denial_after_the_caller_appended_to_the_chain(engine: Engine) -> None:
    """The caller holds the chain lock; the denial must neither deadlock nor be lost."""
    with Session(engine) as session:
        audit.append(session, actor="olga", role="ops", action="sync.order", outcome="ok", at=NOW)
        with pytest.raises(PermissionDenied):
            require(
                session,
                Actor("olga", Role.OPS),
                Permission.ADMINISTER,
                action="policy.edit",
                clock=lambda: NOW,
            )
        session.commit()
    with Session(engine) as session:
        report = audit.verify(session)
    assert report.ok and report.checked == 2
    assert [(e.action, e.outcome) for e in _entries(engine)] == [
        ("sync.order", "ok"),
        ("policy.edit", "denied"),
    ]


def test_denial_is_recorded_when_the_callers_session_is_closed_without_commit(engine: Engine) -> None:
    session = Session(engine)
    audit.append(session, actor="olga", role="ops", action="sync.order", outcome="ok", at=NOW)
    with pytest.raises(PermissionDenied):
        require(
            session, Actor("ann", Role.AGENT), Permission.METRICS, action="metrics.export", clock=lambda: NOW
        )
    session.close()
    assert [(e.actor, e.action, e.outcome) for e in _entries(engine)] == [("ann", "metrics.export", "denied")]


def test_the_role_an_actor_claims_is_not_trusted(engine: Engine) -> None:
    """`require` reads the role from the database: an Actor saying "admin" for an agent, an unknown
    user, or a disabled one is refused, and the refusal names the stored role."""
    with Session(engine) as session:
        with pytest.raises(PermissionDenied):
            require(session, Actor("ann", Role.ADMIN), Permission.ADMINISTER, action="user.list")
        with pytest.raises(PermissionDenied):
            require(session, Actor("nobody", Role.ADMIN), Permission.ADMINISTER, action="user.list")
        session.execute(
            AppUser.__table__.update().where(AppUser.__table__.c.username == "olga").values(disabled=True)
        )  # type: ignore[attr-defined]
        session.commit()
        with pytest.raises(PermissionDenied):
            require(session, Actor("olga", Role.OPS), Permission.BULK_SYNC, action="sync.bulk")
    assert [(e.actor, e.role, e.outcome) for e in _entries(engine)] == [
        ("ann", "agent", "denied"),
        ("nobody", None, "denied"),
        ("olga", None, "denied"),
    ]
