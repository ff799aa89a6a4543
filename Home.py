"""order-recon console entrypoint: every page registered, then sign-in, then the page if this role may
open it (SPEC §7). See ui/navigation.py."""

from __future__ import annotations

import streamlit as st

from ui import navigation, resources, warmup
from ui.auth import sign_out_button, signed_in_actor
from ui.errors import shown_once

st.set_page_config(page_title="order-recon", page_icon=":material/local_shipping:", layout="wide")

try:
    route, page = navigation.register()
    actor = signed_in_actor()
    navigation.menu(actor, route)
    sign_out_button(actor)
    st.session_state["actor"] = actor
    if route is None or navigation.permitted(actor, route):
        if route is not navigation.START:
            # Tables and charts need pandas: wait for the background import rather than race
            # it (two threads importing pandas at once can see it half-initialized).
            warmup.start().wait(timeout=60)
        with shown_once():  # no page while the orders follow another policy: it says what to run
            resources.policy()
            page.run()
finally:  # once this run's page is drawn (or the sign-in form), not competing with it
    warmup.start()
