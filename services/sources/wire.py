"""Typed readers of the three sources' list pages: the fast path for well-formed replies.

A page of 250 Shopify orders is about 1.5 MB of JSON of which the rules need a fifth. Decoding it into
msgspec structs that declare only those fields skips the rest in C and checks the types on the way,
several times faster than building every dict and reading it field by field (`services.sources.fields`).

These readers are only ever a shortcut. When a reply does not fit (a type the lenient readers would
convert, such as an id sent as a string, a missing field, broken JSON), they raise `NotFast` and the
HTTP layer reads the reply the general way, which either accepts it or names exactly what is wrong.
So for every reply they accept they must build exactly the records the general readers build; the
tests in `tests/services/sources/test_wire.py` hold them to that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from checks.model import (
    Fulfillment,
    LineItem,
    LineQuantity,
    Refund,
    Shipment,
    StoreOrder,
    Tracker,
    TrackingEvent,
    WarehouseOrder,
    WarehouseProduct,
)
from services.sources.easypost import place_name
from services.sources.fields import ID_MAX, QUANTITY_MAX, NotFast, utc_timestamp
from services.sources.shopify import address_of, full_name, tracking_numbers

# The bounds of `services.sources.fields` (SPEC §1): a reply outside them is `NotFast`, and the general
# readers then name the field.
Id = Annotated[int, msgspec.Meta(ge=0, le=ID_MAX)]
Quantity = Annotated[int, msgspec.Meta(ge=0, le=QUANTITY_MAX)]
Name = Annotated[str, msgspec.Meta(max_length=64)]
Key = Annotated[str, msgspec.Meta(max_length=128)]
Email = Annotated[str, msgspec.Meta(max_length=320)]


def _when(value: str | None) -> datetime | None:
    """As `fields.timestamp` reads an optional timestamp; anything it would reject is `NotFast`."""
    if not value:
        return None
    try:
        return utc_timestamp(value)
    except ValueError:
        raise NotFast from None


def _required_when(value: str) -> datetime:
    moment = _when(value)
    if moment is None:
        raise NotFast
    return moment


def _decode(decoder: msgspec.json.Decoder[Any], content: bytes) -> Any:
    try:
        return decoder.decode(content)
    except msgspec.MsgspecError:
        raise NotFast from None


# ---------------------------------------------------------------- Shopify orders.json


class _FulfilledLine(msgspec.Struct):
    id: Id
    quantity: Quantity


class _RefundLine(msgspec.Struct):
    line_item_id: Id
    quantity: Quantity


class _Line(msgspec.Struct):
    id: Id
    quantity: Quantity
    sku: str | None = None
    name: str | None = None
    title: str | None = None
    vendor: str | None = None
    fulfillable_quantity: Quantity | None = None
    price: str | None = None


class _Fulfillment(msgspec.Struct):
    id: Id
    status: str
    created_at: str
    tracking_number: Key | None = None
    tracking_numbers: list[Any] | None = None
    tracking_company: str | None = None
    line_items: list[_FulfilledLine] | None = None


class _Refund(msgspec.Struct):
    id: Id
    created_at: str
    note: str | None = None
    refund_line_items: list[_RefundLine] | None = None


class _ShippingLine(msgspec.Struct):
    title: str | None = None


class _Customer(msgspec.Struct):
    first_name: Any = None
    last_name: Any = None
    email: Any = None


class _Order(msgspec.Struct):
    id: Id
    name: Name
    created_at: str
    line_items: list[_Line]
    updated_at: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    shipping_lines: list[_ShippingLine] | None = None
    customer: _Customer | None = None
    fulfillments: list[_Fulfillment] | None = None
    refunds: list[_Refund] | None = None
    email: Email | None = None
    phone: str | None = None
    shipping_address: dict[str, Any] | None = None
    note: str | None = None
    tags: str | None = None


class _Orders(msgspec.Struct):
    orders: list[_Order]


_ORDERS = msgspec.json.Decoder(_Orders)


def _store_order(o: _Order) -> StoreOrder:
    created_at = _required_when(o.created_at)
    customer = o.customer
    first, last = (customer.first_name, customer.last_name) if customer else (None, None)
    customer_name = full_name(first, last)
    email = o.email or (
        customer.email
        if customer and isinstance(customer.email, str) and len(customer.email) <= 320
        else None
    )
    fulfillments = []
    for f in o.fulfillments or ():
        if any(isinstance(n, str) and len(n) > 128 for n in f.tracking_numbers or ()):
            raise NotFast
        fulfillments.append(
            Fulfillment(
                id=f.id,
                status=f.status,
                created_at=_required_when(f.created_at),
                tracking_numbers=tracking_numbers(f.tracking_number, f.tracking_numbers or ()),
                tracking_company=f.tracking_company,
                line_items=tuple(LineQuantity(q.id, q.quantity) for q in f.line_items or ()),
            )
        )
    return StoreOrder(
        id=o.id,
        name=o.name,
        created_at=created_at,
        updated_at=_when(o.updated_at),
        cancelled_at=_when(o.cancelled_at),
        cancel_reason=o.cancel_reason,
        financial_status=o.financial_status,
        fulfillment_status=o.fulfillment_status,
        shipping_method=o.shipping_lines[0].title if o.shipping_lines else None,
        line_items=tuple(
            LineItem(
                id=li.id,
                sku=li.sku or None,
                title=li.name or li.title or "",
                vendor=li.vendor,
                quantity=li.quantity,
                fulfillable_quantity=li.fulfillable_quantity,
                price=li.price,
            )
            for li in o.line_items
        ),
        fulfillments=tuple(fulfillments),
        refunds=tuple(
            Refund(
                id=r.id,
                created_at=_required_when(r.created_at),
                line_items=tuple(LineQuantity(q.line_item_id, q.quantity) for q in r.refund_line_items or ()),
                note=r.note,
            )
            for r in o.refunds or ()
        ),
        email=email,
        phone=o.phone,
        customer_name=customer_name,
        shipping_address=address_of(o.shipping_address),
        note=o.note,
        tags=o.tags,
    )


def store_orders(content: bytes) -> list[StoreOrder]:
    """The `orders` of a Shopify `orders.json` reply."""
    return [_store_order(o) for o in _decode(_ORDERS, content).orders]


# ---------------------------------------------------------------- ShipBob /1.0/order


class _Product(msgspec.Struct):
    quantity: Quantity
    sku: str | None = None
    reference_id: str | None = None


class _Tracking(msgspec.Struct):
    tracking_number: Key | None = None
    carrier: str | None = None
    shipping_date: str | None = None


class _Location(msgspec.Struct):
    name: str | None = None


class _Shipment(msgspec.Struct):
    id: Id
    status: str
    tracking: _Tracking | None = None
    location: _Location | None = None
    actual_fulfillment_date: str | None = None
    created_date: str | None = None
    last_update_at: str | None = None
    ship_option: str | None = None


class _WarehouseOrder(msgspec.Struct):
    id: Id
    reference_id: Key | None = None
    order_number: Name | None = None
    status: str | None = None
    created_date: str | None = None
    shipping_method: str | None = None
    products: list[_Product] | None = None
    shipments: list[_Shipment] | None = None
    last_update_at: str | None = None


_WAREHOUSE_ORDERS = msgspec.json.Decoder(list[_WarehouseOrder])
_NO_TRACKING = _Tracking()
_NO_LOCATION = _Location()


def _shipment(s: _Shipment) -> Shipment:
    tracking = s.tracking or _NO_TRACKING
    return Shipment(
        id=s.id,
        status=s.status,
        location_name=(s.location or _NO_LOCATION).name,
        tracking_number=tracking.tracking_number or None,
        carrier=tracking.carrier,
        shipping_date=_when(tracking.shipping_date),
        actual_fulfillment_date=_when(s.actual_fulfillment_date),
        created_date=_when(s.created_date),
        last_update_at=_when(s.last_update_at),
        ship_option=s.ship_option,
    )


def warehouse_orders(content: bytes) -> list[WarehouseOrder]:
    """The orders of a ShipBob `GET /1.0/order` reply (a JSON list)."""
    return [
        WarehouseOrder(
            id=w.id,
            reference_id=w.reference_id or "",
            order_number=w.order_number,
            status=w.status,
            created_date=_when(w.created_date),
            shipping_method=w.shipping_method,
            products=tuple(
                WarehouseProduct(sku=p.sku, quantity=p.quantity, reference_id=p.reference_id)
                for p in w.products or ()
            ),
            shipments=tuple(_shipment(s) for s in w.shipments or ()),
            last_update_at=_when(w.last_update_at),
        )
        for w in _decode(_WAREHOUSE_ORDERS, content)
    ]


# ---------------------------------------------------------------- EasyPost /v2/trackers


class _Place(msgspec.Struct, frozen=True):
    # Strings only: the general reader also takes numbers here (it prints them).
    city: str | None = None
    state: str | None = None
    country: str | None = None


class _Detail(msgspec.Struct):
    datetime: str
    status: str | None = None
    message: str | None = None
    status_detail: str | None = None
    tracking_location: _Place | None = None


class _Tracker(msgspec.Struct):
    id: Annotated[str, msgspec.Meta(max_length=64)]
    tracking_code: Key
    status: str
    status_detail: str | None = None
    carrier: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    public_url: str | None = None
    tracking_details: list[_Detail] | None = None


class _Trackers(msgspec.Struct):
    trackers: list[_Tracker]
    has_more: bool | None = None


_TRACKERS = msgspec.json.Decoder(_Trackers)


_PLACES: dict[_Place, str | None] = {}  # a carrier scans at a few hundred places: join each once


def _place(p: _Place | None) -> str | None:
    if p is None:
        return None
    place = _PLACES.get(p)
    if place is None and p not in _PLACES:
        if len(_PLACES) > 50_000:
            _PLACES.clear()
        place = _PLACES[p] = place_name(p.city, p.state, p.country)
    return place


def _tracker(t: _Tracker) -> Tracker:
    return Tracker(
        id=t.id,
        tracking_code=t.tracking_code,
        status=t.status,
        status_detail=t.status_detail,
        carrier=t.carrier,
        created_at=_when(t.created_at),
        updated_at=_when(t.updated_at),
        events=tuple(
            TrackingEvent(
                datetime=_required_when(d.datetime),
                status=d.status,
                message=d.message,
                status_detail=d.status_detail,
                location=_place(d.tracking_location),
            )
            for d in t.tracking_details or ()
        ),
        public_url=t.public_url,
    )


def trackers(content: bytes) -> tuple[list[Tracker], bool]:
    """The trackers of an EasyPost `GET /v2/trackers` reply, and its `has_more`."""
    page = _decode(_TRACKERS, content)
    return [_tracker(t) for t in page.trackers], bool(page.has_more)
