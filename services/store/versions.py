"""The fulfilment data version: a counter that every write of 3PL orders, shipments or trackers bumps,
in the same transaction.

A store order's classification depends on the order and on that data alone (`build_views` reads
nothing else). A sync's fetching helper classifies store pages ahead of their commits; it reads the
version *before* the data it classifies with, and a commit uses the helper's classifications only while
the version is unchanged, so nothing the helper read can have changed since. Reading the data after the
version only errs the safe way: data newer than the version read means a bump the commit will see.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Table, Text, cast, insert, select, update
from sqlalchemy.engine import Connection

from db.models.state import AppState

T_STATE: Table = AppState.__table__  # type: ignore[attr-defined]
KEY = "fulfilment_version"


def bump_fulfilment_version(conn: Connection) -> None:
    """Count one more write of 3PL or carrier data (call it inside the writing transaction, first: on
    PostgreSQL the row lock then orders the writers before they touch any data row)."""
    bumped = conn.execute(
        update(T_STATE)
        .where(T_STATE.c.key == KEY)
        .values(value=cast(cast(T_STATE.c.value, BigInteger) + 1, Text))
    )
    if bumped.rowcount == 0:  # the first write ever
        conn.execute(insert(T_STATE).values(key=KEY, value="1"))


def fulfilment_version(conn: Connection, *, hold: bool = False) -> int | None:
    """The current version; None before the first write (never equal to anything, so a classification
    made then is not reused). `hold` keeps writers out until the transaction ends (PostgreSQL's
    FOR SHARE; on SQLite the transaction's write lock does that already)."""
    query = select(T_STATE.c.value).where(T_STATE.c.key == KEY)
    if hold:
        query = query.with_for_update(read=True)
    value = conn.execute(query).scalar()
    return None if value is None else int(value)
