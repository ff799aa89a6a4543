"""One order seen from the store, the 3PL and the carrier, side by side, with what they disagree on."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from checks.results import CheckResult, Level
from services import links
from services.due_status import due_status
from services.lookup.detail import OrderDetail
from services.settings import Settings
from services.summaries import escape_markdown
from ui.formatting import ago, local_times, md, store_time, text, words

MARKS = {Level.PASS: "✅", Level.INFO: "ℹ️", Level.BLOCKED: "⛔"}
CATEGORY_COLORS = {
    "overdue": "red",
    "pending": "blue",
    "fulfilled": "green",
    "sync_delay": "orange",
    "cancelled": "gray",
    "refunded": "gray",
    "third_party_vendor": "violet",
    "awaiting_payment": "orange",
    "on_hold": "orange",
}


def category_badge(category: str) -> str:
    return f":{CATEGORY_COLORS.get(category, 'gray')}-badge[{words(category)}]"


def header(detail: OrderDetail) -> None:
    """Category, deadline and the reason that decided them."""
    policy, c = detail.policy, detail.classification
    status = due_status(detail)
    shipped = f" · shipped {store_time(status.shipped_at, policy)}" if status.shipped_at else ""
    due, units, vendor = st.columns(3)
    due.metric(
        "Due",
        f"{policy.local(detail.due_at):%a %b %d}",
        help=store_time(detail.due_at, policy) + shipped,
        delta=status.text,
        delta_color="inverse" if status.late else "normal",
        delta_arrow="off",
    )
    units.metric("Own units open", c.own_open)
    vendor.metric(
        "Third-party units open",
        c.vendor_open,
        delta=None
        if detail.vendor_late is None
        else ("vendor late" if detail.vendor_late else "vendor in time"),
        delta_color="inverse" if detail.vendor_late else "off",
        delta_arrow="off",
    )
    st.markdown(
        f"{category_badge(detail.category)} {md(local_times(c.reason, policy))}",
        help=f"category: {detail.category}",
    )


def differences(detail: OrderDetail) -> None:
    """The Differences box: the same list the summary is written from (services.differences)."""
    found = detail.differences
    with st.container(border=True, key="lookup.differences"):
        st.markdown("**Differences between the systems**" if found else "**The three systems agree.**")
        for difference in found:
            st.markdown(
                f"⚠️ **{difference.label}** — {escape_markdown(difference.detail)}", help=difference.code
            )


def _as_of(detail: OrderDetail, source: str) -> str:
    moment = detail.sources_as_of.get(source)
    if moment is None:
        return "no data from this system"
    return f"as of {store_time(moment, detail.policy)} ({ago(moment, detail.as_of)})"


def store_panel(detail: OrderDetail, *, show_contact: bool, settings: Settings) -> None:
    order, policy = detail.view.store, detail.policy
    st.markdown("#### :material/storefront: Store")
    st.caption(_as_of(detail, "store"))
    if show_contact:
        contact = [escape_markdown(v) for v in (order.customer_name, order.email, order.phone) if v]
        st.markdown(
            ":material/person: " + (" · ".join(contact) if contact else "no contact details"),
            help="The customer's name, email and phone, as the store has them.",
        )
    st.markdown(
        f"Financial **{md(words(order.financial_status))}** · fulfillment "
        f"**{md(words(order.fulfillment_status or 'unfulfilled'))}**  \n"
        f"Placed {store_time(order.created_at, policy)} · {md(order.shipping_method)}",
        help=f"financial_status: {order.financial_status} · fulfillment_status: {order.fulfillment_status}",
    )
    shop = links.shopify_order_url(settings, order.id)
    if shop:
        st.link_button("Open in Shopify", shop, icon=":material/open_in_new:", type="tertiary")
    if order.cancelled_at:
        st.markdown(f":red[Cancelled {store_time(order.cancelled_at, policy)} ({md(order.cancel_reason)})]")
    for li in order.line_items:
        vendor = f" · _{md(li.vendor)}_" if policy.is_third_party(li.vendor) else ""
        st.markdown(
            f"{li.quantity} × {md(li.title)} {md(li.sku)} · {text(li.fulfillable_quantity)} open{vendor}"
        )
    for f in order.fulfillments:
        st.markdown(
            f"Fulfillment {f.id}: **{md(f.status)}** {store_time(f.created_at, policy)} · "
            f"{md(f.tracking_company)} {md(', '.join(f.tracking_numbers))}"
        )
    for r in order.refunds:
        units = sum(q.quantity for q in r.line_items)
        st.markdown(f"Refund {r.id}: {units} unit(s) {store_time(r.created_at, policy)} {md(r.note)}")


def warehouse_panel(detail: OrderDetail, *, settings: Settings) -> None:
    warehouse, policy = detail.view.warehouse, detail.policy
    st.markdown("#### :material/warehouse: 3PL")
    st.caption(_as_of(detail, "3pl"))
    if warehouse is None:
        st.markdown(":orange[No 3PL order matches this store order.]")
        return
    st.markdown(
        f"Order {warehouse.id} · **{md(words(warehouse.status))}**  \n"
        f"Created {store_time(warehouse.created_date, policy)} · {md(warehouse.shipping_method)}",
        help=f"status: {warehouse.status}",
    )
    st.link_button(
        "Open in ShipBob",
        links.shipbob_order_url(settings, warehouse.id),
        icon=":material/open_in_new:",
        type="tertiary",
    )
    for shipment in warehouse.shipments:
        color = "green" if shipment.status == "Completed" else "orange"
        where = [md(p) for p in (shipment.location_name, shipment.carrier, shipment.tracking_number) if p]
        shipped = f" · shipped {store_time(shipment.shipped_at, policy)}" if shipment.shipped_at else ""
        st.markdown(
            f"Shipment {shipment.id}: :{color}[**{md(shipment.status)}**]  \n{' · '.join(where)}{shipped}"
        )
    if not warehouse.shipments:
        st.caption("No shipments yet.")
    for replacement in detail.view.replacements:
        st.markdown(f"Replacement {md(replacement.reference_id)}: **{md(replacement.status)}**")


def carrier_panel(detail: OrderDetail, scans: int = 4) -> None:
    policy = detail.policy
    st.markdown("#### :material/local_shipping: Carrier")
    st.caption(_as_of(detail, "carrier"))
    if not detail.view.trackers:
        st.markdown(":orange[No tracker for this order's tracking numbers.]")
        return
    for tracker in detail.view.trackers:
        url = links.tracking_url(tracker.carrier, tracker.tracking_code, tracker.public_url)
        code = f"[{md(tracker.tracking_code)}]({url})" if url else md(tracker.tracking_code)
        detail_words = "" if tracker.status_detail is None else md(words(tracker.status_detail))
        st.markdown(
            f"{md(tracker.carrier)} {code}: **{md(words(tracker.status))}** {detail_words}",
            help=f"status: {tracker.status} · status_detail: {tracker.status_detail}",
        )
        latest = sorted(tracker.events, key=lambda e: e.datetime, reverse=True)[:scans]
        for event in latest:
            st.caption(
                f"{store_time(event.datetime, policy)} · {md(event.message or words(event.status))} · "
                f"{md(event.location)}"
            )


def check_marks(results: Sequence[CheckResult]) -> None:
    """The SPEC §5 checks, one line each: ✅ pass, ℹ️ info, ⛔ blocked."""
    for result in results:
        st.markdown(f"{MARKS[result.level]} `{result.code}` {md(result.message)}")
        if result.hint:
            st.caption(result.hint)
