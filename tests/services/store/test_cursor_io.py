"""The bulk path writes and reads exactly what SQLAlchemy's own type processing would, on both databases:
rows written in bulk read back the same through Core, and rows read in bulk equal Core's reading."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, MetaData, String, Table, select
from sqlalchemy.engine import Engine

from db.types import UTCDateTime
from services.store.cursor_io import bulk_select, bulk_write_values

META = MetaData()
T = Table(
    "bulk_probe",
    META,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime()),
    Column("doc", JSON(none_as_null=True)),
    Column("doc_or_null_text", JSON()),
    Column("flag", Boolean),
    Column("day", Date),
    Column("note", String(40)),
)
COLUMNS = ("id", "at", "doc", "doc_or_null_text", "flag", "day", "note")
NEW_YORK = timezone(timedelta(hours=-5))
ROWS = [
    (
        1,
        datetime(2026, 11, 20, 15, 0, 0, 123456, tzinfo=UTC),
        {"a": [1, 2]},
        None,
        True,
        date(2026, 11, 20),
        "x",
    ),
    (2, datetime(2026, 11, 20, 15, 0, tzinfo=UTC), None, {"b": None}, False, None, None),  # no microseconds
    (
        3,
        datetime(2026, 11, 20, 10, 0, tzinfo=NEW_YORK),
        [],
        [],
        None,
        date(2024, 2, 29),
        "é",
    ),  # another offset
    (4, None, "text", 0, True, date(2026, 1, 1), ""),
]


@pytest.fixture
def probe(engine: Engine) -> Iterator[Engine]:
    META.create_all(engine)
    yield engine
    META.drop_all(engine)


def _core(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(T).order_by(T.c.id))]


def test_rows_written_in_bulk_read_back_through_core_as_given(probe: Engine) -> None:
    with probe.begin() as conn:
        bulk_write_values(conn, T, COLUMNS, ROWS)
    read = _core(probe)
    assert read == ROWS
    for row in read:
        assert row[1] is None or row[1].tzinfo is UTC  # every timestamp comes back in UTC


def test_rows_read_in_bulk_equal_cores_reading(probe: Engine) -> None:
    with probe.begin() as conn:
        conn.execute(T.insert(), [dict(zip(COLUMNS, r, strict=True)) for r in ROWS])  # written by Core
    with probe.connect() as conn:
        bulk = sorted(bulk_select(conn, T, COLUMNS, "id", [4, 3, 2, 1]))
    assert bulk == _core(probe)
    assert [r[1].tzinfo for r in bulk if r[1] is not None] == [UTC, UTC, UTC]


def test_an_upsert_keeps_a_stored_value_where_the_new_one_is_null(probe: Engine) -> None:
    with probe.begin() as conn:
        bulk_write_values(conn, T, ("id", "note", "flag"), [(1, "kept", True)], ["id"])
        bulk_write_values(conn, T, ("id", "note", "flag"), [(1, None, None)], ["id"], keep_on_null=["note"])
    with probe.connect() as conn:
        assert conn.execute(select(T.c.note, T.c.flag)).one() == ("kept", None)


def test_a_naive_timestamp_is_refused(probe: Engine) -> None:
    with probe.begin() as conn, pytest.raises(ValueError, match="naive datetime"):
        bulk_write_values(conn, T, ("id", "at"), [(1, datetime(2026, 11, 20, 15))])


def test_one_instant_in_two_offsets_is_stored_as_one_utc_text(probe: Engine) -> None:
    utc = datetime(2026, 11, 20, 15, tzinfo=UTC)
    with probe.begin() as conn:
        bulk_write_values(conn, T, ("id", "at"), [(1, utc), (2, utc.astimezone(NEW_YORK)), (3, utc)])
    read = _core(probe)
    assert [r[1] for r in read] == [utc, utc, utc]
    if probe.dialect.name == "sqlite":  # the stored text itself
        with probe.connect() as conn:
            texts = conn.exec_driver_sql("SELECT at FROM bulk_probe ORDER BY id").scalars().all()
        assert texts == ["2026-11-20 15:00:00.000000"] * 3


def test_a_naive_timestamp_is_refused_after_the_same_time_with_an_offset(probe: Engine) -> None:
    with probe.begin() as conn:
        bulk_write_values(conn, T, ("id", "at"), [(1, datetime(2026, 11, 20, 15, tzinfo=UTC))])
    with probe.begin() as conn, pytest.raises(ValueError, match="naive datetime"):
        bulk_write_values(conn, T, ("id", "at"), [(2, datetime(2026, 11, 20, 15))])
