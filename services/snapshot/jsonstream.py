"""Stream the records of a large JSON array (`[...]` or `{"key": [...]}`) with bounded memory.

Each record is decoded by the C JSON decoder (`raw_decode`) from a sliding text buffer, so a
snapshot of any size costs the memory of one chunk plus one record, at close to `json.loads` speed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"


class JsonStreamError(ValueError):
    def __init__(self, message: str, *, record: int | None = None) -> None:
        super().__init__(message)
        self.record = record


class _Reader:
    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.decoder = json.JSONDecoder()

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
                value, end = self.decoder.raw_decode(self.buf, self.pos)
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
    while True:
        name = reader.value()
        if not isinstance(name, str):
            raise JsonStreamError("object key is not a string")
        reader.expect(":", "after an object key")
        if name == key and not found:
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
