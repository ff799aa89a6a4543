"""Shopify bulk operations: starting one, reading its status, and its JSONL result as whole orders.

A bulk query's result is a JSONL file with one object per line: each order, then (the operation is run
with `groupObjects: true`) its children, each naming its parent in `__parentId` — line items and
fulfillment orders under the order, fulfillment and refund line items under their fulfillment or refund
(which come inside the order's own line). `orders()` puts each order back together in the shape a
page of the `orders` connection has, one order at a time, so a file of any size is read in the memory
of one order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from services.errors import SourceError, SourceProtocolError
from services.sources.http import Call, Reply
from services.sources.json_fields import RecordError, field, text
from services.sources.shopify.queries import (
    BULK_RUN_MUTATION,
    BULK_STATUS_QUERY,
    SOURCE,
    bulk_orders_query,
    data_of,
    payload_of,
)

# The connection each kind of child line belongs to.
CHILD_KEYS = {
    "LineItem": "lineItems",
    "FulfillmentOrder": "fulfillmentOrders",
    "FulfillmentLineItem": "fulfillmentLineItems",
    "RefundLineItem": "refundLineItems",
}
RUN_CALL = "POST graphql.json (bulkOperationRunQuery)"
STATUS_CALL = "POST graphql.json (bulk operation status)"
DONE = frozenset({"COMPLETED"})
FAILED = frozenset({"FAILED", "CANCELED", "CANCELING", "EXPIRED"})


@dataclass(frozen=True)
class BulkOperation:
    id: str
    status: str  # CREATED | RUNNING | COMPLETED | FAILED | CANCELED | CANCELING | EXPIRED
    error_code: str | None = None
    object_count: int | None = None
    url: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in DONE or self.status in FAILED

    def raise_if_failed(self, call: str) -> None:
        if self.status in FAILED:
            raise SourceProtocolError(
                f"bulk operation {self.id} is {self.status}"
                + (f" ({self.error_code})" if self.error_code else ""),
                source=SOURCE,
                call=call,
            )


def _operation(raw: Any, path: str) -> BulkOperation:
    count = raw.get("objectCount") if isinstance(raw, dict) else None
    op_id, status = text(raw, "id", path=path), text(raw, "status", path=path)
    assert op_id is not None and status is not None
    return BulkOperation(
        id=op_id,
        status=status,
        error_code=text(raw, "errorCode", path=path, optional=True),
        object_count=int(count) if isinstance(count, int | str) and str(count).isdigit() else None,
        url=text(raw, "url", path=path, optional=True),
    )


def _started(reply: Reply) -> BulkOperation:
    payload = payload_of(reply, RUN_CALL, "bulkOperationRunQuery")
    return _operation(
        field(payload, "bulkOperation", dict, path="data.bulkOperationRunQuery."), "bulkOperation."
    )


def run_call(search: str | None = None) -> Call[BulkOperation]:
    """Start a bulk query of every order (or those matching `search`, e.g. `updated_at:>='…'`)."""
    return Call(
        RUN_CALL,
        "graphql.json",
        _started,
        method="POST",
        json_body={"query": BULK_RUN_MUTATION, "variables": {"query": bulk_orders_query(search)}},
        accept=frozenset({404, 410}),
    )


def _status(reply: Reply) -> BulkOperation:
    node = field(data_of(reply, STATUS_CALL), "node", dict, path="data.", optional=True)
    if node is None:
        raise SourceProtocolError(
            "the bulk operation is not known to the store", source=SOURCE, call=STATUS_CALL
        )
    return _operation(node, "data.node.")


def status_call(operation_id: str) -> Call[BulkOperation]:
    return Call(
        STATUS_CALL,
        "graphql.json",
        _status,
        method="POST",
        json_body={"query": BULK_STATUS_QUERY, "variables": {"id": operation_id}},
        accept=frozenset({404, 410}),
        read_only=True,
    )


def _kind(gid: Any) -> str | None:
    if not isinstance(gid, str) or not gid.startswith("gid://shopify/"):
        return None
    return gid[len("gid://shopify/") :].split("/", 1)[0]


def orders(lines: Iterable[bytes | str], *, source: str = "orders.jsonl") -> Iterator[dict[str, Any]]:
    """Each order of a bulk JSONL result with its children put back, in the order of the file.

    Raises `RecordError` naming the line for a line that is not a JSON object, a child whose parent is
    not the order before it (or one of that order's fulfillments or refunds), or a child of a kind the
    query does not select.
    """
    current: dict[str, Any] | None = None
    parents: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        at = f"{source} line {number}"
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise RecordError(at, f"is not valid JSON ({exc})") from None
        if type(obj) is not dict:
            raise RecordError(at, "is not a JSON object")
        parent = obj.pop("__parentId", None)
        if parent is None:
            if current is not None:
                yield current
            if _kind(obj.get("id")) != "Order":
                raise RecordError(f"{at}: id", f"is {obj.get('id')!r}, expected an Order id")
            current = obj
            parents = {current["id"]: current}
            for key in ("fulfillments", "refunds"):
                for child in obj.get(key) or ():
                    if isinstance(child, dict) and isinstance(child.get("id"), str):
                        parents[child["id"]] = child
            continue
        target = parents.get(parent) if isinstance(parent, str) else None
        if target is None:
            raise RecordError(
                f"{at}: __parentId",
                f"is {parent!r}, not the order before it or one of its fulfillments or refunds "
                "(the operation must run with groupObjects: true)",
            )
        child_key = CHILD_KEYS.get(_kind(obj.get("id")) or "")
        if child_key is None:
            raise RecordError(f"{at}: id", f"is {obj.get('id')!r}, a kind of child the query does not select")
        connection = target.get(child_key)
        if not isinstance(connection, dict):
            connection = target[child_key] = {"nodes": []}
        connection.setdefault("nodes", []).append(obj)
    if current is not None:
        yield current


__all__ = ["BulkOperation", "SourceError", "orders", "run_call", "status_call"]
