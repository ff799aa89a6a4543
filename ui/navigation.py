"""The console's pages, registered with `st.navigation` on every run and gated per role (SPEC §7).

Every page is registered on every run, signed in or not, so any link into the console (`/overdue`,
`/lookup?order=%232095`) resolves to its page: Streamlit never shows "Page not found". What a run then
draws depends on who is asking:

- signed out: the sign-in form, on the page's own URL, so that signing in lands on the page asked for
  (the query string is kept);
- a role that may not open the page: a "not permitted" message, and the visit is audited once per session
  and page (`services.permissions.require` writes the denial);
- otherwise the page.

The menu is our own (`st.page_link`, the pages this role may open): `client.showSidebarNavigation` is off
in `.streamlit/config.toml`, so Streamlit's folder-based navigation never lists `pages/` on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime.pages_manager import PagesManager

from db.session import session_scope
from services.errors import PermissionDenied
from services.permissions import Actor, Permission, allowed, require
from ui import resources


@dataclass(frozen=True)
class Route:
    path: str  # the script, relative to Home.py
    url: str  # the URL path, e.g. "overdue" for /overdue
    title: str
    icon: str
    permission: Permission


ROUTES = (
    Route("pages/lookup.py", "lookup", "Order lookup", ":material/search:", Permission.LOOKUP),
    Route("pages/overdue.py", "overdue", "Overdue queue", ":material/schedule:", Permission.QUEUES),
    Route("pages/informational.py", "informational", "Informational", ":material/info:", Permission.QUEUES),
    Route("pages/sla.py", "sla", "SLA metrics", ":material/monitoring:", Permission.METRICS),
    Route("pages/admin_users.py", "admin_users", "Users", ":material/group:", Permission.ADMINISTER),
    Route("pages/audit.py", "audit", "Audit log", ":material/policy:", Permission.ADMINISTER),
    Route("pages/alert_settings.py", "alerts", "Alerts", ":material/notifications:", Permission.QUEUES),
)
START = ROUTES[0]
DENIALS_KEY = "nav.denied"  # pages whose refusal this session has already audited


def _pages() -> dict[str, StreamlitPage]:
    pages = {r.url: st.Page(r.path, title=r.title, icon=r.icon, url_path=r.url) for r in ROUTES}
    return pages


def register() -> tuple[Route | None, StreamlitPage]:
    """Register every page (none shown by Streamlit) and return the route this run asked for.

    The root URL runs the order lookup too. Streamlit serves its default page at `/` only, never at its
    own path, so the lookup is registered twice: as the default (`/`) and at `/lookup`, which links use.
    """
    pages = _pages()
    root = st.Page(START.path, title=START.title, icon=START.icon, url_path="home", default=True)
    page = st.navigation([root, *pages.values()], position="hidden")
    if page._script_hash == root._script_hash:
        return START, page
    route = next((r for r in ROUTES if pages[r.url]._script_hash == page._script_hash), None)
    return route, page


def menu(actor: Actor, current: Route | None) -> None:
    """The sidebar's links to the pages this role may open."""
    with st.sidebar:
        for route in ROUTES:
            if allowed(actor.role, route.permission):
                st.page_link(route.path, label=route.title, icon=route.icon, disabled=route == current)


def permitted(actor: Actor, route: Route) -> bool:
    """True when `actor` may open `route`; otherwise draw "not permitted" and audit the visit once."""
    if allowed(actor.role, route.permission):
        return True
    denied = st.session_state.setdefault(DENIALS_KEY, set())
    if route.url not in denied:
        try:
            with session_scope(resources.engine()) as session:
                require(session, actor, route.permission, action=f"page.{route.url}")
        except PermissionDenied:
            pass  # expected: `require` has written the denial to the audit log
        denied.add(route.url)
    st.title(route.title)
    st.error(
        f"Not permitted: your role ({actor.role}) may not open {route.title}. "
        "Ask an admin if you need it. This visit was recorded in the audit log.",
        icon=":material/block:",
    )
    return False


def leave_folder_mode() -> None:
    """A page script run on its own: a fresh server's first request for a page's URL.

    Until the first `st.navigation` call, Streamlit runs the scripts of `pages/` by themselves (its old
    folder-based navigation), which skips Home.py's sign-in and gating. Switch that mode off for the
    server, as any `st.navigation` call does, and run this request again through Home.py.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
