"""The field readers' bounds (SPEC §1): ids within 64 bits, quantities within 32 bits, neither negative;
timestamps from 1970 to late 9999 in UTC, RFC 3339's lowercase `z` accepted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.sources.json_fields import RecordError, integer, quantity, text, timestamp


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (-1, "is -1, expected 0 or more"),
        (2**63, "larger than 9223372036854775807"),
        ("12x", "expected an integer"),
    ],
)
def test_an_id_out_of_bounds_is_refused(value: object, problem: str) -> None:
    with pytest.raises(RecordError, match=problem):
        integer({"id": value}, "id")


def test_ids_and_quantities_at_their_bounds_are_read() -> None:
    assert integer({"id": 2**63 - 1}, "id") == 2**63 - 1
    assert integer({"id": str(2**63 - 1)}, "id") == 2**63 - 1
    assert quantity({"q": 2**31 - 1}, "q") == 2**31 - 1
    with pytest.raises(RecordError, match="larger than 2147483647"):
        quantity({"q": 2**31}, "q")
    with pytest.raises(RecordError, match="an integer of 31 digits"):
        quantity({"q": 10**30}, "q")


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2026-07-01T10:00:00z", datetime(2026, 7, 1, 10, tzinfo=UTC)),
        ("2026-07-01T10:00:00-04:00", datetime(2026, 7, 1, 14, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC)),
        ("9999-12-29T23:59:59Z", datetime(9999, 12, 29, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_timestamps_in_range_are_read_as_utc(value: str, moment: datetime) -> None:
    assert timestamp({"t": value}, "t") == moment


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+05:45",
        "9999-12-31T23:00:00-05:00",
        "1969-12-31T23:59:59Z",
        "9999-12-30T00:00:00Z",
    ],
)
def test_timestamps_out_of_range_are_refused(value: str) -> None:
    with pytest.raises(RecordError, match=r"field `t` is .*, outside 1970-01-01 to 9999-12-30 \(UTC\)"):
        timestamp({"t": value}, "t")


def test_a_text_longer_than_its_column_is_refused() -> None:
    assert text({"name": "#" + "9" * 63}, "name", max_length=64) == "#" + "9" * 63
    with pytest.raises(RecordError, match="field `name` is 65 characters long, more than 64"):
        text({"name": "#" + "9" * 64}, "name", max_length=64)
