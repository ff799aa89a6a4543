"""Stream the records of a large JSON array (`[...]` or `{"key": [...]}`) with bounded memory.

Each record is decoded by the C JSON decoder (`raw_decode`) from a sliding text buffer, so a
snapshot of any size costs the memory of one chunk plus one record, at close to `json.loads` speed.

What it refuses as malformed (SPEC §1), so no reader behind it has to: an object with a repeated key,
`NaN`/`Infinity`, a string holding a lone UTF-16 surrogate (an escaped `\\ud800`: not Unicode, and no
database or encoder takes it) or a NUL (`\\u0000`: PostgreSQL keeps no NUL in text or JSON), and
nesting deeper than MAX_DEPTH. A leading byte-order mark is skipped.
`loads` gives a whole document (a webhook body, an API reply) the same guarantees.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

CHUNK = 1 << 20
MAX_DEPTH = 1000
_WHITESPACE = " \t\n\r"
_BOM = "\ufeff"
# An escaped surrogate or NUL: only then are the strings looked at (a valid surrogate pair decodes to
# one character and passes).
_SUSPECT_ESCAPE = re.compile(r"\\u(?:[dD][89abcdefABCDEF]|0000)")
_UNKEEPABLE = re.compile("[\ud800-\udfff\x00]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


class JsonStreamError(ValueError):
    """Malformed JSON. `record` is the index of the record being read, `field` a dotted path in it."""

    def __init__(self, message: str, *, record: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.record = record
        self.field = field


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's members; a key that appears twice makes the document malformed."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _decoder() -> json.JSONDecoder:
    return json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back  # type: ignore[assignment]
    return depth


def _allow_depth() -> None:
    """The C decoder nests on the interpreter's stack: leave room for MAX_DEPTH levels below here, so
    how deep a caller is does not decide which documents are accepted."""
    needed = _stack_depth() + MAX_DEPTH + 100
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)


def _unkeepable(value: Any, path: str = "") -> tuple[str, str] | None:
    """(dotted path, character) of the first string or key holding a lone surrogate or a NUL."""
    if isinstance(value, str):
        found = _UNKEEPABLE.search(value)
        return None if found is None else (path or "(value)", found.group())
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            hit = _unkeepable(key, name) or _unkeepable(item, name)
            if hit is not None:
                return hit
    elif isinstance(value, list):
        for i, item in enumerate(value):
            hit = _unkeepable(item, f"{path}[{i}]")
            if hit is not None:
                return hit
    return None


def _decode(decoder: json.JSONDecoder, text: str, pos: int, record: int | None) -> tuple[Any, int]:
    """`decoder.raw_decode(text, pos)` with every refusal above as a JsonStreamError.
    Raises json.JSONDecodeError for broken JSON (which may just be cut off mid-chunk)."""
    try:
        value, end = decoder.raw_decode(text, pos)
    except _RepeatedKey as exc:
        raise JsonStreamError(
            f'the key "{_clip(exc.key)}" appears twice in one object', record=record
        ) from None
    except RecursionError:
        raise JsonStreamError(f"nested more than {MAX_DEPTH} levels deep", record=record) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # NaN/Infinity, or an integer too long for Python to read
        raise JsonStreamError(f"not valid JSON: {exc}", record=record) from None
    if _SUSPECT_ESCAPE.search(text, pos, end):
        hit = _unkeepable(value)
        if hit is not None:
            where, char = hit
            problem = "holds a NUL character" if char == "\x00" else "is not valid Unicode (a lone surrogate)"
            raise JsonStreamError(f"field `{_clip(where)}` {problem}", record=record, field=where)
    return value, end


def _clip(text: str) -> str:
    """A key or path from the input as one line of a message: control characters escaped, short."""
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    return text if len(text) <= 40 else f"{text[:37]}..."


def loads(document: str | bytes) -> Any:
    """One whole JSON document, with the refusals of this module (JsonStreamError) and a BOM skipped."""
    text = document.decode("utf-8") if isinstance(document, bytes) else document
    text = text.removeprefix(_BOM)
    _allow_depth()
    try:
        value, end = _decode(_decoder(), text, len(text) - len(text.lstrip(_WHITESPACE)), None)
    except json.JSONDecodeError as exc:
        raise JsonStreamError(f"not valid JSON: {exc.msg}") from None
    if text[end:].strip(_WHITESPACE):
        raise JsonStreamError("unexpected data after the end of the JSON document")
    return value


class _Reader:
    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.decoder = _decoder()
        _allow_depth()
        if self._fill() and self.buf.startswith(_BOM):
            self.pos = 1

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        if self.pos > len(self.buf) // 2:  # drop what was consumed so the buffer stays small
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += chunk
        return True

    def peek(self) -> str:
        """The next non-whitespace character ('' at the end of the input)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def expect(self, char: str, what: str, record: int | None = None) -> None:
        found = self.peek()
        if found != char:
            shown = repr(found) if found else "the end of the file"
            raise JsonStreamError(f"expected {char!r} {what}, found {shown}", record=record)
        self.pos += 1

    def value(self, record: int | None = None) -> Any:
        self.peek()
        while True:
            try:
                value, end = _decode(self.decoder, self.buf, self.pos, record)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                raise JsonStreamError(f"not valid JSON: {exc.msg}", record=record) from None
            # A number at the very end of the buffer may continue in the next chunk.
            if end == len(self.buf) and not self.eof and self._fill():
                continue
            self.pos = end
            return value


def iter_array(handle: TextIO, key: str | None = None) -> Iterator[Any]:
    """Yield each element of the top-level array, or of the array under `key` in a top-level object.

    Raises `JsonStreamError` (with the index of the record being read) on malformed input; the caller
    is expected to be inside a transaction it can roll back.
    """
    reader = _Reader(handle)
    if key is None:
        yield from _elements(reader)
    else:
        yield from _keyed(reader, key)
    if reader.peek() != "":
        raise JsonStreamError("unexpected data after the end of the JSON document")


def _keyed(reader: _Reader, key: str) -> Iterator[Any]:
    reader.expect("{", f'at the start (an object with "{key}")')
    found = False
    if reader.peek() == "}":
        reader.pos += 1
        raise JsonStreamError(f'missing "{key}"')
    names: set[str] = set()
    while True:
        name = reader.value()
        if not isinstance(name, str):
            raise JsonStreamError("object key is not a string")
        if name in names:
            raise JsonStreamError(f'the key "{_clip(name)}" appears twice in the top-level object')
        names.add(name)
        reader.expect(":", "after an object key")
        if name == key:
            found = True
            yield from _elements(reader)
        else:
            reader.value()
        sep = reader.peek()
        reader.pos += 1
        if sep == "}":
            break
        if sep != ",":
            raise JsonStreamError(f"expected ',' or '}}' in the top-level object, found {sep!r}")
    if not found:
        raise JsonStreamError(f'missing "{key}"')


def _elements(reader: _Reader) -> Iterator[Any]:
    reader.expect("[", "(a list of records)")
    if reader.peek() == "]":
        reader.pos += 1
        return
    index = 0
    while True:
        yield reader.value(record=index)
        sep = reader.peek()
        if sep == "]":
            reader.pos += 1
            return
        if sep != ",":
            shown = repr(sep) if sep else "the end of the file"
            raise JsonStreamError(
                f"expected ',' or ']' after record {index}, found {shown}", record=index + 1
            )
        reader.pos += 1
        index += 1
