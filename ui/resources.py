"""Process-wide resources (cached once) and the per-run context every page reads.

Session-state keys owned here:
- ``as_of``: an ISO time the pages evaluate at instead of now (tests and demos of a past day).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import streamlit as st
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from checks.policy import SlaPolicy
from db.migrate import upgrade
from db.session import make_engine, session_scope
from services.policy_change import require_in_step
from services.settings import Settings, get_settings


def settings() -> Settings:
    return get_settings()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def engine() -> Engine:
    """The migrated engine of the configured database (created once per process)."""
    return _engine(settings().database_url)


@st.cache_resource(show_spinner=False)
def _policy(url: str, config: str | None) -> SlaPolicy:
    policy = settings().policy()
    with _engine(url).connect() as conn:
        require_in_step(conn, policy)  # raised, so not cached: asked again on the next run
    return policy


def policy() -> SlaPolicy:
    """The SLA policy, once the stored classifications follow it (`PolicyNotApplied` until then: a
    reclassification of every order is a start-up or CLI step, never part of a page's render)."""
    current = settings()
    return _policy(current.database_url, str(current.order_recon_config or ""))


def as_of() -> datetime:
    """The moment every page evaluates at: now, unless ``st.session_state["as_of"]`` names another."""
    override = st.session_state.get("as_of")
    if override:
        moment = datetime.fromisoformat(str(override))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


@contextmanager
def connect() -> Iterator[Connection]:
    """A read connection for one render."""
    with engine().connect() as conn:
        yield conn


@contextmanager
def session() -> Iterator[Session]:
    """A session that commits on success (writes: claims, users, audit)."""
    with session_scope(engine()) as current:
        yield current


@st.cache_data(ttl=300, show_spinner=False)
def _filter_values(url: str) -> dict[str, list[str]]:
    from services.queue import queue_filter_values

    with _engine(url).connect() as conn:
        return queue_filter_values(conn)


def cached_filter_values() -> dict[str, list[str]]:
    """Shipping methods and warehouses for the queue's filters (refreshed every 5 minutes)."""
    return _filter_values(settings().database_url)
