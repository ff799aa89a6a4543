"""Users: add, change role, disable or enable, reset password (admin only; every change is audited)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import streamlit as st

from services import auth
from services.permissions import Role
from ui import resources
from ui.auth import current_actor
from ui.errors import shown_once
from ui.formatting import store_time

actor, policy = current_actor(), resources.policy()
st.title("Users")
with shown_once():
    notice = st.session_state.pop("admin.notice", None)
    if notice:
        st.success(notice)
    with resources.session() as session:
        users = auth.list_users(session, actor=actor)
    st.dataframe(
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
        hide_index=True,
        width="stretch",
        key="admin.users",
    )

    add_column, edit_column = st.columns(2, border=True)
    with add_column, st.form("admin.add", clear_on_submit=True):
        st.markdown("#### Add a user")
        username = st.text_input("Username", key="admin.add.username")
        display_name = st.text_input("Name", key="admin.add.name")
        email = st.text_input("Email (for company sign-in)", key="admin.add.email")
        role = st.selectbox("Role", list(Role), key="admin.add.role")
        password = st.text_input(
            "Password",
            type="password",
            key="admin.add.password",
            help=f"At least {auth.MIN_PASSWORD_LENGTH} characters.",
        )
        if st.form_submit_button("Add user", icon=":material/person_add:"):
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
        if buttons.button("Save role", key="admin.edit.save", disabled=new_role == chosen.role):
            with resources.session() as session:
                auth.set_role(
                    session, username=chosen.username, role=new_role, actor=actor, now=datetime.now(UTC)
                )
            st.session_state["admin.notice"] = f"{chosen.username} is now {new_role}."
            st.rerun()
        if buttons.button("Enable" if chosen.disabled else "Disable", key="admin.edit.disable"):
            with resources.session() as session:
                auth.set_disabled(
                    session,
                    username=chosen.username,
                    disabled=not chosen.disabled,
                    actor=actor,
                    now=datetime.now(UTC),
                )
            st.session_state["admin.notice"] = (
                f"{chosen.username} is {'enabled' if chosen.disabled else 'disabled'}."
            )
            st.rerun()
        if buttons.button("Reset password", key="admin.edit.reset"):
            new_password = secrets.token_urlsafe(12)
            with resources.session() as session:
                auth.reset_password(
                    session,
                    username=chosen.username,
                    password=new_password,
                    actor=actor,
                    now=datetime.now(UTC),
                )
            st.session_state["admin.notice"] = (
                f"New password for {chosen.username}: `{new_password}` (shown once; hand it over in person)."
            )
            st.rerun()
