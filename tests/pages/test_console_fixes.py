"""The console as its users expect it: empty periods, links into pages, role gates, exports, the
shipped-late badge, and one list of differences for the page and the summary."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime

from sqlalchemy import select

from db.models import AuditEntry
from db.session import session_scope
from services import queue
from services.lookup import orders
from services.settings import Settings
from services.store import T_CLASS
from tests.pages.conftest import ROOT, app, column, page_table, titles


def _texts(at) -> str:
    return "\n".join(
        [m.value for m in at.markdown] + [i.value for i in at.info] + [c.value for c in at.caption]
    )


# ---------------------------------------------------------------- 1. an SLA period with no orders


def test_sla_period_without_orders_shows_an_empty_state_on_every_chart(console_db, console_env) -> None:
    console_env(console_db)
    at = app("ops", "sla")
    at.date_input(key="sla.period").set_value((date(2026, 1, 1), date(2026, 1, 31))).run()
    empty = []
    for tab in ("On-time rate", "Overdue, naive versus true", "Breaches", "Time to ship"):
        at.session_state["sla.tab"] = tab  # one tab drawn at a time
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        empty += [i.value for i in at.info if "No orders were due in this period" in i.value]
        assert not at.get("vega_lite_chart") or all(
            chart.proto.spec for chart in at.get("vega_lite_chart")
        )  # any chart left is the naive-versus-true one, drawn with its days
    assert len(empty) >= 5  # daily, weekly, three breakdowns and time to ship


# ---------------------------------------------------------------- 2. links, sign-in and role gates


def test_signed_out_link_to_a_page_signs_in_and_lands_on_that_page(fresh_db, console_env) -> None:
    console_env(fresh_db)
    at = app(None, run=False)
    at.run()
    at.switch_page("pages/overdue.py").run()
    assert "Overdue queue" not in titles(at)  # the sign-in form, on the page's own URL
    at.text_input[0].set_value("agent")
    at.text_input[1].set_value(fresh_db.passwords["agent"])
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "Overdue queue" in titles(at)


def test_a_page_the_role_may_not_open_says_so_and_the_visit_is_audited(fresh_db, console_env) -> None:
    console_env(fresh_db)
    at = app("agent", "audit")
    assert not at.exception
    assert any(e.value.startswith("Not permitted") for e in at.error)
    assert not at.dataframe and not [
        h for h in at.get("html") if "page-table" in h.proto.body
    ]  # nothing of the page
    at.run()  # a rerun of the same page is the same visit
    with session_scope(fresh_db.engine) as session:
        denied = session.execute(select(AuditEntry).where(AuditEntry.action == "page.audit")).scalars().all()
    assert [(e.actor, e.outcome) for e in denied] == [("agent", "denied")]


def test_the_menu_lists_only_the_pages_of_the_role(console_db, console_env) -> None:
    console_env(console_db)
    agent = [link.label for link in app("agent").sidebar.get("page_link")]
    admin = [link.label for link in app("admin").sidebar.get("page_link")]
    assert agent == ["Order lookup", "Overdue queue", "Informational", "Alerts"]  # Alerts: own digests
    assert {"SLA metrics", "Users", "Audit log"} <= set(admin)


# ---------------------------------------------------------------- 3. exports


def test_no_table_has_its_own_download_and_agents_get_no_export(console_db, console_env) -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True
    assert config["client"]["showSidebarNavigation"] is False
    console_env(console_db)
    for page in ("overdue", "informational"):
        assert not app("agent", page).get("download_button")
        assert app("ops", page).get("download_button")


# ---------------------------------------------------------------- 4. the shipped-late badge


def _shipped_late(console) -> tuple[str, datetime, datetime]:
    c = T_CLASS.c
    with console.engine.connect() as conn:
        row = conn.execute(
            select(c.order_name, c.due_at, c.shipped_at)
            .where(c.base_category == "fulfilled", c.shipped_at > c.due_at)
            .order_by(c.order_name)
            .limit(1)
        ).one()
    return row.order_name, row.due_at, row.shipped_at


def test_a_shipped_order_is_judged_at_its_shipped_time(simulated_db, console_env) -> None:
    console, sources = simulated_db
    console_env(console, sources)
    name, due_at, shipped_at = _shipped_late(console)
    policy = Settings().policy()
    days = policy.business_days_between(policy.local_date(due_at), policy.local_date(shipped_at))
    at = app("agent", as_of=None, state={"lookup.query": name})
    assert not at.exception
    due = next(m for m in at.metric if m.label == "Due")
    assert due.delta == f"shipped {max(days, 1)} business day{'' if days == 1 else 's'} late"


# ---------------------------------------------------------------- 5. one list of differences


def test_the_summary_and_the_differences_box_agree(simulated_db, console_env) -> None:
    console, sources = simulated_db
    console_env(console, sources)
    policy, now = Settings().policy(), datetime.now(UTC)
    with console.engine.connect() as conn:
        names = [r[0] for r in conn.execute(select(T_CLASS.c.order_name).order_by(T_CLASS.c.order_name))]
        details = [orders.order_detail(conn, name=n, as_of=now, policy=policy) for n in names]
    detail = next(d for d in details if d and any(not x.spec for x in d.differences))
    found = detail.differences
    at = app("agent", as_of=None, state={"lookup.query": detail.name})
    at.button(key="lookup.summarize").click().run()
    assert not at.exception
    text = _texts(at)
    assert "Differences between the systems" in text
    summary = next(m.value for m in at.markdown if m.value.startswith("Rule\\-based summary"))
    assert "No discrepancies" not in summary
    for difference in found:
        assert difference.label in text and difference.label in summary
    assert {d.code for d in detail.discrepancies} <= {d.code for d in found}


# ---------------------------------------------------------------- 9. bulk refresh beside the page


def test_bulk_refresh_runs_beside_the_page_and_says_what_changed(simulated_db, console_env) -> None:
    import time

    console, sources = simulated_db
    console_env(console, sources)
    at = app("ops", "overdue", as_of=None)
    rows = column(at, "order")[:10]
    at.multiselect(key="overdue.selected").set_value(rows).run()
    at.button(key="overdue.refresh").click().run()
    assert not at.exception, [e.message for e in at.exception]
    deadline = time.monotonic() + 60
    while not any(m.value.startswith("Refreshed ") for m in at.markdown):
        assert time.monotonic() < deadline, "the bulk refresh did not finish"
        time.sleep(0.3)
        at.run()
    text = _texts(at)
    assert f"Refreshed {len(rows)} of {len(rows)} order(s)" in text
    assert "overdue queue" in text and "discrepancy" in text


# ---------------------------------------------------------------- 13, 14. search that forgives


def test_search_finds_an_order_by_name_email_part_and_lower_case_tracking(simulated_db, console_env) -> None:
    from services.store import T_CODES, T_ORDER

    console, sources = simulated_db
    console_env(console, sources)
    with console.engine.connect() as conn:
        row = conn.execute(
            select(T_ORDER.c.name, T_ORDER.c.customer_name, T_ORDER.c.email, T_CODES.c.tracking_number)
            .join(T_CODES, T_CODES.c.order_id == T_ORDER.c.id)
            .where(T_ORDER.c.customer_name.is_not(None))
            .order_by(T_ORDER.c.id)
            .limit(1)
        ).one()
    for query in (row.customer_name.lower(), row.email.split("@")[0][1:], row.tracking_number.lower()):
        at = app("agent", as_of=None, state={"lookup.query": query})
        assert not at.exception
        picks = at.get("radio")
        if picks:  # several orders match: the right one is offered, with the field that matched
            options = picks[0].options
            assert any(o.startswith(f"{row.name} ·") and "matched on" in o for o in options), query
        else:
            assert [h.value for h in at.subheader] == [row.name], query


def test_an_empty_search_gives_a_hint_and_a_long_one_is_cut(console_db, console_env) -> None:
    console_env(console_db)
    at = app("agent")
    assert any("Type what you have" in c.value for c in at.caption)
    assert at.text_input(key="lookup.query").placeholder.startswith("For example #")
    at.text_input(key="lookup.query").set_value("z" * 5000).run()
    assert not at.exception
    shown = [i.value for i in at.info if "No order matches" in i.value]
    assert shown and len(shown[0]) < 120


# ---------------------------------------------------------------- 6, 10, 12. figures, freshness, audit filters


def test_sync_now_moves_the_data_as_of_line_at_once(simulated_db, console_env) -> None:
    from datetime import timedelta

    from services.sync.runs import T_RUN

    console, sources = simulated_db
    console_env(console, sources)
    with console.engine.begin() as conn:  # the stored data is two days old
        for run_id, mark in conn.execute(select(T_RUN.c.id, T_RUN.c.watermark)).all():
            if mark is not None:
                conn.execute(
                    T_RUN.update().where(T_RUN.c.id == run_id).values(watermark=mark - timedelta(days=2))
                )
    at = app("ops", "overdue", as_of=None)
    assert any("2 d ago" in c.value for c in at.caption)
    at.button(key="overdue.sync").click().run()
    assert not at.exception
    line = next(c.value for c in at.caption if c.value.startswith("Data as of"))
    assert "d ago" not in line and line.count("just now") == 3


def test_false_alarms_follow_the_period_and_presets_set_it(simulated_db, console_env) -> None:
    console, sources = simulated_db
    console_env(console, sources)
    at = app("ops", "sla", as_of=None)
    month = next(m.value for m in at.metric if m.label == "False alarms removed")
    at.segmented_control(key="sla.preset").set_value("Last 7 days").run()
    assert not at.exception
    first, last = at.date_input(key="sla.period").value
    assert (last - first).days == 6
    week = next(m.value for m in at.metric if m.label == "False alarms removed")
    at.date_input(key="sla.period").set_value((date(2026, 1, 1), date(2026, 1, 31))).run()
    january = next(m.value for m in at.metric if m.label == "False alarms removed")
    assert january == "0" and int(week) <= int(month) and month != "0"


def test_audit_filters_match_parts_and_offer_the_actions(fresh_db, console_env) -> None:
    console_env(fresh_db)
    agent = app("agent", "sla")  # a denied visit: action page.sla, order none
    assert any(e.value.startswith("Not permitted") for e in agent.error)
    at = app("admin", "audit")
    assert "page.sla" in at.selectbox(key="audit.action").options
    at.text_input(key="audit.actor").set_value("AGE").run()
    actors = set(column(at, "actor"))
    assert actors == {"agent"}
    at.selectbox(key="audit.action").set_value("page.sla").run()
    assert column(at, "outcome") == ["denied"]
    at.text_input(key="audit.order").set_value("2095").run()
    assert not at.exception
    assert any("No audit entry matches" in i.value for i in at.info)
    assert page_table(at).headers[:3] == ["id", "at", "actor"]


# ---------------------------------------------------------------- 11. admin forms keep their input


def test_a_refused_user_keeps_the_form_and_the_panels(fresh_db, console_env) -> None:
    console_env(fresh_db)
    at = app("admin", "admin_users")
    at.text_input(key="admin.add.username").set_value("dana")
    at.text_input(key="admin.add.password").set_value("short")
    at.button(key="FormSubmitter:admin.add-Add user").click().run()
    assert not at.exception
    assert at.text_input(key="admin.add.username").value == "dana"
    assert any("password" in e.value.lower() for e in at.error)
    assert at.selectbox(key="admin.edit.user")  # the other panel is still there

    at.selectbox(key="admin.edit.user").set_value("admin").run()
    at.button(key="admin.edit.disable").click().run()  # the last active admin: refused
    assert any("admin" in e.value.lower() for e in at.error)
    assert at.button(key="admin.edit.reset")  # every button stays
    assert at.text_input(key="admin.add.username").value == "dana"


# ---------------------------------------------------------------- 7. times in store time


def test_reasons_read_in_store_time(console_db, console_env) -> None:
    console_env(console_db)
    at = app("agent", state={"lookup.query": "#2003"})  # cancelled: its reason holds the cancel time
    reason = next(m.value for m in at.markdown if "Cancelled in the store at" in m.value)
    reason = reason.replace("\\", "")  # as read: the source text is Markdown-escaped
    assert "+00:00" not in reason and re.search(r"\d{2}:\d{2} E[DS]T", reason)
    informational = app("agent", "informational")
    why = " ".join(column(informational, "why"))
    assert "+00:00" not in why


# ---------------------------------------------------------------- 15. contact and links


def test_contact_details_links_and_codes_as_words(simulated_db, console_env) -> None:
    from services.store import T_ORDER, T_WAREHOUSE

    console, sources = simulated_db
    console_env(console, sources)
    with console.engine.connect() as conn:
        row = conn.execute(
            select(
                T_ORDER.c.id, T_ORDER.c.name, T_ORDER.c.customer_name, T_WAREHOUSE.c.id.label("warehouse_id")
            )
            .join(T_WAREHOUSE, T_WAREHOUSE.c.store_order_id == T_ORDER.c.id)
            .where(T_ORDER.c.customer_name.is_not(None))
            .order_by(T_ORDER.c.id)
            .limit(1)
        ).one()
    agent = app("agent", as_of=None, state={"lookup.query": row.name})
    assert not agent.exception
    assert any(row.customer_name in m.value for m in agent.markdown)
    buttons = {b.proto.label: b.proto.url for b in agent.get("link_button")}
    assert buttons["Open in Shopify"] == f"{sources['SHOPIFY_SHOP_URL'].rstrip('/')}/admin/orders/{row.id}"
    assert str(row.warehouse_id) in buttons["Open in ShipBob"]
    assert not any(
        "_" in m.value.split("**")[1] for m in agent.markdown if m.value.startswith("Financial **")
    )
    lead = app("lead", as_of=None, state={"lookup.query": row.name})
    assert not any(row.customer_name in m.value for m in lead.markdown)


# ---------------------------------------------------------------- 8. sorting in the query


def test_paged_lists_have_no_header_that_sorts_only_the_page(console_db, console_env) -> None:
    """Overdue, informational and audit show a page of a longer list: a plain table (no column header
    that sorts), in the order of the query; an order is a link to its lookup."""
    console_env(console_db)
    for role, page in (("agent", "overdue"), ("agent", "informational"), ("admin", "audit")):
        at = app(role, page)
        assert not at.exception, [e.message for e in at.exception]
        assert not at.dataframe and not at.table, page
        assert page_table(at).headers, page
    at = app("agent", "overdue")
    first, link = column(at, "order")[0], page_table(at).links[0]
    assert re.fullmatch(r"#\d+", first) and link == f"lookup?order=%23{first[1:]}", (first, link)


def test_sorting_the_informational_view_orders_every_page(simulated_db, console_env) -> None:
    console, sources = simulated_db
    console_env(console, sources)
    at = app("agent", "informational", as_of=None)
    at.selectbox(key="informational.sort").set_value("standard deadline").run()
    at.toggle(key="informational.descending").set_value(True).run()
    assert not at.exception
    shown = column(at, "standard deadline")
    assert shown == sorted(shown, reverse=True)
    at.selectbox(key="informational.sort").set_value("order").run()
    orders = [int(o.lstrip("#")) for o in column(at, "order")]
    assert orders == sorted(orders, reverse=True)


def test_sorting_the_overdue_queue_orders_every_page(simulated_db, console_env) -> None:

    console, sources = simulated_db
    console_env(console, sources)
    at = app("agent", "overdue", as_of=None)
    at.selectbox(key="overdue.sort").set_value("order").run()
    at.toggle(key="overdue.descending").set_value(True).run()
    assert not at.exception
    shown = [int(o.lstrip("#")) for o in column(at, "order")]
    assert shown == sorted(shown, reverse=True)
    policy, now = Settings().policy(), datetime.now(UTC)
    with console.engine.connect() as conn:  # page by page, the database's order holds across pages
        whole = queue.overdue_queue(conn, as_of=now, policy=policy, sort="warehouse")
        paged = [
            row
            for offset in range(0, len(whole), 7)
            for row in queue.overdue_queue(
                conn, as_of=now, policy=policy, sort="warehouse", limit=7, offset=offset
            )
        ]
    assert [r.order for r in paged] == [r.order for r in whole]
    keys = [r.warehouse or "" for r in whole]
    assert keys == sorted(keys) or None in [r.warehouse for r in whole]
