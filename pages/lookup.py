"""Order lookup: one order from the store, the 3PL and the carrier, its checks and its summary."""

from __future__ import annotations

import streamlit as st

from services import links
from services.lookup import orders, search
from services.summaries import escape_markdown, stream_summary
from ui import fix_dialog, order_panels, replacement_dialog, resources, sync
from ui.auth import current_actor
from ui.errors import shown_once

SOURCES = {"Store": ("store",), "3PL": ("3pl",), "Carrier": ("carrier",), "All": ("store", "3pl", "carrier")}

ECHO = 60  # characters of a query repeated back


@st.cache_data(ttl=600, show_spinner=False)
def _example_for(url: str) -> str | None:
    with resources.connect() as conn:
        return search.example_order(conn)


def _example() -> str | None:
    return _example_for(resources.settings().database_url)


actor = current_actor()
st.title("Order lookup")
if "order" in st.query_params and "lookup.query" not in st.session_state:
    st.session_state["lookup.query"] = st.query_params["order"]
example = _example()
query = st.text_input(
    "Order number, customer name or email, tracking number, ShipBob order id or replacement reference",
    key="lookup.query",
    placeholder=f"For example {example}" if example else "#1002, Jane Doe, jane@, 1z999…, 2072-R1",
    max_chars=search.MAX_QUERY,
)

with shown_once():
    cleaned = search.clean_query(query)
    with resources.connect() as conn:
        hits = orders.search_orders(conn, cleaned) if cleaned else []
    if not cleaned:
        st.caption(
            "Type what you have: an order number (`2072`), a customer's name or part of their email, a "
            "tracking number in any case, a ShipBob order id or a replacement reference (`2072-R1`)."
        )
    elif not hits:
        echoed = cleaned if len(cleaned) <= ECHO else cleaned[:ECHO] + "…"
        hint = " Parts of a name or email need three characters or more." if len(cleaned) < 3 else ""
        st.info(f"No order matches “{escape_markdown(echoed)}”.{hint}")
    if len(hits) > 1:
        labels = {
            h.order: f"{h.order} · {h.customer_name or h.email or 'no customer'} · "
            f"{(h.category or 'unclassified').replace('_', ' ')} · matched on {h.matched_on}"
            for h in hits
        }
        name = st.radio(f"{len(hits)} orders match", list(labels), format_func=labels.get, key="lookup.pick")
    else:
        name = hits[0].order if hits else None
        if hits and hits[0].matched_on != "order name":
            st.caption(f"Matched on {hits[0].matched_on}.")
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

    order_panels.differences(detail)
    fix_dialog.render(detail, actor)  # a button per discrepancy a guided fix mends

    store_column, warehouse_column, carrier_column = st.columns(3, border=True)
    with store_column:
        order_panels.store_panel(
            detail, show_contact=links.may_see_contact(actor.role), settings=resources.settings()
        )
    with warehouse_column:
        order_panels.warehouse_panel(detail, settings=resources.settings())
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
                stream = stream_summary(detail, session=session, settings=resources.settings(), actor=actor)
                st.write_stream(stream.markdown_safe())
            summaries[name] = (stream.result.engine, stream.result.text, stream.result.model)
        elif name in summaries:
            st.markdown(escape_markdown(summaries[name][1]))
        if name in summaries:
            engine, _, model = summaries[name]
            st.caption(f"model · {model}" if engine == "model" else "offline summary (rule-based)")
