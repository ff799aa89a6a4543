"""Shopify GraphQL Admin 2026-10: the world's orders as ``Order`` objects and as bulk-operation JSONL.

Both are read off the REST ``Order`` JSON (``shop_order_bytes``) and the order's fulfillment orders, so
the three shapes always agree. Connections come as ``{"nodes": [...]}``; in the JSONL every node of
a connection is its own line naming its parent in ``__parentId`` (line items and fulfillment orders
under the order, fulfillment and refund line items under their fulfillment or refund), right after the
parent's line, as Shopify writes it with ``groupObjects: true``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ..rows import Row
from ..world import World
from .shopify import fulfillment_orders, shop_order_bytes

_FULFILLMENT_STATUS = {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED", "fulfilled": "FULFILLED"}
CONNECTIONS = ("lineItems", "fulfillmentOrders")
INNER = {"fulfillments": "fulfillmentLineItems", "refunds": "refundLineItems"}


def _gid(kind: str, number: Any) -> str:
    return f"gid://shopify/{kind}/{number}"


def _utc(value: str | None) -> str | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _upper(value: str | None) -> str | None:
    return value.upper() if isinstance(value, str) else None


def _address(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    return {
        "name": raw.get("name"),
        "firstName": raw.get("first_name"),
        "lastName": raw.get("last_name"),
        "company": raw.get("company"),
        "address1": raw.get("address1"),
        "address2": raw.get("address2"),
        "city": raw.get("city"),
        "provinceCode": raw.get("province_code"),
        "countryCodeV2": raw.get("country_code"),
        "zip": raw.get("zip"),
        "phone": raw.get("phone"),
    }


def _unfulfilled(rest: dict[str, Any]) -> dict[int, int]:
    """Each line's open quantity: REST ``fulfillable_quantity``, else (older orders) ``quantity`` less
    what successful fulfillments and refunds took (SPEC §3)."""
    taken: dict[int, int] = {}
    for f in rest.get("fulfillments") or []:
        if f.get("status") == "success":
            for li in f.get("line_items") or []:
                taken[li["id"]] = taken.get(li["id"], 0) + li["quantity"]
    for r in rest.get("refunds") or []:
        for rli in r.get("refund_line_items") or []:
            taken[rli["line_item_id"]] = taken.get(rli["line_item_id"], 0) + rli["quantity"]
    out = {}
    for li in rest["line_items"]:
        fq = li.get("fulfillable_quantity")
        out[li["id"]] = fq if isinstance(fq, int) else max(0, li["quantity"] - taken.get(li["id"], 0))
    return out


def order_from_rest(rest: dict[str, Any], fulfillment_orders_: list[dict[str, Any]]) -> dict[str, Any]:
    """The GraphQL ``Order`` for a REST ``Order`` and its fulfillment orders."""
    unfulfilled = _unfulfilled(rest)
    refunded: dict[int, int] = {}
    for r in rest.get("refunds") or []:
        for rli in r.get("refund_line_items") or []:
            refunded[rli["line_item_id"]] = refunded.get(rli["line_item_id"], 0) + rli["quantity"]
    customer = rest.get("customer") or None
    shipping_lines = rest.get("shipping_lines") or []
    tags = rest.get("tags") or ""
    return {
        "id": _gid("Order", rest["id"]),
        "name": rest["name"],
        "createdAt": _utc(rest["created_at"]),
        "updatedAt": _utc(rest.get("updated_at")),
        "cancelledAt": _utc(rest.get("cancelled_at")),
        "cancelReason": _upper(rest.get("cancel_reason")),
        "displayFinancialStatus": _upper(rest.get("financial_status")),
        "displayFulfillmentStatus": _FULFILLMENT_STATUS.get(rest.get("fulfillment_status"), "UNFULFILLED"),
        "email": rest.get("email"),
        "phone": rest.get("phone"),
        "note": rest.get("note"),
        "tags": [t.strip() for t in tags.split(",") if t.strip()],
        "customer": {
            "firstName": customer.get("first_name"),
            "lastName": customer.get("last_name"),
            "email": customer.get("email"),  # deprecated since 2025-04, still served
            "defaultEmailAddress": {"emailAddress": customer["email"]} if customer.get("email") else None,
            "defaultPhoneNumber": {"phoneNumber": customer["phone"]} if customer.get("phone") else None,
            "defaultAddress": _address(customer.get("default_address")),
        }
        if customer
        else None,
        "shippingAddress": _address(rest.get("shipping_address")),
        "billingAddress": _address(rest.get("billing_address")),
        "shippingLine": {"title": shipping_lines[0].get("title")} if shipping_lines else None,
        "lineItems": {
            "nodes": [
                {
                    "id": _gid("LineItem", li["id"]),
                    "sku": li.get("sku"),
                    "name": li.get("name") or li.get("title"),
                    "vendor": li.get("vendor"),
                    "quantity": li["quantity"],
                    "currentQuantity": li["quantity"] - refunded.get(li["id"], 0),
                    "unfulfilledQuantity": unfulfilled[li["id"]],
                    "originalUnitPriceSet": {"shopMoney": {"amount": li.get("price"), "currencyCode": "USD"}},
                }
                for li in rest["line_items"]
            ]
        },
        "fulfillments": [
            {
                "id": _gid("Fulfillment", f["id"]),
                "status": _upper(f["status"]),
                "createdAt": _utc(f["created_at"]),
                "trackingInfo": [
                    {"number": n, "company": f.get("tracking_company")}
                    for n in (f.get("tracking_numbers") or [f.get("tracking_number")])
                    if n
                ],
                "fulfillmentLineItems": {
                    "nodes": [
                        {
                            "id": _gid("FulfillmentLineItem", f["id"] * 100 + k),
                            "quantity": li["quantity"],
                            "lineItem": {"id": _gid("LineItem", li["id"])},
                        }
                        for k, li in enumerate(f.get("line_items") or [])
                    ]
                },
            }
            for f in rest.get("fulfillments") or []
        ],
        "refunds": [
            {
                "id": _gid("Refund", r["id"]),
                "createdAt": _utc(r["created_at"]),
                "note": r.get("note"),
                "refundLineItems": {
                    "nodes": [
                        {
                            "id": _gid("RefundLineItem", rli["id"]),
                            "quantity": rli["quantity"],
                            "lineItem": {"id": _gid("LineItem", rli["line_item_id"])},
                        }
                        for rli in r.get("refund_line_items") or []
                    ]
                },
            }
            for r in rest.get("refunds") or []
        ],
        "fulfillmentOrders": {
            "nodes": [
                {
                    "id": _gid("FulfillmentOrder", fo["id"]),
                    "status": fo["status"].upper(),
                    "fulfillmentHolds": [
                        {"reason": h["reason"].upper(), "reasonNotes": h.get("reason_notes")}
                        for h in fo.get("fulfillment_holds") or []
                    ],
                }
                for fo in fulfillment_orders_
            ]
        },
    }


def graphql_order(world: World, r: Row, T: int) -> dict[str, Any]:
    """Order ``r`` as the GraphQL Admin API shows it at ``T``."""
    return order_from_rest(json.loads(shop_order_bytes(world, r, T)), fulfillment_orders(world, r, T))


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def jsonl_lines(order: dict[str, Any]) -> Iterator[str]:
    """One GraphQL ``Order`` as bulk-operation JSONL lines (without newlines)."""
    head = {k: v for k, v in order.items() if k not in CONNECTIONS}
    children: list[str] = []
    for key, inner in INNER.items():
        parts = []
        for part in order.get(key) or []:
            nested = part.get(inner, {}).get("nodes", [])
            parts.append({k: v for k, v in part.items() if k != inner})
            children.extend(_dumps({**n, "__parentId": part["id"]}) for n in nested)
        head[key] = parts
    yield _dumps(head)
    for key in CONNECTIONS:
        for node in order[key]["nodes"]:
            yield _dumps({**node, "__parentId": order["id"]})
    yield from children


__all__ = ["graphql_order", "jsonl_lines", "order_from_rest"]
