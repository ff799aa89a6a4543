"""Constants and helpers of the auth tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.session import make_engine
from services import audit
from services.permissions import Actor, Role

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor("admin", Role.ADMIN)
PASSWORD = "correct horse battery"


def reopened(engine: Engine) -> Engine:
    """A second engine on the same database, as another process would have."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql":
        return make_engine(url)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return make_engine(os.environ["TEST_DATABASE_URL"], connect_args={"options": f"-csearch_path={schema}"})


def entries(engine: Engine, **filters: Any) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        return [(e.actor, e.action, e.outcome) for e in reversed(audit.list_entries(session, **filters))]
