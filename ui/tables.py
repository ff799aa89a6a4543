"""Tables that never load a whole list: a page of rows, a pager, and a CSV export made on click.

A page of a list is drawn as a plain HTML table (`st.html`), not with `st.dataframe`: a click on a
dataframe's column header sorts only the rows in the browser (one page of the list), and Streamlit offers
no way to switch that off or to hand the click to the server. Each list's "Sort by" sorts it in the
query, so every page follows the order chosen. Not `st.table` either: it renders every cell as Markdown,
800 renders for a page of the queue, which kept the browser busy for most of a second (figure "Chromium,
menu link" in README "Console figures"); one sanitized HTML table costs the browser almost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any, TextIO
from urllib.parse import quote

import streamlit as st
from sqlalchemy.engine import Connection
from sqlmodel import Session

from checks.policy import SlaPolicy
from db.session import session_scope
from services import exports
from services.permissions import Actor, Permission, allowed
from ui import resources
from ui.formatting import ISO_MOMENT, NOTHING

PAGE_SIZE = 100
EXPORT_BATCH = 1000


def pager(total: int, *, key: str, page_size: int = PAGE_SIZE) -> int:
    """A page picker under a list of `total` rows; returns the offset of the page shown."""
    pages = max(1, -(-total // page_size))
    if st.session_state.get(key, 1) > pages:
        st.session_state[key] = 1
    left, right = st.columns([1, 4], vertical_alignment="center")
    page = left.number_input(
        "Page", min_value=1, max_value=pages, step=1, key=key, label_visibility="collapsed"
    )
    first = (page - 1) * page_size
    right.caption(
        f"Page {page} of {pages} · rows {min(total, first + 1)}–{min(total, first + page_size)} of {total:,}"
    )
    return first


PAGE_TABLE_STYLE = """<style>
.order-recon-page-table { overflow-x: auto; }
.order-recon-page-table table { border-collapse: collapse; width: 100%; font-size: 0.875rem; }
.order-recon-page-table th { text-align: left; font-weight: 600; opacity: 0.8; }
.order-recon-page-table a { color: inherit; text-decoration: underline; }
.order-recon-page-table th, .order-recon-page-table td {
  padding: 0.3rem 0.6rem; border-bottom: 1px solid rgba(128, 128, 128, 0.25); vertical-align: top;
}
</style>"""


def order_link(order: str) -> str:
    """The order as a link to its lookup page (`lookup?order=%232095`), escaped for HTML."""
    return f'<a href="lookup?order={quote(order, safe="")}">{escape(order)}</a>'


def page_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, links: Sequence[str] = ()) -> None:
    """One page of a list, in the order the query gave. Every cell is text (escaped: it is the sources'
    or a person's), but those of the `links` columns, order names drawn as links to their lookup. No
    rows: the headers alone."""

    def cell(row: dict[str, Any], name: str) -> str:
        value = row[name]
        if value is None or value == "":
            return NOTHING
        return order_link(str(value)) if name in links else escape(str(value))

    head = "".join(f"<th>{escape(name)}</th>" for name in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(row, name)}</td>" for name in columns) + "</tr>" for row in rows
    )
    st.html(
        f'{PAGE_TABLE_STYLE}<div class="order-recon-page-table"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def batches(fetch: Callable[[Connection, int, int], list[Any]], conn: Connection) -> Iterable[Any]:
    """Every row of a paginated query, a batch at a time (exports)."""
    offset = 0
    while True:
        rows = fetch(conn, EXPORT_BATCH, offset)
        yield from rows
        if len(rows) < EXPORT_BATCH:
            return
        offset += len(rows)


def export_button(
    label: str,
    *,
    actor: Actor,
    action: str,
    file_name: str,
    key: str,
    rows: Callable[[Connection], Iterable[dict[str, Any]]],
    permission: Permission = Permission.METRICS,
) -> None:
    """A CSV download of `rows`, made when clicked (never on render); see `download_button`.

    Times are written as ISO 8601 in the store's time with its offset, the same zone the pages show.
    """
    policy = resources.policy()

    def write(session: Session, out: TextIO) -> int:
        return exports.write_rows(
            out, ({k: _cell(v, policy) for k, v in row.items()} for row in rows(session.connection()))
        )

    download_button(
        label, actor=actor, action=action, file_name=file_name, key=key, write=write, permission=permission
    )


def download_button(
    label: str,
    *,
    actor: Actor,
    action: str,
    file_name: str,
    key: str,
    write: Callable[[Session, TextIO], int],
    permission: Permission,
) -> None:
    """A CSV download for roles holding `permission` (SPEC §7: metrics and exports), built at click time.

    The service check runs again when clicked, and the export is audited with its row count.
    """
    if not allowed(actor.role, permission):
        return
    engine = resources.engine()

    def build() -> bytes:
        # The service checks the stored role again, audits the export and appends the signed audit head.
        with session_scope(engine) as session:
            return exports.export_csv(
                session, actor, action=action, write=write, now=datetime.now(UTC), permission=permission
            )

    st.download_button(
        label,
        data=build,
        file_name=file_name,
        mime="text/csv",
        key=key,
        icon=":material/download:",
        on_click="ignore",
    )


def _cell(value: Any, policy: SlaPolicy) -> Any:
    """A cell with its moments in store time (ISO 8601 with the store's offset)."""
    if isinstance(value, datetime):
        return policy.local(value).isoformat()
    if isinstance(value, str):  # moments inside text (a reason) too
        value = ISO_MOMENT.sub(
            lambda m: policy.local(datetime.fromisoformat(m.group(0).replace("Z", "+00:00"))).isoformat(),
            value,
        )
    return value  # services.exports neutralises every cell
