"""Tables that never load a whole list: a page of rows, a pager, and a CSV export made on click.

A page of a list is drawn with `st.table`, not `st.dataframe`: a click on a dataframe's column header
sorts only the rows in the browser (one page of the list), and Streamlit offers no way to switch that
off or to hand the click to the server. A static table has no header to click; each list's "Sort by"
sorts it in the query, so every page follows the order chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
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
from ui.formatting import ISO_MOMENT, md

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


def order_link(order: str) -> str:
    """The order as a Markdown link to its lookup page (`/lookup?order=%232095`)."""
    return f"[{md(order)}](lookup?order={quote(order, safe='')})"


def page_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, links: Sequence[str] = ()) -> None:
    """One page of a list, in the order the query gave: every cell escaped (its text is the sources' or a
    person's, never Markdown), but the `links` columns, which hold `order_link`s. No rows: the headers."""
    cells = [{c: row[c] if c in links else md(row[c]) for c in columns} for row in rows]
    st.table(
        cells or {c: [] for c in columns},
        hide_index=True,
        height=min(40 + 36 * len(cells), 740) if cells else "content",
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
