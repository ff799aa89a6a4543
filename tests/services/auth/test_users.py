"""Reading users: credentials for streamlit-authenticator."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import auth


def test_credentials_are_prehashed_for_streamlit_authenticator(engine: Engine, demo: dict[str, str]) -> None:
    from streamlit_authenticator.utilities.hasher import Hasher

    with Session(engine) as session:
        credentials = auth.authenticator_credentials(session)
    for name, user in credentials["usernames"].items():
        assert Hasher.is_hash(user["password"])
        assert Hasher.check_pw(demo[name], user["password"])
