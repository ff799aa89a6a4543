"""Passwords are stored as bcrypt hashes only."""

from __future__ import annotations

import bcrypt
from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.session import session_scope
from services import auth
from tests.services.auth.support import ADMIN, NOW, PASSWORD


def test_passwords_are_stored_as_bcrypt_hashes_only(engine: Engine, demo: dict[str, str]) -> None:
    with session_scope(engine) as session:
        auth.create_user(session, username="dana", password=PASSWORD, role="ops", actor=ADMIN, now=NOW)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT username, password_hash FROM app_user")).tuples().all())
    plain = {**demo, "dana": PASSWORD}
    for name, password in plain.items():
        assert stored[name].startswith("$2") and password not in stored[name]
        assert bcrypt.checkpw(password.encode(), stored[name].encode())
