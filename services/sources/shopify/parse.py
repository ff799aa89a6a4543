"""Shopify Admin REST `Order` → `checks.model.StoreOrder` (the one reading of that shape)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from checks.model import Address, Fulfillment, LineItem, LineQuantity, Refund, StoreOrder
from services.sources.json_fields import RecordError, field, integer, items, quantity, text, timestamp

TRACKING_MAX = 128  # characters of a tracking number the store keeps


def parse_order(raw: Any, *, on_hold: bool | None = None) -> StoreOrder:
    created_at = timestamp(raw, "created_at")
    assert created_at is not None
    name = text(raw, "name", max_length=64)
    assert name is not None
    order_id = integer(raw, "id")
    assert order_id is not None
    shipping_lines = items(raw, "shipping_lines")
    shipping_method = (
        text(shipping_lines[0], "title", path="shipping_lines[0].", optional=True) if shipping_lines else None
    )
    customer = field(raw, "customer", dict, optional=True) or {}
    customer_name = full_name(customer.get("first_name"), customer.get("last_name"))
    return StoreOrder(
        id=order_id,
        name=name,
        created_at=created_at,
        updated_at=timestamp(raw, "updated_at", optional=True),
        cancelled_at=timestamp(raw, "cancelled_at", optional=True),
        cancel_reason=text(raw, "cancel_reason", optional=True),
        financial_status=text(raw, "financial_status", optional=True),
        fulfillment_status=text(raw, "fulfillment_status", optional=True),
        shipping_method=shipping_method,
        line_items=tuple(
            _line_item(li, f"line_items[{i}].")
            for i, li in enumerate(items(raw, "line_items", optional=False))
        ),
        fulfillments=tuple(
            _fulfillment(f, f"fulfillments[{i}].") for i, f in enumerate(items(raw, "fulfillments"))
        ),
        refunds=tuple(_refund(r, f"refunds[{i}].") for i, r in enumerate(items(raw, "refunds"))),
        email=text(raw, "email", optional=True, max_length=EMAIL_MAX) or _customer_email(customer),
        phone=text(raw, "phone", optional=True),
        customer_name=customer_name,
        shipping_address=address_of(field(raw, "shipping_address", dict, optional=True)),
        note=text(raw, "note", optional=True),
        tags=text(raw, "tags", optional=True),
        on_hold=on_hold,
        billing_address=address_of(field(raw, "billing_address", dict, optional=True)),
        customer_address=customer_record(
            address_of(field(customer, "default_address", dict, path="customer.", optional=True)),
            name=customer_name,
            email=_customer_email(customer),
            phone=customer.get("phone"),
        ),
        customer_email=_customer_email(customer),
    )


EMAIL_MAX = 320


def _customer_email(customer: dict[str, Any]) -> str | None:
    """The customer's email where the order has none: only a string the store can keep."""
    email = customer.get("email")
    return email if isinstance(email, str) and len(email) <= EMAIL_MAX else None


def customer_record(address: Address | None, *, name: str | None, email: Any, phone: Any) -> Address | None:
    """The customer record as one address: its default address, with the record's own name, email and
    phone where the address has none (all of it only for the summary redactor)."""
    email = email if isinstance(email, str) and email else None
    phone = phone if isinstance(phone, str) and phone else None
    if address is None:
        return Address(name=name, email=email, phone=phone) if (name or email or phone) else None
    return replace(address, name=address.name or name, email=email, phone=address.phone or phone)


def _line_item(raw: Any, path: str) -> LineItem:
    line_id = integer(raw, "id", path=path)
    ordered = quantity(raw, "quantity", path=path)
    assert line_id is not None and ordered is not None
    return LineItem(
        id=line_id,
        sku=text(raw, "sku", path=path, optional=True) or None,
        title=text(raw, "name", path=path, optional=True)
        or text(raw, "title", path=path, optional=True)
        or "",
        vendor=text(raw, "vendor", path=path, optional=True),
        quantity=ordered,
        fulfillable_quantity=quantity(raw, "fulfillable_quantity", path=path, optional=True),
        price=text(raw, "price", path=path, optional=True),
    )


def _quantities(raw: list[Any], path: str, id_key: str) -> tuple[LineQuantity, ...]:
    out = []
    for i, line in enumerate(raw):
        line_id = integer(line, id_key, path=f"{path}[{i}].")
        units = quantity(line, "quantity", path=f"{path}[{i}].")
        assert line_id is not None and units is not None
        out.append(LineQuantity(line_id, units))
    return tuple(out)


def full_name(first: Any, last: Any) -> str | None:
    """A customer's name from the parts that are non-empty strings."""
    return " ".join(p for p in (first, last) if isinstance(p, str) and p) or None


def tracking_numbers(single: str | None, listed: Iterable[Any]) -> tuple[str, ...]:
    """A fulfillment's tracking numbers: the listed non-empty strings, `tracking_number` first if new."""
    numbers = [n for n in listed if isinstance(n, str) and n]
    if single and single not in numbers:
        numbers.insert(0, single)
    return tuple(numbers)


def _fulfillment(raw: Any, path: str) -> Fulfillment:
    listed = items(raw, "tracking_numbers", path=path)
    for i, number in enumerate(listed):  # stored as the order's tracking numbers (SPEC §1 links)
        if isinstance(number, str) and len(number) > TRACKING_MAX:
            raise RecordError(
                f"{path}tracking_numbers[{i}]", f"is {len(number)} characters long, more than {TRACKING_MAX}"
            )
    numbers = tracking_numbers(
        text(raw, "tracking_number", path=path, optional=True, max_length=TRACKING_MAX), listed
    )
    fulfillment_id = integer(raw, "id", path=path)
    status = text(raw, "status", path=path)
    created_at = timestamp(raw, "created_at", path=path)
    assert fulfillment_id is not None and status is not None and created_at is not None
    return Fulfillment(
        id=fulfillment_id,
        status=status,
        created_at=created_at,
        tracking_numbers=numbers,
        tracking_company=text(raw, "tracking_company", path=path, optional=True),
        line_items=_quantities(items(raw, "line_items", path=path), f"{path}line_items", "id"),
    )


def _refund(raw: Any, path: str) -> Refund:
    refund_id = integer(raw, "id", path=path)
    created_at = timestamp(raw, "created_at", path=path)
    assert refund_id is not None and created_at is not None
    return Refund(
        id=refund_id,
        created_at=created_at,
        line_items=_quantities(
            items(raw, "refund_line_items", path=path), f"{path}refund_line_items", "line_item_id"
        ),
        note=text(raw, "note", path=path, optional=True),
    )


def address_of(
    raw: dict[str, Any] | None,
    *,
    first_name: str = "first_name",
    last_name: str = "last_name",
    province_code: str = "province_code",
    country_code: str = "country_code",
) -> Address | None:
    """A REST address; the GraphQL reader passes its own names for the four fields spelled otherwise."""
    if not raw:
        return None

    def s(key: str) -> str | None:
        value = raw.get(key)
        return value if isinstance(value, str) and value else None

    name = s("name") or " ".join(p for p in (s(first_name), s(last_name)) if p) or None
    return Address(
        name=name,
        address1=s("address1"),
        address2=s("address2"),
        city=s("city"),
        province_code=s(province_code),
        country_code=s(country_code),
        zip=s("zip"),
        phone=s("phone"),
        company=s("company"),
    )


def parse_on_hold(fulfillment_orders_payload: Any) -> bool:
    """True when any fulfillment order of the store order is `on_hold` (SPEC §3 rule 7)."""
    orders = items(fulfillment_orders_payload, "fulfillment_orders", optional=False)
    for i, fo in enumerate(orders):
        if text(fo, "status", path=f"fulfillment_orders[{i}].") == "on_hold":
            return True
    return False


__all__ = [
    "RecordError",
    "address_of",
    "customer_record",
    "full_name",
    "parse_on_hold",
    "parse_order",
    "tracking_numbers",
]
