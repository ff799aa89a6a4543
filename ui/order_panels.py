"""One order seen from the store, the 3PL and the carrier, side by side, with what they disagree on."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from checks.model import OrderView
from checks.results import CheckResult, Level
from services.order_detail import OrderDetail
from services.queries import business_days_between
from ui.formatting import ago, md, store_time, text

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
SHIPPED_STORE = frozenset({"fulfilled"})
PROBLEM_SHIPMENTS = frozenset({"Exception", "OnHold"})


def category_badge(category: str) -> str:
    return f":{CATEGORY_COLORS.get(category, 'gray')}-badge[{category.replace('_', ' ')}]"


def header(detail: OrderDetail) -> None:
    """Category, deadline and the reason that decided them."""
    policy, c = detail.policy, detail.classification
    today = policy.local_date(detail.as_of)
    late = business_days_between(policy, c.due_day, today) if today > c.due_day else 0
    due, units, vendor = st.columns(3)
    due.metric(
        "Due",
        f"{policy.local(detail.due_at):%a %b %d}",
        help=store_time(detail.due_at, policy),
        delta=f"{late} business day(s) late" if late else None,
        delta_color="inverse",
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
    st.markdown(f"{category_badge(detail.category)} {md(c.reason)}")


def differences(view: OrderView, detail: OrderDetail) -> list[str]:
    """Where the systems disagree: the SPEC §4 discrepancies first, then status and tracking mismatches."""
    found = [f"**{d.code.replace('_', ' ')}** — {d.detail}" for d in detail.discrepancies]
    store, warehouse = view.store, view.warehouse
    store_shipped = store.fulfillment_status in SHIPPED_STORE
    if warehouse is None:
        codes = {d.code for d in detail.discrepancies}
        if detail.category not in ("cancelled", "refunded", "fulfilled") and "missing_at_3pl" not in codes:
            found.append("The 3PL has no order for this store order.")
    elif warehouse.is_shipped and not store_shipped:
        found.append(
            f"Store fulfillment status is **{text(store.fulfillment_status or 'unfulfilled')}**, "
            f"but the 3PL shipped (order status **{text(warehouse.status)}**)."
        )
    elif store_shipped and not warehouse.is_shipped:
        found.append(f"Store says **fulfilled**, but the 3PL order is **{text(warehouse.status)}**.")
    if warehouse is not None:
        for shipment in warehouse.shipments:
            if shipment.status in PROBLEM_SHIPMENTS:
                found.append(f"3PL shipment {shipment.id} is **{shipment.status}**.")
    if store.cancelled_at and warehouse is not None and warehouse.status not in (None, "Cancelled"):
        found.append(f"Cancelled in the store, but the 3PL order is **{warehouse.status}**.")
    for tracker in view.trackers:
        if store_shipped and tracker.status in ("return_to_sender", "failure", "error"):
            found.append(
                f"Store says fulfilled, but the carrier says **{tracker.status}** for {tracker.tracking_code}."
            )
    return list(dict.fromkeys(found))


def _as_of(detail: OrderDetail, source: str) -> str:
    moment = detail.sources_as_of.get(source)
    if moment is None:
        return "no data from this system"
    return f"as of {store_time(moment, detail.policy)} ({ago(moment, detail.as_of)})"


def store_panel(detail: OrderDetail) -> None:
    order, policy = detail.view.store, detail.policy
    st.markdown("#### :material/storefront: Store")
    st.caption(_as_of(detail, "store"))
    st.markdown(
        f"Financial **{md(order.financial_status)}** · fulfillment **{md(order.fulfillment_status or 'unfulfilled')}**  \n"
        f"Placed {store_time(order.created_at, policy)} · {md(order.shipping_method)}"
    )
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


def warehouse_panel(detail: OrderDetail) -> None:
    warehouse, policy = detail.view.warehouse, detail.policy
    st.markdown("#### :material/warehouse: 3PL")
    st.caption(_as_of(detail, "3pl"))
    if warehouse is None:
        st.markdown(":orange[No 3PL order matches this store order.]")
        return
    st.markdown(
        f"Order {warehouse.id} · **{md(warehouse.status)}**  \n"
        f"Created {store_time(warehouse.created_date, policy)} · {md(warehouse.shipping_method)}"
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
        st.markdown(
            f"{md(tracker.carrier)} {md(tracker.tracking_code)}: **{md(tracker.status)}** {md(tracker.status_detail)}"
        )
        latest = sorted(tracker.events, key=lambda e: e.datetime, reverse=True)[:scans]
        for event in latest:
            st.caption(
                f"{store_time(event.datetime, policy)} · {md(event.message or event.status)} · "
                f"{md(event.location)}"
            )


def check_marks(results: Sequence[CheckResult]) -> None:
    """The SPEC §5 checks, one line each: ✅ pass, ℹ️ info, ⛔ blocked."""
    for result in results:
        st.markdown(f"{MARKS[result.level]} `{result.code}` {md(result.message)}")
        if result.hint:
            st.caption(result.hint)
