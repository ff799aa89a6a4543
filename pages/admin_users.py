"""Users: add, change role, disable or enable, reset password (admin only; every change is audited)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from services import auth
from services.errors import OrderReconError
from services.permissions import Role
from ui import resources, tables
from ui.auth import current_actor
from ui.errors import shown_once
from ui.formatting import store_time


def _field_of(message: str) -> str:
    """Which field of the Add-user form an error is about (from its wording), else the form."""
    lowered = message.lower()
    for field in ("password", "email", "username"):
        if field in lowered:
            return field
    return "form"


def _change(chosen: Any, new_role: Role, *, save: bool, toggle: bool, reset: bool) -> str | None:
    """Do what the clicked Change-a-user button asks; the notice to show, or None when nothing was clicked."""
    now = datetime.now(UTC)
    with resources.session() as session:
        if save:
            auth.set_role(session, username=chosen.username, role=new_role, actor=actor, now=now)
            return f"{chosen.username} is now {new_role}."
        if toggle:
            auth.set_disabled(
                session, username=chosen.username, disabled=not chosen.disabled, actor=actor, now=now
            )
            return f"{chosen.username} is {'enabled' if chosen.disabled else 'disabled'}."
        if reset:
            new_password = secrets.token_urlsafe(12)
            auth.reset_password(
                session, username=chosen.username, password=new_password, actor=actor, now=now
            )
            return (
                f"New password for {chosen.username}: `{new_password}` (shown once; hand it over in person)."
            )
    return None


actor, policy = current_actor(), resources.policy()
st.title("Users")
with shown_once():
    notice = st.session_state.pop("admin.notice", None)
    if notice:
        st.success(notice)
    with resources.session() as session:
        users = auth.list_users(session, actor=actor)
    tables.page_table(  # every user, by username (the query's order)
        [
            {
                "username": u.username,
                "name": u.display_name,
                "email": u.email,
                "role": str(u.role),
                "status": "disabled" if u.disabled else "active",
                "changed": store_time(u.updated_at, policy),
            }
            for u in users
        ],
        ("username", "name", "email", "role", "status", "changed"),
    )

    add_column, edit_column = st.columns(2, border=True)
    # A refused form keeps what was typed and says what is wrong under the field it is about.
    add_error: tuple[str, str] | None = st.session_state.get("admin.add.error")

    def field_error(name: str) -> None:
        if add_error and add_error[0] == name:
            st.error(add_error[1], icon=":material/error:")

    with add_column, st.form("admin.add", clear_on_submit=False):
        st.markdown("#### Add a user")
        username = st.text_input("Username", key="admin.add.username")
        field_error("username")
        display_name = st.text_input("Name", key="admin.add.name")
        email = st.text_input("Email (for company sign-in)", key="admin.add.email")
        field_error("email")
        role = st.selectbox("Role", list(Role), key="admin.add.role")
        password = st.text_input(
            "Password",
            type="password",
            key="admin.add.password",
            help=f"At least {auth.MIN_PASSWORD_LENGTH} characters.",
        )
        field_error("password")
        submitted = st.form_submit_button("Add user", icon=":material/person_add:")
        field_error("form")
        if submitted:
            try:
                with resources.session() as session:
                    auth.create_user(
                        session,
                        username=username,
                        password=password,
                        role=role,
                        display_name=display_name,
                        email=email,
                        actor=actor,
                        now=datetime.now(UTC),
                    )
            except OrderReconError as exc:
                st.session_state["admin.add.error"] = (_field_of(str(exc)), str(exc))
                st.rerun()
            st.session_state.pop("admin.add.error", None)
            for key in ("admin.add.username", "admin.add.name", "admin.add.email", "admin.add.password"):
                st.session_state.pop(key, None)
            st.session_state["admin.notice"] = f"Added {username.strip().lower()}."
            st.rerun()

    with edit_column:
        st.markdown("#### Change a user")
        by_name = {u.username: u for u in users}
        chosen = by_name[st.selectbox("User", list(by_name), key="admin.edit.user")]
        new_role = st.selectbox(
            "Role", list(Role), index=list(Role).index(chosen.role), key=f"admin.edit.role.{chosen.username}"
        )
        buttons = st.container(horizontal=True)
        # Every button is drawn before any runs, so a refusal leaves them all in place, the error under them.
        save = buttons.button("Save role", key="admin.edit.save", disabled=new_role == chosen.role)
        toggle = buttons.button("Enable" if chosen.disabled else "Disable", key="admin.edit.disable")
        reset = buttons.button("Reset password", key="admin.edit.reset")
        try:
            notice = _change(chosen, new_role, save=save, toggle=toggle, reset=reset)
        except OrderReconError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            if notice:
                st.session_state["admin.notice"] = notice
                st.rerun()
