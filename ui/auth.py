"""Sign-in: streamlit-authenticator over the users in the database, or an OIDC provider via `st.login()`.

Every run starts with `signed_in_actor()`, which returns the Actor or renders the sign-in page and stops.

Session-state keys: streamlit-authenticator's own (`authentication_status`, `username`, `name`, `roles`,
`logout`), and `auth.signing_out` / `auth.notice` (set by the sign-out button, and a message for the
sign-in page). Test seam: a test that sets `authentication_status = True` and `username` is signed in as
that user without the widget; the user is still read from the database on every run, as for everyone.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import UTC, datetime
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from db.session import session_scope
from services import auth
from services.errors import AuthenticationError
from services.permissions import Actor
from services.settings import Settings
from ui import navigation, resources

COOKIE_NAME = "order_recon_session"
MIN_COOKIE_KEY = 32


@st.cache_resource(show_spinner=False)
def _demo_cookie_key() -> str:
    """Demo mode without a configured key: one random key per process (cookies end with the process)."""
    return secrets.token_urlsafe(48)


def cookie_key(settings: Settings) -> str:
    """The cookie signing key; outside demo mode a missing or short key stops the app."""
    key = settings.cookie_key or ""
    if len(key) >= MIN_COOKIE_KEY:
        return key
    if settings.demo_mode:
        return _demo_cookie_key()
    st.error(
        f"COOKIE_KEY is missing or shorter than {MIN_COOKIE_KEY} characters. Set it in the environment or in "
        "`.streamlit/secrets.toml`; the console does not start without it outside demo mode."
    )
    _stop_signed_out()
    raise AssertionError("unreachable")


def _secret(name: str) -> Any:
    try:
        return st.secrets.get(name)
    except FileNotFoundError:  # no secrets file at all
        return None


def oidc_configured() -> bool:
    return bool(_secret("auth"))


def _make_authenticator(settings: Settings) -> stauth.Authenticate:
    """The one authenticator of this run, whose password check is the database's (throttled and audited)."""
    engine = resources.engine()
    with session_scope(engine) as session:
        credentials = auth.authenticator_credentials(session)
    authenticator = stauth.Authenticate(
        credentials,
        COOKIE_NAME,
        cookie_key(settings),
        settings.cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,
    )

    def check_credentials(username: str, password: str) -> bool:
        # Called once per submitted form, never on a plain rerun: the attempt is recorded exactly once.
        with session_scope(engine) as session:
            auth.verify_password(session, username, password, datetime.now(UTC))
        return True

    authenticator.authentication_controller.authentication_model.check_credentials = check_credentials
    return authenticator


def _active(username: str) -> Actor | None:
    with resources.session() as session:
        return auth.get_active_user(session, username)


def _oidc_actor() -> Actor | None:
    if not (oidc_configured() and st.user.is_logged_in):
        return None
    email = str(st.user.get("email") or "")
    with resources.session() as session:
        actor = auth.actor_for_email(session, email)
    if actor is None:
        st.error(
            f"{email or 'This account'} has no role in order-recon. Ask an admin to add your email to a user."
        )
        st.button("Sign out", on_click=st.logout, key="auth.oidc_refused")
        _stop_signed_out()
    return actor


def signed_in_actor() -> Actor:
    """The signed-in user, checked against the database on every run (a disabled user is signed out)."""
    settings = resources.settings()
    cookie_key(settings)
    oidc = _oidc_actor()
    if oidc is not None:
        return oidc
    authenticator: stauth.Authenticate | None = None
    username = st.session_state.get("username")
    if st.session_state.get("authentication_status") and username:
        actor = None if st.session_state.pop("auth.signing_out", False) else _active(username)
        if actor is not None:
            return actor
        authenticator = _make_authenticator(settings)
        if not st.session_state.get("auth.notice"):
            st.session_state["auth.notice"] = "Your account is disabled; you have been signed out."
        authenticator.logout(location="unrendered")
    authenticator = authenticator or _make_authenticator(settings)
    # A valid session cookie signs in without drawing the sign-in page; one of a user who is no longer
    # active raises LoginError, and the form is shown.
    with contextlib.suppress(LoginError):
        authenticator.login(location="unrendered")
    if not st.session_state.get("authentication_status"):
        _sign_in_page(authenticator, settings)
    username = st.session_state.get("username")
    if st.session_state.get("authentication_status") and username:
        actor = _active(username)
        if actor is not None:
            st.session_state.pop("auth.notice", None)
            return actor
    _stop_signed_out()
    raise AssertionError("unreachable")


def _stop_signed_out() -> None:
    """End a signed-out run. Home.py has already registered every page (ui.navigation), so the URL asked
    for stays the current page: a sign-in reruns on it, keeping the form's submission and the query."""
    st.session_state.pop("actor", None)
    st.stop()


def _sign_in_page(authenticator: stauth.Authenticate, settings: Settings) -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("order-recon")
        st.caption("Store, 3PL and carrier data for one order, side by side.")
        notice = st.session_state.get("auth.notice")
        if notice:
            st.warning(notice)
        try:
            authenticator.login(
                location="main", key="login.form", fields={"Form name": "Sign in", "Login": "Sign in"}
            )
        except (AuthenticationError, LoginError) as exc:
            st.error(str(exc))
        if oidc_configured():
            st.button(
                "Sign in with your company account",
                on_click=st.login,
                key="login.oidc",
                icon=":material/key:",
            )
        if settings.demo_mode:
            _demo_credentials()


def _demo_credentials() -> None:
    users = _secret("demo_users") or {}
    if not users:
        return
    with st.container(border=True):
        st.markdown("**Demo mode** — sign in as one of these users:")
        st.table([{"username": name, "password": password} for name, password in dict(users).items()])


def sign_out_button(actor: Actor) -> None:
    """The sidebar's who-am-I and sign-out button."""
    st.sidebar.markdown(f"**{actor.display_name or actor.username}**  \n`{actor.role}`")
    if oidc_configured() and st.user.is_logged_in:
        st.sidebar.button("Sign out", on_click=st.logout, key="auth.sign_out", icon=":material/logout:")
        return

    def sign_out() -> None:
        st.session_state["auth.signing_out"] = True
        st.session_state["auth.notice"] = "You have signed out."

    st.sidebar.button("Sign out", on_click=sign_out, key="auth.sign_out", icon=":material/logout:")


def current_actor() -> Actor:
    """The user Home.py signed in for this run (session-state key `actor`, set on every run)."""
    actor = st.session_state.get("actor")
    if not isinstance(actor, Actor):  # a page script run on its own (a fresh server's first request)
        navigation.leave_folder_mode()
        st.info("Your session has ended. [Sign in](/) to continue.")
        st.stop()
    return actor
