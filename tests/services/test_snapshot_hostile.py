"""Hostile and real-world snapshots fed to `order-recon import` (SPEC §1 "Records"): each is refused with
exit 2, one line naming file, record and field, and nothing written; or it is accepted as the SPEC says.

Over 400 lines because it is one catalogue of hostile inputs, each a few lines, run through one import.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from services.store import T_CLASS, T_DISC, T_ORDER, T_TRACKER, T_WAREHOUSE
from tests.conftest import SMALL_STORE
from tests.services.cli_import import dump_everything, rewrite_json, run_import
from tests.services.snapshots import copy_sample

STORE, WAREHOUSE, TRACKERS, INVENTORY = (
    "shopify/orders.json",
    "shipbob/orders.json",
    "easypost/trackers.json",
    "shipbob/inventory.json",
)


def _orders(change: Callable[[list[dict[str, Any]]], Any]) -> Callable[[Any], Any]:
    return lambda data: change(data["orders"])


def _trackers(change: Callable[[list[dict[str, Any]]], Any]) -> Callable[[Any], Any]:
    return lambda data: change(data["trackers"])


def _set(record: dict[str, Any], **values: Any) -> None:
    record.update(values)


def _placeholder(relative: str, placeholder: str, raw: str) -> Callable[[Path], None]:
    """Put JSON text that `json.dumps` would not write (or not write that way) where a placeholder is."""

    def change(root: Path) -> None:
        path = root / relative
        path.write_text(path.read_text().replace(json.dumps(placeholder), raw, 1))

    return change


def _json(relative: str, change: Callable[[Any], Any]) -> Callable[[Path], None]:
    return lambda root: rewrite_json(root / relative, change)


def _steps(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        for step in steps:
            step(root)

    return change


def _note(value: Any) -> Callable[[Path], None]:
    return _json(STORE, _orders(lambda o: _set(o[1], note=value)))


def _note_attributes(value: Any) -> Callable[[Path], None]:
    return _json(STORE, _orders(lambda o: _set(o[1], note_attributes=value)))


def _repeated_orders_key(root: Path) -> None:
    path = root / STORE
    path.write_text('{"orders": [], "orders": ' + json.dumps(json.loads(path.read_text())["orders"]) + "}")


def _directory_for(relative: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / relative).unlink()
        (root / relative).mkdir()

    return change


# (case id, change to the sample snapshot, parts the one-line message must hold)
REFUSED = [
    (
        "store-name-twice",
        _json(STORE, _orders(lambda o: _set(o[3], name=o[0]["name"]))),
        [
            STORE,
            "order name #2001 appears twice",
            "record 0 (id 5410000000001)",
            "record 3 (id 5410000000004)",
        ],
    ),
    (
        "line-item-id-in-two-orders",
        _json(STORE, _orders(lambda o: _set(o[4]["line_items"][0], id=o[1]["line_items"][0]["id"]))),
        [STORE, "line item id 13000000002 appears twice", "record 1 (id 5410000000002)", "record 4"],
    ),
    (
        "fulfillment-id-in-two-orders",
        _json(STORE, _orders(lambda o: o[0].update(fulfillments=[dict(o[5]["fulfillments"][0])]))),
        [STORE, "fulfillment id 5502006 appears twice", "record 0 (id 5410000000001)", "record 5"],
    ),
    (
        "shipment-id-in-two-3pl-orders",
        _json(WAREHOUSE, lambda w: _set(w[1]["shipments"][0], id=w[0]["shipments"][0]["id"])),
        [
            WAREHOUSE,
            "shipment id 900000010 appears twice",
            "record 0 (id 90000001)",
            "record 1 (id 90000002)",
        ],
    ),
    (
        "shipbob-order-id-twice",
        _json(WAREHOUSE, lambda w: w.append({**w[0], "shipments": [], "reference_id": "5410000000007"})),
        [
            WAREHOUSE,
            "3PL order id 90000001 appears twice",
            "record 0 (id 90000001)",
            "record 4 (id 90000001)",
        ],
    ),
    (
        "tracker-id-twice",
        _json(
            TRACKERS, _trackers(lambda t: t.append({**t[0], "tracking_code": "1ZOTHER", "status": "failure"}))
        ),
        [TRACKERS, "tracker id trk_1zhg00000000002006 appears twice", "record 0", "record 1"],
    ),
    (
        "inventory-sku-twice",
        _json(INVENTORY, lambda i: i.append(dict(i[0]))),
        [INVENTORY, "appears twice", "record 0 (sku", "record 3 (sku"],
    ),
    (
        "created-at-before-year-1",
        _json(STORE, _orders(lambda o: _set(o[2], created_at="0001-01-01T00:00:00+05:45"))),
        [STORE, "record 2 (id 5410000000003)", "field `created_at`", "outside 1970-01-01 to 9999-12-30"],
    ),
    (
        "created-at-past-year-9999",
        _json(STORE, _orders(lambda o: _set(o[2], created_at="9999-12-31T23:00:00-05:00"))),
        [STORE, "record 2 (id 5410000000003)", "field `created_at`", "outside"],
    ),
    (
        "created-at-before-1970",
        _json(STORE, _orders(lambda o: _set(o[2], created_at="1969-12-31T23:59:59Z"))),
        [STORE, "record 2 (id 5410000000003)", "field `created_at`", "outside"],
    ),
    (
        "quantity-10-to-the-30",
        _json(STORE, _orders(lambda o: _set(o[0]["line_items"][0], quantity=10**30))),
        [STORE, "record 0 (id 5410000000001)", "field `line_items[0].quantity`", "an integer of 31 digits"],
    ),
    (
        "quantity-beyond-32-bits",
        _json(WAREHOUSE, lambda w: _set(w[0]["products"][0], quantity=2**31)),
        [WAREHOUSE, "record 0 (id 90000001)", "field `products[0].quantity`", "larger than 2147483647"],
    ),
    (
        "id-2-to-the-63",
        _json(STORE, _orders(lambda o: _set(o[0], id=2**63))),
        [STORE, "record 0", "field `id`", "larger than 9223372036854775807"],
    ),
    (
        "negative-quantity",
        _json(STORE, _orders(lambda o: _set(o[0]["line_items"][0], quantity=-1, fulfillable_quantity=-1))),
        [STORE, "record 0 (id 5410000000001)", "field `line_items[0].quantity`", "is -1, expected 0 or more"],
    ),
    (
        "negative-fulfillable",
        _json(STORE, _orders(lambda o: _set(o[0]["line_items"][0], fulfillable_quantity=-1))),
        [STORE, "record 0 (id 5410000000001)", "field `line_items[0].fulfillable_quantity`", "is -1"],
    ),
    (
        "5000-deep-array-in-an-unused-field",
        _steps(_note_attributes("__DEEP__"), _placeholder(STORE, "__DEEP__", "[" * 5000 + "]" * 5000)),
        [STORE, "record 1", "nested more than 1000 levels deep"],
    ),
    (
        "lone-surrogate-in-a-note",
        _note("broken \ud800 note"),  # json.dumps writes it as the escape "\ud800"
        [STORE, "record 1", "field `note` is not valid Unicode"],
    ),
    (
        "nul-in-a-note",
        _note("a\x00b"),
        [STORE, "record 1", "field `note`", "NUL"],
    ),
    (
        "repeated-top-level-key",
        _repeated_orders_key,
        [STORE, 'the key "orders" appears twice'],
    ),
    (
        "repeated-key-in-a-record",
        _steps(_note("__DUP__"), _placeholder(STORE, "__DUP__", '"x", "financial_status": "refunded"')),
        [STORE, "record 1", 'the key "financial_status" appears twice'],
    ),
    (
        "nan-quantity",
        _steps(_note("__NAN__"), _placeholder(STORE, "__NAN__", "NaN")),
        [STORE, "record 1", "NaN is not a JSON number"],
    ),
    (
        "orders-file-is-a-directory",
        _directory_for(STORE),
        [STORE, "not a file"],
    ),
    (
        "name-longer-than-the-store-keeps",
        _json(STORE, _orders(lambda o: _set(o[0], name="#" + "9" * 70))),
        [STORE, "record 0 (id 5410000000001)", "field `name`", "more than 64"],
    ),
    (
        "control-characters-in-a-repeated-id-stay-on-one-line",
        _json(TRACKERS, _trackers(lambda t: t.extend([{**t[0], "id": "trk\nx"}, {**t[0], "id": "trk\nx"}]))),
        [TRACKERS, "tracker id trk\\nx appears twice", "record 1 (id trk\\nx)", "record 2 (id trk\\nx)"],
    ),
    (
        "reference-id-not-a-string",
        _json(WAREHOUSE, lambda w: _set(w[0], reference_id=["5410000000001"])),
        [WAREHOUSE, "record 0 (id 90000001)", "field `reference_id`"],
    ),
]


@pytest.mark.parametrize(("change", "parts"), [pytest.param(c, p, id=i) for i, c, p in REFUSED])
def test_a_hostile_snapshot_is_refused_in_one_line_and_writes_nothing(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[Path], None],
    parts: list[str],
) -> None:
    assert run_import(SMALL_STORE, engine, monkeypatch, capsys).code == 0
    before = dump_everything(engine)
    snapshot = copy_sample(tmp_path)
    change(snapshot)
    outcome = run_import(snapshot, engine, monkeypatch, capsys)
    assert outcome.code == 2, outcome.stderr
    assert outcome.stderr.startswith("error: ") and outcome.stderr.count("\n") == 1, outcome.stderr
    for part in parts:
        assert part in outcome.stderr
    assert dump_everything(engine) == before


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _category(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(select(T_CLASS.c.base_category).where(T_CLASS.c.order_name == name))


def _details(engine: Engine, code: str) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(T_DISC.c.detail).where(T_DISC.c.code == code)))


def _tracker(
    code: str, tracker_id: str, status: str, updated_at: str = "2026-07-03T18:00:00Z"
) -> dict[str, Any]:
    return {
        "id": tracker_id,
        "tracking_code": code,
        "status": status,
        "carrier": "UPS",
        "created_at": "2026-07-01T18:00:00Z",
        "updated_at": updated_at,
        "tracking_details": [],
    }


def _split_shipment_returned(root: Path) -> None:
    """#2006 ships in two packages (store fulfillment and 3PL shipment), and both come back."""
    rewrite_json(
        root / WAREHOUSE,
        lambda w: w[3]["shipments"].append(
            {
                **w[3]["shipments"][0],
                "id": 900000041,
                "tracking": {"tracking_number": "1ZHG00000000002016", "carrier": "UPS"},
            }
        ),
    )
    rewrite_json(
        root / TRACKERS,
        _trackers(
            lambda t: t.extend(
                [
                    _tracker("1ZHG00000000002006", "trk_back_1", "return_to_sender"),
                    _tracker("1ZHG00000000002016", "trk_back_2", "failure"),
                ]
            )
        ),
    )


def _two_trackers_one_code(root: Path) -> None:
    rewrite_json(
        root / TRACKERS, _trackers(lambda t: t.append(_tracker("1ZHG00000000002006", "trk_again", "error")))
    )


def _reference_id_null(root: Path) -> None:
    rewrite_json(root / WAREHOUSE, lambda w: _set(w[2], reference_id=None))


def _bom(root: Path) -> None:
    for relative in (STORE, WAREHOUSE, TRACKERS, INVENTORY):
        path = root / relative
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def _lowercase_z(root: Path) -> None:
    rewrite_json(
        root / TRACKERS, _trackers(lambda t: _set(t[0], updated_at=t[0]["updated_at"].replace("Z", "z")))
    )
    rewrite_json(root / STORE, _orders(lambda o: _set(o[0], created_at="2026-07-01T14:00:00z")))


def _deep_900(root: Path) -> None:
    _steps(_note_attributes("__DEEP__"), _placeholder(STORE, "__DEEP__", "[" * 900 + "]" * 900))(root)


def _sample_answers(engine: Engine) -> None:
    expected = json.loads((SMALL_STORE / "expected.json").read_text())["categories"]
    for name, category in expected.items():
        assert _category(engine, name) in (category, "open"), name


def _both_returns_named(engine: Engine) -> None:
    (detail,) = _details(engine, "carrier_exception")
    assert "return_to_sender for 1ZHG00000000002006" in detail and "failure for 1ZHG00000000002016" in detail


def _both_trackers_kept_and_linked(engine: Engine) -> None:
    assert _count(engine, T_TRACKER, T_TRACKER.c.tracking_code == "1ZHG00000000002006") == 2
    (detail,) = _details(engine, "carrier_exception")
    assert detail == "Carrier reports error for 1ZHG00000000002006 (tracker trk_again)."


def _matched_by_order_number(engine: Engine) -> None:
    assert _category(engine, "#2005") == "sync_delay"  # its 3PL order is found by order number
    with engine.connect() as conn:
        assert (
            conn.scalar(select(T_WAREHOUSE.c.store_order_id).where(T_WAREHOUSE.c.id == 90000003))
            == 5410000000005
        )


ACCEPTED = [
    ("two-packages-both-returned", _split_shipment_returned, _both_returns_named),
    ("two-trackers-one-tracking-code", _two_trackers_one_code, _both_trackers_kept_and_linked),
    ("shipbob-reference-id-null", _reference_id_null, _matched_by_order_number),
    ("utf8-byte-order-mark", _bom, _sample_answers),
    ("lowercase-z-offset", _lowercase_z, _sample_answers),
    ("900-deep-array-in-an-unused-field", _deep_900, _sample_answers),
]


@pytest.mark.parametrize(("change", "holds"), [pytest.param(c, h, id=i) for i, c, h in ACCEPTED])
def test_a_real_world_shape_is_accepted(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[Path], None],
    holds: Callable[[Engine], None],
) -> None:
    snapshot = copy_sample(tmp_path)
    change(snapshot)
    outcome = run_import(snapshot, engine, monkeypatch, capsys)
    assert outcome.code == 0, outcome.stderr
    assert _count(engine, T_ORDER) == 7
    holds(engine)


def _shipped_later(root: Path) -> None:
    """#2001 a day later: fulfilled in the store."""

    def ship(orders: list[dict[str, Any]]) -> None:
        order = orders[0]
        order["updated_at"] = "2026-07-03T10:00:00-04:00"
        order["fulfillment_status"] = "fulfilled"
        order["line_items"][0]["fulfillable_quantity"] = 0
        order["fulfillments"] = [
            {
                "id": 5502001,
                "status": "success",
                "created_at": "2026-07-03T09:00:00-04:00",
                "tracking_number": "1ZHG00000000002001",
                "line_items": [{"id": 13000000001, "quantity": 1}],
            }
        ]

    rewrite_json(root / STORE, _orders(ship))
    rewrite_json(
        root / TRACKERS,
        _trackers(lambda t: _set(t[0], status="in_transit", updated_at="2026-06-26T18:00:00Z")),
    )


def test_an_older_snapshot_after_a_newer_one_moves_nothing_back(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = copy_sample(tmp_path / "newer")
    _shipped_later(newer)
    rewrite_json(
        newer / TRACKERS,
        _trackers(lambda t: _set(t[0], status="delivered", updated_at="2026-06-28T18:00:00Z")),
    )
    assert run_import(newer, engine, monkeypatch, capsys).code == 0
    assert _category(engine, "#2001") == "fulfilled"
    older = copy_sample(tmp_path / "older")
    rewrite_json(
        older / TRACKERS,
        _trackers(lambda t: _set(t[0], status="in_transit", updated_at="2026-06-26T18:00:00Z")),
    )
    assert run_import(older, engine, monkeypatch, capsys).code == 0
    assert _category(engine, "#2001") == "fulfilled"  # the older #2001 (unshipped) is ignored
    with engine.connect() as conn:
        assert conn.scalar(select(T_TRACKER.c.status)) == "delivered"  # so is the older tracker
    # The other orders of the older snapshot are the same age as the stored ones: they are written.
    assert _category(engine, "#2005") == "sync_delay"
