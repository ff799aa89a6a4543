"""The lookup page's "Create replacement" action: pick items, see the checks, preview, confirm, create.

The work is `services.replacements`'; this module only reads widgets and shows results. The services
check roles themselves: agents get the preview only, and `execute` refuses them anyway.

Session-state keys (namespaced `replacement.`):
- `replacement.open`: the order name whose dialog is open. The dialog is opened from this flag on every
  run (not only by the button's click), so AppTest can click inside it; closing clears it.
- `replacement.preflight`: `(order, items, Preflight)` of the last live check, reused until the items change.
- `replacement.plan`: the last preview (`ReplacementPlan`) of the open order; dropped when items change.
- `replacement.done`: `{order name: Replacement}` created in this browser session (a success line).
- `replacement.settled`: what the last "Settle with the 3PL" recorded, shown once after the rerun.
Widget keys: `replacement.open_button`, `replacement.qty.<line id>`, `replacement.preview`,
`replacement.confirm`, `replacement.create`, `replacement.cancel`, `replacement.settle`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st

from checks.results import Level
from checks.validations import ResendItem, default_resend_items
from services import replacements
from services.errors import StalePlanError
from services.lookup.detail import OrderDetail
from services.permissions import Actor, Permission, allowed
from ui import resources
from ui.errors import shown_once
from ui.formatting import store_time
from ui.order_panels import check_marks

OPEN, PREFLIGHT, PLAN, DONE, SETTLED = (
    "replacement.open",
    "replacement.preflight",
    "replacement.plan",
    "replacement.done",
    "replacement.settled",
)
# The page's checks read the stored inventory; the dialog reads it live, so a stock block alone
# does not keep the dialog closed.
RECHECKED_LIVE = "inventory.available"


def render(detail: OrderDetail, actor: Actor) -> None:
    """The button under the checks, and the dialog when it is open for this order."""
    name = detail.name
    if not allowed(actor.role, Permission.REPLACEMENT_DRY_RUN):
        st.caption("Replacements are previewed by agents, ops and admins.")
        return
    done = st.session_state.get(DONE, {}).get(name)
    if done is not None:
        st.success(
            f"Replacement {done.reference_id} created as 3PL order {done.warehouse_order_id} by "
            f"{done.requested_by} at {store_time(done.completed_at, detail.policy)}.",
            icon=":material/check_circle:",
        )
    _pending_claims(detail, actor)
    blocking = [r for r in detail.checks if r.level is Level.BLOCKED and r.code != RECHECKED_LIVE]
    st.button(
        "Create replacement",
        key="replacement.open_button",
        icon=":material/restart_alt:",
        disabled=bool(blocking),
        on_click=_open,
        args=(name,),
        help="Not possible: " + " ".join(r.message for r in blocking) if blocking else None,
    )
    if blocking:
        st.caption("A replacement is not possible: see the blocked checks above.")
    if st.session_state.get(OPEN) == name:
        _dialog(detail, actor)


def _pending_claims(detail: OrderDetail, actor: Actor) -> None:
    """A replacement still `pending`: being created now, or left so by a process that stopped, which
    ops and admins settle with what the 3PL holds under its reference."""
    for kind, message in st.session_state.pop(SETTLED, []):
        (st.success if kind == "created" else st.info)(message)
    with resources.connect() as conn:
        pending = replacements.pending_for(conn, detail.view.store.id)
    if not pending:
        return
    now = datetime.now(UTC)
    for claim in pending:
        since = store_time(claim.requested_at, detail.policy)
        if not replacements.may_settle(claim, now):
            st.info(
                f"Replacement {claim.reference_id} is being created by {claim.requested_by} (since {since})."
            )
            continue
        st.warning(
            f"Replacement {claim.reference_id} has been pending since {since} ({claim.requested_by}): the "
            "process creating it stopped before the 3PL's answer was recorded, so it blocks new replacements. "
            f"Settling asks the 3PL for {claim.reference_id} and records what it holds; nothing is sent.",
            icon=":material/hourglass_top:",
        )
    if not any(replacements.may_settle(c, now) for c in pending):
        return
    if not allowed(actor.role, Permission.REPLACEMENT_EXECUTE):
        st.caption("Ops or an admin can settle it.")
        return
    if st.button("Settle with the 3PL", key="replacement.settle", icon=":material/fact_check:"):
        settled = replacements.settle(
            resources.engine(), resources.settings(), resources.policy(), order=detail.name, actor=actor
        )
        st.session_state[SETTLED] = [
            (
                r.status,
                f"{r.reference_id} is at the 3PL as order {r.warehouse_order_id}: recorded as created."
                if r.status == "created"
                else f"{r.reference_id} is not at the 3PL: recorded as failed, so it can be created again.",
            )
            for r in settled
        ]
        st.rerun()  # the checks above were read before the settle


def _open(name: str) -> None:
    st.session_state[OPEN] = name
    for key in (PREFLIGHT, PLAN, "replacement.confirm"):
        st.session_state.pop(key, None)


def _close() -> None:
    for key in (OPEN, PREFLIGHT, PLAN, "replacement.confirm"):
        st.session_state.pop(key, None)


@st.dialog("Create a replacement", width="large", on_dismiss=_close)
def _dialog(detail: OrderDetail, actor: Actor) -> None:
    with shown_once():
        _body(detail, actor)
    if st.button("Close", key="replacement.cancel"):
        _close()
        st.rerun()


def _pick_items(detail: OrderDetail) -> tuple[ResendItem, ...] | None:
    """The operator's pick; None when nothing of ours shipped (the checks then say why)."""
    shipped = default_resend_items(detail.view, detail.policy)
    if not shipped:
        st.info("Nothing of ours has shipped for this order, so there is nothing to resend.")
        return None
    st.markdown("**Items to resend** (the shipped items of ours; lower a quantity to send fewer)")
    picked = []
    for item in shipped:
        quantity = st.number_input(
            f"{item.title} ({item.sku or 'no SKU'})",
            min_value=0,
            max_value=item.quantity,
            value=item.quantity,
            step=1,
            key=f"replacement.qty.{item.line_item_id}",
        )
        if quantity:
            picked.append(ResendItem(item.line_item_id, item.sku, item.title, int(quantity)))
    return tuple(picked)


def _preflight(name: str, actor: Actor, items: tuple[ResendItem, ...] | None) -> replacements.Preflight:
    cached = st.session_state.get(PREFLIGHT)
    if cached is not None and cached[:2] == (name, items):
        return cached[2]  # type: ignore[no-any-return]
    with resources.session() as session:
        result = replacements.preflight(
            session,
            resources.settings(),
            resources.policy(),
            order=name,
            actor=actor,
            items=items,
            now=datetime.now(UTC),
        )
    st.session_state[PREFLIGHT] = (name, items, result)
    return result


def _body(detail: OrderDetail, actor: Actor) -> None:
    name, policy = detail.name, detail.policy
    st.markdown(f"Replacement of **{name}**, sent to the 3PL as a new order.")
    items = _pick_items(detail)
    if items is not None and not items:
        st.session_state.pop(PLAN, None)
        st.warning("Choose at least one item to resend.")
        return
    pre = _preflight(name, actor, items)
    st.markdown("**Checks**")
    check_marks(pre.checks)
    _inventory_note(pre)
    if not pre.actionable or items is None:
        st.session_state.pop(PLAN, None)
        st.warning(
            "Not possible: " + " ".join(f"`{r.code}` {r.message}" for r in pre.blocked),
            icon=":material/block:",
        )
        return
    plan = st.session_state.get(PLAN)
    if plan is not None and (plan.order != name or plan.items != items):
        plan = None
        st.session_state.pop(PLAN, None)
    if st.button("Preview", key="replacement.preview", icon=":material/preview:"):
        with resources.session() as session:
            plan = replacements.dry_run(
                session,
                resources.settings(),
                policy,
                order=name,
                actor=actor,
                items=items,
                now=datetime.now(UTC),
            )
        st.session_state[PLAN] = plan
    if plan is None:
        st.caption("Preview shows the exact request the 3PL will receive.")
        return
    _preview(plan)
    if not allowed(actor.role, Permission.REPLACEMENT_EXECUTE):
        st.info(
            "Only ops or admin can create it: ask one of them to open this order and create the replacement.",
            icon=":material/lock:",
        )
        return
    confirmation = st.text_input(f"Type {name} to confirm", key="replacement.confirm", placeholder=name)
    # Not disabled on the text: the service checks the confirmation and says what is wrong.
    if st.button(
        "Create",
        key="replacement.create",
        type="primary",
        icon=":material/send:",
        disabled=not plan.actionable,
    ):
        _create(plan, actor, confirmation)


def _inventory_note(pre: replacements.Preflight) -> None:
    if pre.inventory_source == "stored":
        st.warning(
            "Inventory is the stored copy from the last sync: no 3PL is configured, so stock was not "
            "read live.",
            icon=":material/inventory_2:",
        )
    else:
        st.caption("Inventory read live from the 3PL just now.")


def _preview(plan: replacements.ReplacementPlan) -> None:
    where = "live from the 3PL" if plan.inventory_source == "live" else "the stored copy (no 3PL configured)"
    st.markdown(f"**Request to the 3PL** · `POST /1.0/order` · reference `{plan.reference_id}`")
    st.json(plan.payload, expanded=True)
    st.markdown(f"**Inventory seen** ({where})")
    rows: list[dict[str, Any]] = [
        {
            "sku": i.sku,
            "fulfillable": i.total_fulfillable_quantity,
            "by warehouse": ", ".join(f"{n}: {q}" for n, q in i.by_fulfillment_center),
        }
        for i in plan.inventory
    ]
    st.dataframe(rows, hide_index=True, key="replacement.inventory")
    st.caption(f"Plan fingerprint `{plan.fingerprint[:16]}…`")


def _create(plan: replacements.ReplacementPlan, actor: Actor, confirmation: str) -> None:
    try:
        created = replacements.execute(
            resources.engine(),
            resources.settings(),
            resources.policy(),
            order=plan.order,
            items=plan.items,
            fingerprint=plan.fingerprint,
            confirmation=confirmation,
            actor=actor,
        )
    except StalePlanError:
        st.session_state.pop(PLAN, None)  # the operator must look at a new preview
        raise
    st.session_state.setdefault(DONE, {})[plan.order] = created
    _close()
    st.rerun()
