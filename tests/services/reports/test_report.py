"""The report's figures and stage breakdown on SQLite and PostgreSQL, and who may make it (SPEC §7, §9)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from db.models.audit import AuditEntry
from db.session import session_scope
from services import sla
from services.errors import PermissionDenied
from services.permissions import Actor, Role
from services.reports import render_report, report_data
from services.reports.stages import ALL_WAREHOUSES, stage_breakdown, stage_durations
from services.settings import Settings
from services.store import T_CLASS, T_WAREHOUSE
from tests.services.conftest import register_actors
from tests.services.notify.support import POLICY, T0

FROM, TO = date(2026, 10, 21), date(2026, 11, 20)
LEAD, AGENT = Actor("lee", Role.LEAD), Actor("agent7", Role.AGENT)
ACTORS = (LEAD, AGENT)  # known to the database (tests/services/conftest.py)


def test_the_figures_are_the_metrics_and_the_series_add_up(loaded: Engine) -> None:
    with loaded.connect() as conn:
        data = report_data(conn, date_from=FROM, date_to=TO, as_of=T0, policy=POLICY)
        metrics = sla.sla_metrics(conn, date_from=FROM, date_to=TO, as_of=T0, policy=POLICY, actor=LEAD)
    assert data.metrics == metrics
    assert len(data.daily) == (TO - FROM).days + 1
    for outcome in ("on_time", "late", "open_breach", "open"):
        assert sum(getattr(p, outcome) for p in data.daily) == getattr(metrics, outcome)
        assert sum(getattr(p, outcome) for p in data.weekly) == getattr(metrics, outcome)
    for counts in data.breaches.values():
        assert sum(b.breaches for b in counts) == metrics.late + metrics.open_breach
    assert sum(data.informational.values()) == metrics.noise_removed
    assert len(data.oldest_open) == min(20, metrics.open_breach)
    assert [r.due_at for r in data.oldest_open] == sorted(r.due_at for r in data.oldest_open)


def test_stage_breakdown_covers_the_period_per_warehouse(loaded: Engine) -> None:
    with loaded.connect() as conn:
        durations = stage_durations(conn, date_from=FROM, date_to=TO)
        handed_over = conn.scalar(
            select(func.count(func.distinct(T_CLASS.c.order_id)))
            .join(T_WAREHOUSE, T_WAREHOUSE.c.store_order_id == T_CLASS.c.order_id)
            .where(
                T_CLASS.c.due_day.between(FROM, TO),
                (T_CLASS.c.base_category.in_(("open", "sync_delay")))
                | ((T_CLASS.c.base_category == "fulfilled") & T_CLASS.c.shipped_at.is_not(None)),
                T_WAREHOUSE.c.created_date.is_not(None),
            )
        )
    figures = {(f.warehouse, f.stage): f for f in stage_breakdown(durations)}
    assert figures[(ALL_WAREHOUSES, "handoff")].orders == handed_over > 0
    for stage in ("handoff", "3pl", "first_scan"):
        overall = figures[(ALL_WAREHOUSES, stage)]
        assert overall.orders > 0
        assert (
            sum(f.orders for (w, s), f in figures.items() if s == stage and w != ALL_WAREHOUSES)
            == overall.orders
        )
        assert overall.median_hours is not None and overall.p90_hours is not None
        assert (
            0 <= overall.median_hours <= overall.p90_hours
        )  # a label created is not a scan: never negative here


def test_median_and_p90_per_warehouse() -> None:
    durations = [("East", "3pl", float(h)) for h in range(1, 11)] + [("West", "handoff", 2.0)]
    figures = {(f.warehouse, f.stage): f for f in stage_breakdown(durations)}
    east = figures[("East", "3pl")]
    assert (east.orders, east.median_hours, east.p90_hours) == (10, 5.5, pytest.approx(9.1))
    assert figures[("East", "handoff")].orders == 0 and figures[("East", "handoff")].median_hours is None
    assert figures[(ALL_WAREHOUSES, "handoff")].median_hours == 2.0


@pytest.mark.parametrize("role", [Role.OPS, Role.LEAD, Role.ADMIN])
def test_ops_lead_and_admin_may_make_the_report(loaded: Engine, role: Role) -> None:
    someone = Actor("someone", role)
    register_actors(loaded, [someone])
    report = render_report(loaded, date_from=FROM, date_to=TO, as_of=T0, policy=POLICY, settings=Settings(),
                           actor=someone, now=T0, fmt="html")  # fmt: skip
    assert report.content.startswith(b"<!doctype html>")
    with session_scope(loaded) as session:
        (entry,) = session.execute(select(AuditEntry).where(AuditEntry.action == "report.sla")).scalars()
    assert (entry.actor, entry.outcome, entry.params["from"]) == ("someone", "ok", "2026-10-21")


def test_an_agent_may_not_and_the_refusal_is_audited(loaded: Engine) -> None:
    with pytest.raises(PermissionDenied):
        render_report(loaded, date_from=FROM, date_to=TO, as_of=T0, policy=POLICY, settings=Settings(),
                      actor=AGENT, now=datetime(2026, 11, 20, tzinfo=T0.tzinfo))  # fmt: skip
    with session_scope(loaded) as session:
        (entry,) = session.execute(select(AuditEntry).where(AuditEntry.action == "report.sla")).scalars()
    assert (entry.actor, entry.outcome) == ("agent7", "denied")
