"""Typed reads of external JSON: a missing or wrongly typed field a rule needs is a `RecordError`
naming the field; unknown fields are ignored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_MISSING = object()


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


def integer(record: Any, key: str, *, path: str = "", optional: bool = False) -> int | None:
    """An integer; numeric strings are accepted because some APIs send ids as strings."""
    if type(record) is dict:
        value = record.get(key)
        if type(value) is int or (value is None and optional):
            return value
    value = field(record, key, (int, str), path=path, optional=optional)
    if value is None or isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        raise RecordError(f"{path}{key}", f"is {value!r}, expected an integer") from None


def text(record: Any, key: str, *, path: str = "", optional: bool = False) -> str | None:
    if type(record) is dict:
        value = record.get(key)
        if type(value) is str or (value is None and optional):
            return value
    value = field(record, key, (str, int), path=path, optional=optional)
    return None if value is None else str(value)


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


def utc_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (no offset: UTC). Raises ValueError."""
    parsed = datetime.fromisoformat(value)
    tz = parsed.tzinfo
    if tz is None:
        return parsed.replace(tzinfo=UTC)
    # Already UTC ("Z" or "+00:00" parse to the `UTC` singleton): skip the conversion.
    return parsed if tz is UTC else parsed.astimezone(UTC)


def _parse_timestamp(value: str, key: str, path: str) -> datetime:
    try:
        return utc_timestamp(value)
    except ValueError:
        raise RecordError(f"{path}{key}", f"is {value!r}, not an ISO 8601 timestamp") from None


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
