"""The lookup page's guided fixes (SPEC §8): a button per discrepancy a fix mends, and its dialog.

The work is `services.fixes`'; this module only reads widgets and shows results. The services check
roles themselves: agents see the preview only, and `execute` refuses them anyway.

Session-state keys (namespaced `fix.`):
- `fix.open`: `(order name, kind)` whose dialog is open; the dialog is opened from this flag on every run
  (so AppTest can click inside it); closing clears it.
- `fix.plan`: the last preview (`FixPlan`) of the open dialog.
- `fix.done`: `{order name: line}` saying what the last fix did and what the order shows now.
Widget keys: `fix.open.<kind>`, `fix.preview`, `fix.confirm`, `fix.run`, `fix.close`, `fix.settle.<kind>`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from services import fixes
from services.errors import StalePlanError
from services.fixes.records import fixes_for
from services.lookup.detail import OrderDetail
from services.permissions import Actor, Permission, allowed
from ui import resources
from ui.errors import shown_once
from ui.order_panels import check_marks

OPEN, PLAN, DONE = "fix.open", "fix.plan", "fix.done"


def render(detail: OrderDetail, actor: Actor) -> None:
    """One button per fix the order shows a reason for, and the dialog when one is open."""
    name = detail.name
    done = st.session_state.get(DONE, {}).get(name)
    if done is not None:
        st.success(done, icon=":material/check_circle:")
    offered = fixes.offered(detail)
    if not offered:
        return
    if not allowed(actor.role, Permission.FIX_DRY_RUN):
        st.caption("Guided fixes are previewed by agents, ops and admins.")
        return
    _pending(detail, actor)
    with st.container(horizontal=True):
        for code, fix in offered.items():
            st.button(
                f"Fix: {fix.title}",
                key=f"fix.open.{fix.kind}",
                icon=":material/build:",
                on_click=_open,
                args=(name, fix.kind),
                help=f"Mends {code.replace('_', ' ')} ({fix.kind})",
            )
    opened = st.session_state.get(OPEN)
    if opened is not None and opened[0] == name:
        _dialog(detail, actor, fixes.fix_for(opened[1]))


def _pending(detail: OrderDetail, actor: Actor) -> None:
    """A fix left `pending` by a process that stopped: ops and admins settle it by reading the target back."""
    with resources.connect() as conn:
        pending = [r for r in fixes_for(conn, detail.view.store.id) if r.status == "pending"]
    for claim in pending:
        st.warning(
            f"The {claim.kind} fix claimed by {claim.requested_by} has no recorded answer yet. Settling reads "
            "the target back and records what it shows; nothing is sent.",
            icon=":material/hourglass_top:",
        )
        if allowed(actor.role, Permission.FIX_EXECUTE) and st.button(
            "Settle", key=f"fix.settle.{claim.kind}", icon=":material/fact_check:"
        ):
            fixes.settle(
                resources.engine(),
                resources.settings(),
                resources.policy(),
                fixes.fix_for(claim.kind),
                order=detail.name,
                actor=actor,
            )
            st.rerun()


def _open(name: str, kind: str) -> None:
    st.session_state[OPEN] = (name, kind)
    for key in (PLAN, "fix.confirm"):
        st.session_state.pop(key, None)


def _close() -> None:
    for key in (OPEN, PLAN, "fix.confirm"):
        st.session_state.pop(key, None)


@st.dialog("Guided fix", width="large", on_dismiss=_close)
def _dialog(detail: OrderDetail, actor: Actor, fix: fixes.Fix) -> None:
    with shown_once():
        _body(detail, actor, fix)
    if st.button("Close", key="fix.close"):
        _close()
        st.rerun()


def _body(detail: OrderDetail, actor: Actor, fix: fixes.Fix) -> None:
    name = detail.name
    st.markdown(f"**{fix.title}** for **{name}** (mends `{fix.offered_for}`).")
    plan: fixes.FixPlan | None = st.session_state.get(PLAN)
    if plan is not None and (plan.order, plan.kind) != (name, fix.kind):
        plan = None
    if st.button("Preview", key="fix.preview", icon=":material/preview:"):
        with resources.session() as session:
            plan = fixes.dry_run(
                session,
                resources.settings(),
                resources.policy(),
                fix,
                order=name,
                actor=actor,
                now=datetime.now(UTC),
            )
        st.session_state[PLAN] = plan
    if plan is None:
        st.caption("Preview runs the checks and shows the exact request; nothing is sent.")
        return
    st.markdown("**Checks**")
    check_marks(plan.checks)
    if not plan.actionable:
        st.warning(
            "Not possible: " + " ".join(f"`{r.code}` {r.message}" for r in plan.blocked),
            icon=":material/block:",
        )
        return
    assert plan.request is not None
    target = "the store (Shopify GraphQL)" if plan.request.system == "shopify" else "the 3PL (ShipBob)"
    st.markdown(f"**Request to {target}** · `{plan.request.method} {plan.request.path}`")
    if plan.request.body is not None:
        body = plan.request.body
        if "query" in body:
            st.code(str(body["query"]), language="graphql")
            st.json(body.get("variables", {}), expanded=True)
        else:
            st.json(body, expanded=True)
    st.caption(f"Plan fingerprint `{plan.fingerprint[:16]}…`")
    if not allowed(actor.role, Permission.FIX_EXECUTE):
        st.info("Only ops or admin can run it: ask one of them to open this order.", icon=":material/lock:")
        return
    confirmation = st.text_input(f"Type {name} to confirm", key="fix.confirm", placeholder=name)
    if st.button("Run fix", key="fix.run", type="primary", icon=":material/send:"):
        _run(plan, fix, actor, confirmation)


def _run(plan: fixes.FixPlan, fix: fixes.Fix, actor: Actor, confirmation: str) -> None:
    try:
        result = fixes.execute(
            resources.engine(),
            resources.settings(),
            resources.policy(),
            fix,
            order=plan.order,
            fingerprint=plan.fingerprint,
            confirmation=confirmation,
            actor=actor,
        )
    except StalePlanError:
        st.session_state.pop(PLAN, None)  # the operator must look at a new preview
        raise
    after = result.detail
    now = (
        f" Now {after.category}; discrepancies: {', '.join(d.code for d in after.discrepancies) or 'none'}."
        if after is not None
        else ""
    )
    st.session_state.setdefault(DONE, {})[plan.order] = (
        f"{fix.title}: done by {result.record.requested_by} ({result.record.resolution}).{now}"
    )
    _close()
    st.rerun()
