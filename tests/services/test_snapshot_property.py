"""Property: for any snapshot in the SPEC §1 shapes, with random nulls, repeats, extreme numbers and
timestamps, `order-recon import` either succeeds and stores exactly what the pure rules say, or exits 2
with one line and nothing written. It never exits 1 and never raises."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine

from checks.categories import classify
from checks.discrepancies import static_discrepancies
from checks.join import linked_tracking_codes, parse_reference
from checks.model import OrderView, StoreOrder, Tracker, WarehouseOrder
from checks.policy import load_policy
from services.snapshot.jsonstream import JsonStreamError, loads
from services.sources.easypost import parse as easypost
from services.sources.json_fields import RecordError
from services.sources.shipbob import parse as shipbob
from services.sources.shopify import parse as shopify
from services.store import T_CLASS, T_DISC
from tests.conftest import SMALL_STORE
from tests.services.cli_import import dump_everything, run_import

POLICY = load_policy(SMALL_STORE / "sla.toml")
DATA_TABLES_LAST_FIRST = (
    "order_discrepancy", "order_tracking_number", "order_classification", "store_line_item", "store_fulfillment",
    "store_refund", "warehouse_shipment", "warehouse_order", "carrier_tracker", "inventory_level", "store_order",
)  # fmt: skip

# ---------------------------------------------------------------- snapshots in the SPEC §1 shapes

# Half the snapshots are hostile: extreme numbers and timestamps, repeated ids and names, text no store
# can keep. The other half are well-formed but for nulls, shared tracking codes and every status, so
# that accepted imports are many and varied too.
EXTREME_INTS = [-1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30]
EXTREME_MOMENTS = [
    "0001-01-01T00:00:00+05:45",
    "9999-12-31T23:00:00-05:00",
    "9999-12-29T12:00:00+14:00",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "yesterday",
    "",
]
small = st.integers(0, 3)
codes = st.sampled_from(["1ZA", "1ZB", "1ZC"])
skus = st.sampled_from(["MUG", "TEE", "CAP"])


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, strategy, st.none())


class Shape:
    """The value strategies of one snapshot, hostile or well-formed; well-formed ids are unique."""

    def __init__(self, hostile: bool) -> None:
        self.hostile = hostile
        self.last_id = 0

    def id(self, draw: st.DrawFn) -> int:
        if self.hostile:
            return draw(st.one_of(st.integers(1, 6), st.integers(1, 6), st.sampled_from(EXTREME_INTS)))
        self.last_id += 1
        return self.last_id

    def quantity(self, draw: st.DrawFn) -> int:
        extreme = st.sampled_from(EXTREME_INTS)
        return draw(st.one_of(small, small, small, extreme) if self.hostile else small)

    def moment(self, draw: st.DrawFn) -> str:
        ordinary = st.builds(
            lambda day, hour, offset: f"2026-06-{day:02d}T{hour:02d}:00:00{offset}",
            st.integers(20, 30),
            st.integers(0, 23),
            st.sampled_from(["Z", "z", "-04:00", "+05:45", "+00:00"]),
        )
        extreme = st.sampled_from(EXTREME_MOMENTS)
        return draw(st.one_of(ordinary, ordinary, ordinary, extreme) if self.hostile else ordinary)

    def maybe_moment(self, draw: st.DrawFn) -> str | None:
        return None if draw(st.integers(0, 3)) == 0 else self.moment(draw)


@st.composite
def store_orders(draw: st.DrawFn, shape: Shape) -> dict[str, Any]:
    lines = [
        {
            "id": shape.id(draw),
            "sku": draw(_optional(skus)),
            "title": "Item",
            "vendor": draw(st.sampled_from(["Harbor Goods", "Nordic Knitworks", None])),
            "quantity": shape.quantity(draw),
            "fulfillable_quantity": None if draw(st.integers(0, 3)) == 0 else shape.quantity(draw),
        }
        for _ in range(draw(st.integers(1, 2)))
    ]
    fulfillments = [
        {
            "id": shape.id(draw),
            "status": draw(st.sampled_from(["success", "failure", "cancelled", "success"])),
            "created_at": shape.moment(draw),
            "tracking_number": draw(_optional(codes)),
            "line_items": [
                {"id": line["id"], "quantity": shape.quantity(draw)} for line in lines[: draw(small)]
            ],
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    refunds = [
        {
            "id": shape.id(draw),
            "created_at": shape.moment(draw),
            "refund_line_items": [{"line_item_id": lines[0]["id"], "quantity": shape.quantity(draw)}],
        }
        for _ in range(draw(st.integers(0, 1)))
    ]
    order_id = shape.id(draw)
    notes = [None, "ok", "\ud800", "a\x00b", "é✓"] if shape.hostile else [None, "é✓"]
    return {
        "id": order_id,
        "name": f"#{draw(st.integers(1001, 1004)) if shape.hostile else 1000 + order_id}",
        "created_at": shape.moment(draw),
        "updated_at": shape.maybe_moment(draw),
        "cancelled_at": shape.moment(draw) if draw(st.integers(0, 3)) == 0 else None,
        "financial_status": draw(
            st.sampled_from(["paid", "pending", "refunded", "partially_refunded", None])
        ),
        "fulfillment_status": draw(st.sampled_from([None, "partial", "fulfilled"])),
        "line_items": lines,
        "fulfillments": fulfillments,
        "refunds": refunds,
        "note": draw(st.sampled_from(notes)),
    }


@st.composite
def warehouse_orders(draw: st.DrawFn, shape: Shape, store_ids: list[int]) -> dict[str, Any]:
    store_id = draw(st.sampled_from(store_ids))
    references = [str(store_id), f"{store_id}-R1", None, "99999999999999999999"]
    return {
        "id": shape.id(draw),
        "reference_id": draw(st.sampled_from(references)),
        "order_number": draw(_optional(st.sampled_from([str(1000 + i) for i in store_ids]))),
        "status": "Processing",
        "products": [{"sku": draw(_optional(skus)), "quantity": shape.quantity(draw)}],
        "shipments": [
            {
                "id": shape.id(draw),
                "status": draw(st.sampled_from(["Completed", "Processing", "Cancelled"])),
                "tracking": {"tracking_number": draw(_optional(codes))},
            }
            for _ in range(draw(st.integers(0, 2)))
        ],
    }


@st.composite
def trackers(draw: st.DrawFn, shape: Shape) -> dict[str, Any]:
    return {
        "id": f"trk_{draw(st.integers(1, 4)) if shape.hostile else shape.id(draw)}",
        "tracking_code": draw(codes),
        "status": draw(st.sampled_from(["in_transit", "delivered", "return_to_sender", "failure", "error"])),
        "updated_at": shape.maybe_moment(draw),
        "tracking_details": [],
    }


@st.composite
def snapshots(draw: st.DrawFn) -> dict[str, Any]:
    shape = Shape(hostile=draw(st.booleans()))
    orders = draw(st.lists(store_orders(shape), min_size=1, max_size=3))
    store_ids = [o["id"] for o in orders if isinstance(o["id"], int) and 0 < o["id"] < 10**6]
    return {
        "shopify/orders.json": {"orders": orders},
        "shipbob/orders.json": draw(st.lists(warehouse_orders(shape, store_ids or [1]), max_size=2)),
        "easypost/trackers.json": {"trackers": draw(st.lists(trackers(shape), max_size=3))},
        "shipbob/inventory.json": [
            {"sku": sku, "total_fulfillable_quantity": shape.quantity(draw)}
            for sku in draw(st.lists(skus, max_size=2, unique=not shape.hostile))
        ],
    }


# ---------------------------------------------------------------- the pure rules' answers


def _expected(files: dict[str, Any]) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Order name → (base category, static discrepancies), by the SPEC §1 join and the pure rules."""
    orders: list[StoreOrder] = [shopify.parse_order(o) for o in files["shopify/orders.json"]["orders"]]
    warehouse: list[WarehouseOrder] = sorted(
        (shipbob.parse_order(w) for w in files["shipbob/orders.json"]), key=lambda w: w.id
    )
    carrier: list[Tracker] = sorted(
        (easypost.parse_tracker(t) for t in files["easypost/trackers.json"]["trackers"]), key=lambda t: t.id
    )
    originals = [w for w in warehouse if parse_reference(w.reference_id)[1] is None]
    out = {}
    for order in orders:
        match = next((w for w in originals if w.reference_id == str(order.id)), None) or next(
            (w for w in originals if w.order_number == order.number), None
        )
        replacements = tuple(
            w for w in warehouse if parse_reference(w.reference_id) [0] == order.id
            and parse_reference(w.reference_id)[1] is not None
        )  # fmt: skip
        linked = linked_tracking_codes(OrderView(store=order, warehouse=match))
        view = OrderView(
            store=order,
            warehouse=match,
            replacements=replacements,
            trackers=tuple(t for code in sorted(linked) for t in carrier if t.tracking_code == code),
        )
        c = classify(view, POLICY)
        out[order.name] = (c.base_category, sorted((d.code, d.detail) for d in static_discrepancies(view, c)))
    return out


def _stored(engine: Engine) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    with engine.connect() as conn:
        categories = {name: (cat, oid) for name, cat, oid in conn.execute(
            select(T_CLASS.c.order_name, T_CLASS.c.base_category, T_CLASS.c.order_id))}  # fmt: skip
        found: dict[int, list[tuple[str, str]]] = {}
        for oid, code, detail in conn.execute(select(T_DISC.c.order_id, T_DISC.c.code, T_DISC.c.detail)):
            found.setdefault(oid, []).append((code, detail))
    return {name: (cat, sorted(found.get(oid, []))) for name, (cat, oid) in categories.items()}


def _clear(engine: Engine) -> None:
    meta = MetaData()
    meta.reflect(engine, only=DATA_TABLES_LAST_FIRST)
    with engine.begin() as conn:
        for name in DATA_TABLES_LAST_FIRST:
            conn.execute(meta.tables[name].delete())


def _import_stores_the_rules_answers_or_refuses_cleanly(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], files: dict[str, Any]
) -> None:
    _clear(engine)
    before = dump_everything(engine)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "snapshot"
        for relative, data in files.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(json.dumps(data))
        outcome = run_import(root, engine, monkeypatch, capsys)
        assert outcome.code in (0, 2), outcome.stderr
        event(f"exit {outcome.code}")
        if outcome.code == 2:
            assert outcome.stderr.startswith("error: ") and outcome.stderr.count("\n") == 1, outcome.stderr
            assert dump_everything(engine) == before
            return
        # Accepted: read back as the import read it, the pure rules give what was stored.
        parsed = {relative: loads((root / relative).read_bytes()) for relative in files}
    assert _stored(engine) == _expected(parsed)


SLOW_FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_FIXTURES)
@given(files=snapshots())
def test_import_stores_the_rules_answers_or_refuses_cleanly(
    sqlite_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Any],
) -> None:
    _import_stores_the_rules_answers_or_refuses_cleanly(sqlite_engine, monkeypatch, capsys, files)


@pytest.mark.postgres
@settings(max_examples=15, deadline=None, suppress_health_check=SLOW_FIXTURES)
@given(files=snapshots())
def test_import_stores_the_rules_answers_or_refuses_cleanly_on_postgresql(
    pg_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, Any],
) -> None:
    _import_stores_the_rules_answers_or_refuses_cleanly(pg_engine, monkeypatch, capsys, files)


@settings(max_examples=150, deadline=None)
@given(
    order=st.builds(Shape, st.booleans()).flatmap(store_orders),
    tracker=st.builds(Shape, st.just(True)).flatmap(trackers),
)
def test_a_single_payload_is_read_or_refused_never_crashes(
    order: dict[str, Any], tracker: dict[str, Any]
) -> None:
    """A webhook body or an API reply goes through the same reader and parsers: a hostile one is a
    JsonStreamError or a RecordError (both become a clear refusal), never another exception."""
    for body, parse in ((order, shopify.parse_order), (tracker, easypost.parse_tracker)):
        try:
            parse(loads(json.dumps(body).encode()))
        except (JsonStreamError, RecordError):
            event("refused")
        else:
            event("read")
