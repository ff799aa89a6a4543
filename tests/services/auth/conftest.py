"""Fixtures of the auth tests: fast bcrypt and the demo users."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from db.session import session_scope
from services import auth
from tests.services.auth.support import NOW


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth.credentials, "BCRYPT_ROUNDS", 4)


@pytest.fixture(autouse=True)
def _demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo users sign in only in demo mode; tests about production mode pass demo_mode=False."""
    from services.settings import get_settings

    monkeypatch.setenv("DEMO_MODE", "true")
    get_settings.cache_clear()


@pytest.fixture
def demo(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return auth.ensure_demo_users(session, NOW, demo_mode=True)
