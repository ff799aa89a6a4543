"""order-recon console entrypoint: sign-in, then the pages this role may open (SPEC §7)."""

from __future__ import annotations

import streamlit as st

from services.permissions import Permission, allowed
from ui import warmup
from ui.auth import audit_refused_page, sign_out_button, signed_in_actor

st.set_page_config(page_title="order-recon", page_icon=":material/local_shipping:", layout="wide")

# (file, title, icon, permission): a page a role may not open is left out of its navigation.
PAGES = [
    ("pages/lookup.py", "Order lookup", ":material/search:", Permission.LOOKUP),
    ("pages/overdue.py", "Overdue queue", ":material/schedule:", Permission.QUEUES),
    ("pages/informational.py", "Informational", ":material/info:", Permission.QUEUES),
    ("pages/sla.py", "SLA metrics", ":material/monitoring:", Permission.METRICS),
    ("pages/admin_users.py", "Users", ":material/group:", Permission.ADMINISTER),
    ("pages/audit.py", "Audit log", ":material/policy:", Permission.ADMINISTER),
    ("pages/alert_settings.py", "Alerts", ":material/notifications:", Permission.QUEUES),
]

try:
    actor = signed_in_actor()
    audit_refused_page(actor, [(path, permission) for path, _, _, permission in PAGES])
    navigation = st.navigation(
        [
            st.Page(path, title=title, icon=icon, default=index == 0)
            for index, (path, title, icon, permission) in enumerate(PAGES)
            if allowed(actor.role, permission)
        ]
    )
    sign_out_button(actor)
    st.session_state["actor"] = actor
    navigation.run()
finally:  # once this run's page is drawn (or the sign-in form), not competing with it
    warmup.start()
