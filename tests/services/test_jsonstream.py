"""The JSON reader of snapshots, webhook bodies and replies refuses what SPEC §1 calls malformed, with
the record and field, and accepts a byte-order mark and valid surrogate pairs."""

from __future__ import annotations

import io
import json

import pytest

from services.snapshot.jsonstream import MAX_DEPTH, JsonStreamError, iter_array, loads


def _records(text: str, key: str | None = "orders") -> list[object]:
    return list(iter_array(io.StringIO(text), key))


@pytest.mark.parametrize(
    ("document", "record", "words"),
    [
        ('{"orders": [], "orders": [{"id": 1}]}', None, 'the key "orders" appears twice'),
        ('{"orders": [{"id": 1}, {"id": 2, "note": "a", "id": 3}]}', 1, 'the key "id" appears twice'),
        ('{"orders": [{"id": 1, "a": {"b": 1, "b": 2}}]}', 0, 'the key "b" appears twice'),
        ('{"orders": [{"note": "\\ud800"}]}', 0, "field `note` is not valid Unicode"),
        ('{"orders": [{"x": [{"note": "ok\\udc00"}]}]}', 0, "field `x[0].note` is not valid Unicode"),
        ('{"orders": [{"note": "a\\u0000b"}]}', 0, "field `note` holds a NUL character"),
        ('{"orders": [{"q": NaN}]}', 0, "NaN is not a JSON number"),
        ('{"orders": [{"q": -Infinity}]}', 0, "-Infinity is not a JSON number"),
        (
            '{"orders": [{"deep": ' + "[" * 5000 + "]" * 5000 + "}]}",
            0,
            f"nested more than {MAX_DEPTH} levels",
        ),
        ('{"orders": [{"n": ' + "9" * 5000 + "}]}", 0, "not valid JSON"),
    ],
)
def test_malformed_records_are_refused(document: str, record: int | None, words: str) -> None:
    with pytest.raises(JsonStreamError) as caught:
        _records(document)
    assert words in str(caught.value)
    assert caught.value.record == record
    with pytest.raises(JsonStreamError) as whole:  # as one document: the path runs from its top
        loads(document)
    assert words.replace("field `", "field `orders[0].") in str(whole.value)


def test_a_byte_order_mark_and_deep_but_bounded_nesting_are_accepted() -> None:
    deep = "[" * 900 + "]" * 900
    document = '\ufeff{"orders": [{"id": 1, "note_attributes": ' + deep + ', "emoji": "\\ud83d\\ude00"}]}'
    (record,) = _records(document)
    assert isinstance(record, dict) and record["emoji"] == "\U0001f600"
    assert loads(document.encode()) == json.loads(document.lstrip("\ufeff"))
