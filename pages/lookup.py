"""Order lookup: one order from the store, the 3PL and the carrier, its checks and its summary."""

from __future__ import annotations

import streamlit as st

from services import orders
from services.summaries import escape_markdown, stream_summary
from ui import fix_dialog, order_panels, replacement_dialog, resources, sync
from ui.auth import current_actor
from ui.errors import shown_once

SOURCES = {"Store": ("store",), "3PL": ("3pl",), "Carrier": ("carrier",), "All": ("store", "3pl", "carrier")}

actor = current_actor()
st.title("Order lookup")
if "order" in st.query_params and "lookup.query" not in st.session_state:
    st.session_state["lookup.query"] = st.query_params["order"]
query = st.text_input(
    "Order name or number, store id, customer email or tracking number",
    key="lookup.query",
    placeholder="#1002, 1002, jane@example.com, 1Z999…",
)

with shown_once():
    with resources.connect() as conn:
        hits = orders.search_orders(conn, query) if query.strip() else []
    if query.strip() and not hits:
        st.info(f"No order matches {query.strip()!r}.")
    if len(hits) > 1:
        labels = {
            h.order: f"{h.order} · {h.email or 'no email'} · {h.category or 'unclassified'} · "
            f"matched on {h.matched_on}"
            for h in hits
        }
        name = st.radio(f"{len(hits)} orders match", list(labels), format_func=labels.get, key="lookup.pick")
    else:
        name = hits[0].order if hits else None
    if name is None:
        st.stop()
    st.query_params["order"] = name

    st.subheader(name)
    with st.container(horizontal=True, vertical_alignment="center"):
        st.caption("Refresh from", width="content")
        refresh = [
            label
            for label in SOURCES
            if st.button(label, key=f"lookup.refresh.{label}", icon=":material/sync:")
        ]
    for label in refresh:
        sync.refresh_order(name, SOURCES[label], actor)

    with resources.connect() as conn:
        detail = orders.order_detail(conn, name=name, as_of=resources.as_of(), policy=resources.policy())
    if detail is None:
        st.warning(f"{name} is not in the store data.")
        st.stop()
    order_panels.header(detail)

    found = order_panels.differences(detail.view, detail)
    with st.container(border=True):
        st.markdown("**Differences between the systems**" if found else "**The three systems agree.**")
        for line in found:
            st.markdown(f"⚠️ {line}")
        fix_dialog.render(detail, actor)

    store_column, warehouse_column, carrier_column = st.columns(3, border=True)
    with store_column:
        order_panels.store_panel(detail)
    with warehouse_column:
        order_panels.warehouse_panel(detail)
    with carrier_column:
        order_panels.carrier_panel(detail)

    checks_column, summary_column = st.columns(2, border=True)
    with checks_column:
        st.markdown("#### Checks before a replacement")
        order_panels.check_marks(detail.checks)
        replacement_dialog.render(detail, actor)
    with summary_column:
        st.markdown("#### Summary")
        summaries = st.session_state.setdefault("lookup.summaries", {})
        if st.button("Summarize this order", key="lookup.summarize", icon=":material/auto_awesome:"):
            with resources.session() as session:
                stream = stream_summary(detail, session=session, settings=resources.settings())
                st.write_stream(stream.markdown_safe())
            summaries[name] = (stream.result.engine, stream.result.text, stream.result.model)
        elif name in summaries:
            st.markdown(escape_markdown(summaries[name][1]))
        if name in summaries:
            engine, _, model = summaries[name]
            st.caption(f"model · {model}" if engine == "model" else "offline summary (rule-based)")
