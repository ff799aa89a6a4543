"""Shopify GraphQL Admin `Order` → `checks.model.StoreOrder` (the one reading of that shape).

The input is an order as the connector's own query selects it (`services.sources.shopify.queries`),
whether it came from a page of the `orders` connection, `order(id:)` or a bulk operation's JSONL
(reassembled by `services.sources.shopify.bulk`). The output is exactly what the REST reader
(`services.sources.shopify.parse_order`) makes of the same order, with the hold filled in from the
fulfillment orders. GraphQL ids are GIDs (`gid://shopify/Order/123`); the records keep the number.
Enums come upper-case (`PARTIALLY_FULFILLED`); the records keep the REST words (`partial`).
"""

from __future__ import annotations

from typing import Any

from checks.model import Address, Fulfillment, LineItem, LineQuantity, Refund, StoreOrder
from services.sources.json_fields import RecordError, field, integer, items, text, timestamp
from services.sources.shopify.parse import address_of, customer_record, full_name, tracking_numbers

# Order.displayFulfillmentStatus → REST `fulfillment_status` (REST says null for unfulfilled).
_FULFILLMENT_STATUS = {
    "FULFILLED": "fulfilled",
    "PARTIALLY_FULFILLED": "partial",
    "RESTOCKED": "restocked",
}
ON_HOLD = "ON_HOLD"


def gid_number(record: Any, key: str, kind: str, *, path: str = "") -> int:
    """The number at the end of `gid://shopify/<kind>/<n>` (a plain number is taken as it is)."""
    if type(record) is dict:  # the well-formed case first: a backfill reads millions of ids
        value = record.get(key)
        if type(value) is str:
            head, _, tail = value.rpartition("/")
            if tail.isdigit() and head[14:] == kind and head.startswith("gid://shopify/"):
                return int(tail)
    value = text(record, key, path=path)
    assert value is not None
    prefix = f"gid://shopify/{kind}/"
    raw = value[len(prefix) :] if value.startswith(prefix) else value
    raw = raw.split("?", 1)[0]  # a GID may carry parameters after `?`
    if not raw.isdigit():
        raise RecordError(f"{path}{key}", f"is {value!r}, expected a {prefix}<number> id")
    return int(raw)


def _lower(record: Any, key: str, *, path: str = "", optional: bool = True) -> str | None:
    value = text(record, key, path=path, optional=optional)
    return value.lower() if value is not None else None


def nodes(record: Any, key: str, *, path: str = "") -> list[Any]:
    """A connection's nodes (`{nodes: [...]}` or `{edges: [{node}]}`); absent or null reads as empty."""
    connection = field(record, key, dict, path=path, optional=True)
    if connection is None:
        return []
    inner = f"{path}{key}."
    if "nodes" in connection:
        return items(connection, "nodes", path=inner)
    return [
        field(e, "node", dict, path=f"{inner}edges[{i}].")
        for i, e in enumerate(items(connection, "edges", path=inner))
    ]


def parse_graphql_order(raw: Any) -> StoreOrder:
    """One GraphQL `Order` as a store record. Raises `RecordError` naming the field that is wrong."""
    created_at = timestamp(raw, "createdAt")
    name = text(raw, "name")
    assert created_at is not None and name is not None
    customer = field(raw, "customer", dict, optional=True) or {}
    # `defaultEmailAddress` replaces the deprecated `Customer.email` (since 2025-04); either is read.
    customer_email = _inner(customer, "defaultEmailAddress", "emailAddress") or customer.get("email")
    shipping_line = field(raw, "shippingLine", dict, optional=True)
    tags = raw.get("tags") if isinstance(raw, dict) else None
    holds = [
        _lower(fo, "status", path=f"fulfillmentOrders[{i}].", optional=False)
        for i, fo in enumerate(nodes(raw, "fulfillmentOrders"))
    ]
    return StoreOrder(
        id=gid_number(raw, "id", "Order"),
        name=name,
        created_at=created_at,
        updated_at=timestamp(raw, "updatedAt", optional=True) or created_at,
        cancelled_at=timestamp(raw, "cancelledAt", optional=True),
        cancel_reason=_lower(raw, "cancelReason"),
        financial_status=_lower(raw, "displayFinancialStatus"),
        fulfillment_status=_FULFILLMENT_STATUS.get(
            text(raw, "displayFulfillmentStatus", optional=True) or ""
        ),
        shipping_method=text(shipping_line, "title", path="shippingLine.", optional=True)
        if shipping_line
        else None,
        line_items=tuple(_line_item(li, f"lineItems[{i}].") for i, li in enumerate(nodes(raw, "lineItems"))),
        fulfillments=tuple(
            _fulfillment(f, f"fulfillments[{i}].") for i, f in enumerate(items(raw, "fulfillments"))
        ),
        refunds=tuple(_refund(r, f"refunds[{i}].") for i, r in enumerate(items(raw, "refunds"))),
        email=text(raw, "email", optional=True)
        or (customer_email if isinstance(customer_email, str) else None),
        phone=text(raw, "phone", optional=True),
        customer_name=full_name(customer.get("firstName"), customer.get("lastName")),
        shipping_address=_address(field(raw, "shippingAddress", dict, optional=True)),
        note=text(raw, "note", optional=True),
        tags=", ".join(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else tags,
        # SPEC §3 rule 7: held when any fulfillment order is on hold; none asked → not held.
        on_hold="on_hold" in holds,
        billing_address=_address(field(raw, "billingAddress", dict, optional=True)),
        customer_address=customer_record(
            _address(field(customer, "defaultAddress", dict, path="customer.", optional=True)),
            name=full_name(customer.get("firstName"), customer.get("lastName")),
            email=customer_email,
            phone=_inner(customer, "defaultPhoneNumber", "phoneNumber") or customer.get("phone"),
        ),
        customer_email=customer_email if isinstance(customer_email, str) else None,
    )


def _inner(record: dict[str, Any], key: str, inner: str) -> Any:
    """`record[key][inner]` when `record[key]` is an object (the Customer's email and phone objects)."""
    value = record.get(key)
    return value.get(inner) if isinstance(value, dict) else None


def _line_item(raw: Any, path: str) -> LineItem:
    quantity = integer(raw, "quantity", path=path)
    assert quantity is not None
    price_set = field(raw, "originalUnitPriceSet", dict, path=path, optional=True)
    shop_money = (
        field(price_set, "shopMoney", dict, path=f"{path}originalUnitPriceSet.") if price_set else None
    )
    return LineItem(
        id=gid_number(raw, "id", "LineItem", path=path),
        sku=text(raw, "sku", path=path, optional=True) or None,
        title=text(raw, "name", path=path, optional=True)
        or text(raw, "title", path=path, optional=True)
        or "",
        vendor=text(raw, "vendor", path=path, optional=True),
        quantity=quantity,
        # `unfulfilledQuantity` replaces the deprecated `fulfillableQuantity` (REST `fulfillable_quantity`).
        fulfillable_quantity=integer(raw, "unfulfilledQuantity", path=path, optional=True),
        price=text(shop_money, "amount", path=f"{path}originalUnitPriceSet.shopMoney.", optional=True)
        if shop_money
        else None,
    )


def _quantities(raw: Any, key: str, path: str) -> tuple[LineQuantity, ...]:
    out = []
    for i, line in enumerate(nodes(raw, key, path=path)):
        at = f"{path}{key}[{i}]."
        quantity = integer(line, "quantity", path=at)
        assert quantity is not None
        line_item = field(line, "lineItem", dict, path=at)
        out.append(LineQuantity(gid_number(line_item, "id", "LineItem", path=f"{at}lineItem."), quantity))
    return tuple(out)


def _fulfillment(raw: Any, path: str) -> Fulfillment:
    tracking = [t for t in items(raw, "trackingInfo", path=path) if isinstance(t, dict)]
    status = _lower(raw, "status", path=path, optional=False)
    created_at = timestamp(raw, "createdAt", path=path)
    assert status is not None and created_at is not None
    return Fulfillment(
        id=gid_number(raw, "id", "Fulfillment", path=path),
        status=status,
        created_at=created_at,
        tracking_numbers=tracking_numbers(None, (t.get("number") for t in tracking)),
        tracking_company=next((t["company"] for t in tracking if isinstance(t.get("company"), str)), None),
        line_items=_quantities(raw, "fulfillmentLineItems", path),
    )


def _refund(raw: Any, path: str) -> Refund:
    created_at = timestamp(raw, "createdAt", path=path)
    assert created_at is not None
    return Refund(
        id=gid_number(raw, "id", "Refund", path=path),
        created_at=created_at,
        line_items=_quantities(raw, "refundLineItems", path),
        note=text(raw, "note", path=path, optional=True),
    )


def _address(raw: dict[str, Any] | None) -> Address | None:
    return address_of(
        raw,
        first_name="firstName",
        last_name="lastName",
        province_code="provinceCode",
        country_code="countryCodeV2",
    )


__all__ = ["gid_number", "nodes", "parse_graphql_order"]
