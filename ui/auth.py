"""Sign-in: a password form over the users in the database, or an OIDC provider via `st.login()`; either
way a server-side session (services.auth.sessions) that every run checks again.

Every run starts with `signed_in_actor()`, which returns the Actor or renders the sign-in page and stops.
The session's token lives in session state (`auth.token`) and, signed with `COOKIE_KEY`, in the cookie
`order_recon_session`, which a new browser tab or a reload resumes from. A cookie that is malformed,
forged, or of a session that was revoked, timed out or whose user changed means "signed out".

Session-state keys: `auth.token`, `auth.notice` (a message for the sign-in page). Every sign-in (form,
cookie, OIDC) and sign-out is audited.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import streamlit as st

from services import audit, audit_key, auth
from services.auth import sessions
from services.errors import AuthenticationError, ConfigurationError
from services.permissions import Actor
from services.settings import Settings
from ui import navigation, resources

COOKIE_NAME = "order_recon_session"
TOKEN = "auth.token"
NOTICE = "auth.notice"
COOKIE_CHANGE = "auth.cookie_change"  # ("set", value) or ("delete", None): done in the next run's body


@st.cache_resource(show_spinner=False)
def _demo_cookie_key() -> str:
    """Demo mode without a usable key: one random key per process (cookies end with the process)."""
    return secrets.token_urlsafe(48)


def cookie_key(settings: Settings) -> str:
    """The cookie signing key; outside demo mode a missing, short or low-entropy key stops the app."""
    try:
        return sessions.valid_cookie_key(settings.cookie_key)
    except ConfigurationError as exc:
        if settings.demo_mode:
            return _demo_cookie_key()
        st.error(f"{exc} Set it in the environment or in `.streamlit/secrets.toml`.")
        _stop_signed_out()
        raise AssertionError("unreachable") from None


def _require_audit_key() -> None:
    """Outside demo mode nothing may happen unaudited: without AUDIT_KEY the console does not start."""
    try:
        audit_key.current_key()
    except ConfigurationError as exc:
        st.error(f"{exc} Set it in the environment or in `.streamlit/secrets.toml`.")
        _stop_signed_out()


def _secret(name: str) -> Any:
    try:
        return st.secrets.get(name)
    except FileNotFoundError:  # no secrets file at all
        return None


def oidc_configured() -> bool:
    return bool(_secret("auth"))


def client_address(settings: Settings) -> str | None:
    """Who is asking, for the per-client sign-in limit: the proxy's header when the deployment names one
    (its last hop, the one the proxy itself saw), else the socket's address."""
    if settings.trusted_proxy_header:
        forwarded = st.context.headers.get(settings.trusted_proxy_header)
        if isinstance(forwarded, str) and forwarded.strip():
            return forwarded.split(",")[-1].strip()[:64] or None
    address = getattr(st.context, "ip_address", None)
    return address[:64] if isinstance(address, str) and address else None  # none under AppTest


def _now() -> datetime:
    return datetime.now(UTC)


def _idle(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.session_idle_minutes)


def _cookies(key: str = "auth.cookies") -> Any:
    import extra_streamlit_components as stx

    return stx.CookieManager(key=key)


def _start_session(actor: Actor, via: str, settings: Settings, *, set_cookie: bool) -> None:
    with resources.session() as session:
        token = sessions.start(session, actor, via=via, now=_now(), client=client_address(settings))
        session.commit()
    st.session_state[TOKEN] = token
    if set_cookie:
        st.session_state[COOKIE_CHANGE] = ("set", sessions.sign_cookie(token, cookie_key(settings)))


def _apply_cookie_change(settings: Settings) -> None:
    """Set or delete the cookie asked for by a callback, from the script's body (a component rendered
    inside a callback may never mount). A set is rendered again on every run until the browser reports
    the cookie back: a rerun that comes before the component's frame has loaded would otherwise lose it."""
    change = st.session_state.get(COOKIE_CHANGE)
    if change is None:
        return
    if change[0] == "set":
        cookies = _cookies()
        tries = st.session_state.get("auth.cookie_tries", 0)
        if cookies.cookies.get(COOKIE_NAME) == change[1] or tries >= 30:
            st.session_state.pop(COOKIE_CHANGE, None)
            st.session_state.pop("auth.cookie_tries", None)
            return
        st.session_state["auth.cookie_tries"] = tries + 1
        expires = datetime.now() + timedelta(days=settings.cookie_expiry_days)
        cookies.set(COOKIE_NAME, change[1], expires_at=expires, key="auth.cookie_set")
    else:
        st.session_state.pop(COOKIE_CHANGE, None)
        _delete_cookie()


def _delete_cookie() -> None:
    with contextlib.suppress(KeyError):  # the component forgets a cookie it never listed
        _cookies("auth.cookies_for_delete").delete(COOKIE_NAME, key="auth.cookie_delete")


def _resume(token: str, settings: Settings) -> Actor | None:
    with resources.session() as session:
        actor = sessions.resume(
            session, token, now=_now(), idle=_idle(settings), demo_mode=settings.demo_mode
        )
        session.commit()
    return actor


def _audit_sign_in(actor: Actor, via: str, settings: Settings) -> None:
    with resources.session() as session:
        audit.append(
            session,
            actor=actor.username,
            role=actor.role,
            action="sign_in",
            outcome=audit.Outcome.OK,
            params={"via": via, "client": client_address(settings)},
            at=_now(),
        )
        session.commit()


def _from_cookie(settings: Settings) -> Actor | None:
    """A new browser session carrying our cookie: resume its server-side session (audited)."""
    token = sessions.token_from_cookie(st.context.cookies.get(COOKIE_NAME), cookie_key(settings))
    actor = _resume(token, settings) if token else None
    if actor is not None and token is not None:
        st.session_state[TOKEN] = token
        _audit_sign_in(actor, "cookie", settings)
    return actor


def _oidc_actor(settings: Settings) -> Actor | None:
    if not (oidc_configured() and st.user.is_logged_in):
        return None
    token = st.session_state.get(TOKEN)
    if token:
        actor = _resume(token, settings)
        if actor is None:
            st.session_state.pop(TOKEN, None)
            st.session_state[NOTICE] = "Your session has ended; sign in again."
            st.logout()
        return actor
    email = str(st.user.get("email") or "")
    with resources.session() as session:
        actor = auth.actor_for_email(session, email)
    if actor is None:
        st.error(
            f"{email or 'This account'} has no role in order-recon. Ask an admin to add your email to a user."
        )
        st.button("Sign out", on_click=st.logout, key="auth.oidc_refused")
        _stop_signed_out()
        raise AssertionError("unreachable")
    _start_session(actor, "oidc", settings, set_cookie=False)
    _audit_sign_in(actor, "oidc", settings)
    return actor


def signed_in_actor() -> Actor:
    """The signed-in user, checked against their server-side session on every run."""
    settings = resources.settings()
    cookie_key(settings)
    _require_audit_key()
    _apply_cookie_change(settings)
    oidc = _oidc_actor(settings)
    if oidc is not None:
        return oidc
    token = st.session_state.get(TOKEN)
    if token:
        actor = _resume(token, settings)
        if actor is not None:
            return actor
        st.session_state.pop(TOKEN, None)
        with resources.session() as session:
            reason = sessions.why_ended(session, token)
        st.session_state.setdefault(
            NOTICE, f"Your session has ended{f' ({reason})' if reason else ''}; sign in again."
        )
        if COOKIE_NAME in st.context.cookies:
            _delete_cookie()
    else:
        actor = _from_cookie(settings)
        if actor is not None:
            return actor
    _sign_in_page(settings)
    _stop_signed_out()
    raise AssertionError("unreachable")


def _stop_signed_out() -> None:
    """End a signed-out run. Home.py has already registered every page (ui.navigation), so the URL asked
    for stays the current page: a sign-in reruns on it, keeping the form's submission and the query."""
    st.session_state.pop("actor", None)
    st.stop()


def _submit(settings: Settings) -> None:
    """The form's callback: runs once per submission, never on a plain rerun."""
    username = st.session_state.get("login.username", "")
    password = st.session_state.get("login.password", "")
    st.session_state["login.password"] = ""
    try:
        with resources.session() as session:
            actor = auth.verify_password(
                session,
                username,
                password,
                _now(),
                client=client_address(settings),
                demo_mode=settings.demo_mode,
            )
    except AuthenticationError as exc:
        st.session_state["login.error"] = str(exc)
        return
    st.session_state.pop("login.error", None)
    st.session_state.pop(NOTICE, None)
    _start_session(actor, "password", settings, set_cookie=True)


def _sign_in_page(settings: Settings) -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("order-recon")
        st.caption("Store, 3PL and carrier data for one order, side by side.")
        notice = st.session_state.get(NOTICE)
        if notice:
            st.warning(notice)
        with st.form("login.form"):
            st.subheader("Sign in")
            st.text_input("Username", key="login.username")
            st.text_input("Password", type="password", key="login.password")
            st.form_submit_button("Sign in", on_click=_submit, args=(settings,))
        error = st.session_state.pop("login.error", None)
        if error:
            st.error(error)
        if oidc_configured():
            st.button(
                "Sign in with your company account",
                on_click=st.login,
                key="login.oidc",
                icon=":material/key:",
            )
        if settings.demo_mode:
            st.info(
                "**Demo mode**: the demo users' passwords were printed in the terminal by `make run` "
                "(new ones on every start; they are stored only as hashes)."
            )


def sign_out(actor: Actor) -> None:
    """End this session everywhere (a copied cookie stops working too), audited."""
    settings = resources.settings()
    token = st.session_state.pop(TOKEN, None)
    now = _now()
    with resources.session() as session:
        sessions.revoke(session, token, now=now, reason="signed out")
        audit.append(
            session,
            actor=actor.username,
            role=actor.role,
            action="sign_out",
            outcome=audit.Outcome.OK,
            params={"client": client_address(settings)},
            at=now,
        )
        session.commit()
    st.session_state[NOTICE] = "You have signed out."
    st.session_state[COOKIE_CHANGE] = ("delete", None)
    if oidc_configured() and st.user.is_logged_in:
        st.logout()


def sign_out_button(actor: Actor) -> None:
    """The sidebar's who-am-I and sign-out button."""
    st.sidebar.markdown(f"**{_plain(actor.display_name or actor.username)}**  \n`{actor.role}`")
    st.sidebar.button(
        "Sign out", on_click=sign_out, args=(actor,), key="auth.sign_out", icon=":material/logout:"
    )


def _plain(text: str) -> str:
    from services.summaries import escape_markdown

    return escape_markdown(text)


def current_actor() -> Actor:
    """The user Home.py signed in for this run (session-state key `actor`, set on every run)."""
    actor = st.session_state.get("actor")
    if not isinstance(actor, Actor):  # a page script run on its own (a fresh server's first request)
        navigation.leave_folder_mode()
        st.info("Your session has ended. [Sign in](/) to continue.")
        st.stop()
    return actor
