"""Typed reads of external JSON: a missing or wrongly typed field a rule needs is a `RecordError`
naming the field; unknown fields are ignored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

_MISSING = object()

# SPEC §1: ids fit a signed 64-bit column, quantities a 32-bit one, and neither is negative.
ID_MAX = 2**63 - 1
QUANTITY_MAX = 2**31 - 1
# SPEC §1: timestamps from 1970 to 9999. The last accepted moment leaves a day before the end of the
# calendar, so the moment is still a date in every store time zone and its due day fits (checks.policy).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)

T = TypeVar("T")


class RecordError(ValueError):
    """One record is not in the expected shape. `field` is a dotted path inside the record."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"field `{field}` {problem}")
        self.field = field
        self.problem = problem


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


# Fast paths: the readers below first try the common well-formed case (a dict holding a value of the
# exact expected type, or an allowed null) and only fall back to `field` for everything else, so a
# bad record still gets exactly the message `field` gives. They run millions of times per import.


def field(
    record: Any, key: str, kind: type | tuple[type, ...], *, path: str = "", optional: bool = False
) -> Any:
    """`record[key]` checked against `kind`; None is accepted only when `optional`."""
    if type(record) is dict:  # the fast path (see above)
        value = record.get(key)
        if type(value) is kind or (value is None and optional):
            return value
    name = f"{path}{key}"
    if not isinstance(record, dict):
        raise RecordError(path.rstrip(".") or "(record)", f"is {_type_name(record)}, expected an object")
    value = record.get(key, _MISSING)
    if value is _MISSING:
        if optional:
            return None
        raise RecordError(name, "is missing")
    if value is None:
        if optional:
            return None
        raise RecordError(name, "is null")
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise RecordError(name, f"is a boolean, expected {_kind_name(kind)}")
    if not isinstance(value, kind):
        raise RecordError(name, f"is {_type_name(value)}, expected {_kind_name(kind)}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {
            "str": "a string",
            "int": "an integer",
            "list": "a list",
            "dict": "an object",
            "float": "a number",
            "bool": "a boolean",
        }.get(k.__name__, k.__name__)
        for k in kinds
    )


def integer(
    record: Any, key: str, *, path: str = "", optional: bool = False, maximum: int = ID_MAX
) -> int | None:
    """An integer from 0 to `maximum` (an id by default); numeric strings are accepted because some
    APIs send ids as strings. Anything negative or larger is a `RecordError`."""
    if type(record) is dict:
        value = record.get(key)
        if type(value) is int and 0 <= value <= maximum:
            return value
        if value is None and optional:
            return None
    value = field(record, key, (int, str), path=path, optional=optional)
    if value is None:
        return None
    if not isinstance(value, int):
        try:
            value = int(value)
        except ValueError:
            raise RecordError(f"{path}{key}", f"is {_shown(value)}, expected an integer") from None
    if value < 0:
        raise RecordError(f"{path}{key}", f"is {value}, expected 0 or more")
    if value > maximum:
        raise RecordError(f"{path}{key}", f"is {_shown(value)}, larger than {maximum}")
    return value


def quantity(record: Any, key: str, *, path: str = "", optional: bool = False) -> int | None:
    """A count of units: an integer from 0 to 2**31 - 1."""
    return integer(record, key, path=path, optional=optional, maximum=QUANTITY_MAX)


def _shown(value: Any) -> str:
    """A value for a one-line message, cut short when it is long."""
    shown = repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, int) and len(shown) > 24:
        return f"an integer of {len(shown.lstrip('-'))} digits"
    return shown if len(shown) <= 60 else f"{shown[:57]}..."


def text(
    record: Any, key: str, *, path: str = "", optional: bool = False, max_length: int | None = None
) -> str | None:
    """A string (an integer is read as its digits); longer than `max_length` is a `RecordError`
    (the value is a key the store keeps in a column of that size)."""
    if type(record) is dict:
        value = record.get(key)
        if (type(value) is str and (max_length is None or len(value) <= max_length)) or (
            value is None and optional
        ):
            return value
    value = field(record, key, (str, int), path=path, optional=optional)
    if value is None:
        return None
    value = str(value)
    if max_length is not None and len(value) > max_length:
        raise RecordError(f"{path}{key}", f"is {len(value)} characters long, more than {max_length}")
    return value


def timestamp(record: Any, key: str, *, path: str = "", optional: bool = False) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime. A value without an offset is read as UTC."""
    if type(record) is dict:
        value = record.get(key)
        if value is None and optional:
            return None
        if type(value) is str and value:
            return _parse_timestamp(value, key, path)
    value = field(record, key, str, path=path, optional=optional)
    if value is None or value == "":
        if optional:
            return None
        raise RecordError(f"{path}{key}", "is empty")
    return _parse_timestamp(value, key, path)


class OutOfRange(ValueError):
    """A well-formed timestamp outside the years the store accepts (SPEC §1)."""


def utc_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (no offset: UTC), from 1970 to late 9999.

    Raises ValueError (`OutOfRange` for a well-formed moment outside EARLIEST..LATEST)."""
    if value[-1:] == "z":  # RFC 3339 allows a lowercase "z"; fromisoformat only knows "Z"
        value = value[:-1] + "Z"
    parsed = datetime.fromisoformat(value)
    tz = parsed.tzinfo
    if tz is None:
        parsed = parsed.replace(tzinfo=UTC)
    elif tz is not UTC:  # "Z" and "+00:00" parse to the `UTC` singleton: no conversion needed
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            raise OutOfRange(value) from None
    if not EARLIEST <= parsed < LATEST:
        raise OutOfRange(value)
    return parsed


def _parse_timestamp(value: str, key: str, path: str) -> datetime:
    try:
        return utc_timestamp(value)
    except OutOfRange:
        raise RecordError(
            f"{path}{key}", f"is {_shown(value)}, outside {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC)"
        ) from None
    except ValueError:
        raise RecordError(f"{path}{key}", f"is {_shown(value)}, not an ISO 8601 timestamp") from None


def items(record: Any, key: str, *, path: str = "", optional: bool = True) -> list[Any]:
    """A list field; absent or null reads as empty when optional."""
    if type(record) is dict:
        value = record.get(key)
        if type(value) is list:
            return value
        if value is None and optional:
            return []
    value = field(record, key, list, path=path, optional=optional)
    return [] if value is None else value


def parsed(raws: list[Any], parse: Callable[[Any], T], *, path: str = "") -> list[T]:
    """Each record of a list read by `parse`; a bad one is named by its place (`{path}[i].field`)."""
    out = []
    for i, raw in enumerate(raws):
        try:
            out.append(parse(raw))
        except RecordError as exc:
            raise RecordError(f"{path}[{i}].{exc.field}", exc.problem) from None
    return out
