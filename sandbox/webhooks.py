"""Signed webhooks for every change in the world as its clock moves (``--webhook-url URL``).

What callers may rely on:
- ``WebhookSender(world, url, secrets, faults=WebhookFaults(), tick_s=0.2)``; ``start()`` runs it on a
  daemon thread, ``stop()`` ends it; ``counts`` says how many were sent, duplicated, delayed and dropped.
- Every ``tick_s`` it looks at the world clock ``T``; each world event in ``(last T, T]`` becomes one
  delivery, rendered as of the moment of that event (so its ``updated_at`` is the event's own time):
  - Shopify (``URL/shopify``): the REST ``Order`` (``sandbox.records.shop_order_str``) for the order's
    creation (``orders/create``), cancellation (``orders/cancelled``), fulfillments (``orders/fulfilled``)
    and every other change (``orders/updated``); a held order's hold and its release also send
    ``fulfillment_orders/placed_on_hold`` / ``hold_released`` (``{"fulfillment_order": {…, "order_id"}}``).
    Signed ``X-Shopify-Hmac-SHA256``; ``X-Shopify-Webhook-Id``, ``X-Shopify-Topic``, ``X-Shopify-Triggered-At``.
  - ShipBob (``URL/shipbob``): the order as ``sandbox.records.sb_order_bytes`` renders it (its API
    version is that module's), for shipments (``order.shipped``), completion (``order.shipment.delivered``)
    and cancellation (``order.shipment.cancelled``). Signed Standard-Webhooks style (``webhook-id``,
    ``webhook-timestamp``, ``webhook-signature: v1,…``; ``x-webhook-topic``).
  - EasyPost (``URL/easypost``): an ``Event`` (``tracker.created`` / ``tracker.updated``) whose ``result``
    is the ``Tracker``, for each new tracker and each new scan. Signed ``X-Hmac-Signature``.
- Event ids are a pure function of (seed, record, change): a duplicate carries the same id.
- ``WebhookFaults(drop=, duplicate=, reorder=, seed=)``: each delivery is independently dropped (never
  sent: the catch-up sync finds it), sent twice, or held back and sent after later ones (out of order).
  ``WebhookFaults.from_rate(r)`` splits one ``--fault-rate`` evenly between the three.
- Signing uses ``services.webhooks.signatures``: what the simulator sends and what the receiver checks
  are one definition.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from services.webhooks import signatures

from . import records
from .scenarios import ON_HOLD, order_id
from .timefmt import fmt_z
from .world import World

log = logging.getLogger("sandbox.webhooks")

# store-order columns → topic (first match wins when several change at one moment)
SHOP_TOPICS = {
    "t0": "orders/create",
    "t_cancel": "orders/cancelled",
    "t_ful1": "orders/fulfilled",
    "t_ful2": "orders/fulfilled",
    "t_paid": "orders/updated",
    "t_release": "orders/updated",
    "t_refund": "orders/updated",
    "t_bad": "orders/updated",
    "t_vendor": "orders/updated",
    "t_closed": "orders/updated",
}
SB_TOPICS = {
    "t_ship1": "order.shipped",
    "t_ship2": "order.shipped",
    "t_ful1": "order.shipment.delivered",
    "t_ful2": "order.shipment.delivered",
    "t_3pl_cancel": "order.shipment.cancelled",
}


@dataclass(frozen=True)
class WebhookFaults:
    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    seed: int = 0

    @classmethod
    def from_rate(cls, rate: float, seed: int = 0) -> WebhookFaults:
        share = max(0.0, min(1.0, rate)) / 3
        return cls(drop=share, duplicate=share, reorder=share, seed=seed)


@dataclass(frozen=True)
class Delivery:
    source: str
    headers: dict[str, str]  # unsigned; signed when sent
    body: bytes
    event_id: str


def _event_id(seed: int, *parts: object) -> str:
    return hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).hexdigest()[:32]


class WebhookSender:
    def __init__(
        self,
        world: World,
        url: str,
        secrets: dict[str, str],
        *,
        faults: WebhookFaults | None = None,
        tick_s: float = 0.2,
        timeout_s: float = 5.0,
    ) -> None:
        self.world = world
        self.url = url.rstrip("/")
        self.secrets = secrets
        self.faults = faults or WebhookFaults()
        self.tick_s = tick_s
        self.counts: Counter[str] = Counter()
        self._random = random.Random(self.faults.seed)
        self._held: list[Delivery] = []
        self._scans: list[tuple[int, int]] = []  # heap of (next scan time, tracker key)
        self._last: int | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one tick at a time (the thread's, or a caller's)
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=timeout_s)

    # ---------------------------------------------------------------- running
    def start(self) -> None:
        self._last = self.world.now()
        self._seed_scans(self._last)
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def stop(self, *, flush: bool = False) -> None:
        """End the thread (after the delivery in flight); with `flush`, send what was held back first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        if flush:
            with self._lock:
                held, self._held = self._held, []
                for delivery in held:
                    self._send(delivery)
        self._http.close()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick()
            except Exception:  # a bad tick must not end the sender: the next one tries again
                log.exception("sending webhooks failed")

    def tick(self) -> int:
        """Send the deliveries for the changes since the last tick; returns how many were sent."""
        with self._lock:
            return self._tick()

    def _tick(self) -> int:
        now = self.world.now()
        last = self._last if self._last is not None else now
        if now <= last:
            return 0
        self._last = now
        deliveries = self.changes(last, now)
        held, self._held = self._held, []
        sent = 0
        for delivery in deliveries:
            roll = self._random.random()
            f = self.faults
            if roll < f.drop:
                self.counts["dropped"] += 1
                continue
            if roll < f.drop + f.reorder:
                self._held.append(delivery)  # sent after the next tick's: out of order
                self.counts["delayed"] += 1
                continue
            sent += self._send(delivery)
            if roll < f.drop + f.reorder + f.duplicate:
                self.counts["duplicated"] += 1
                sent += self._send(delivery)
        for delivery in held:
            sent += self._send(delivery)
        return sent

    def _send(self, delivery: Delivery) -> int:
        headers = dict(delivery.headers)
        body = delivery.body
        if delivery.source == "shopify":
            headers["X-Shopify-Hmac-SHA256"] = signatures.sign_shopify(self.secrets["shopify"], body)
        elif delivery.source == "shipbob":
            stamp = int(time.time())
            headers["webhook-timestamp"] = str(stamp)
            headers["webhook-signature"] = signatures.sign_shipbob(
                self.secrets["shipbob"], delivery.event_id, stamp, body
            )
        else:
            headers["X-Hmac-Signature"] = signatures.sign_easypost(self.secrets["easypost"], body)
        try:
            reply = self._http.post(f"{self.url}/{delivery.source}", content=body, headers=headers)
        except httpx.HTTPError as exc:
            self.counts["failed"] += 1
            log.warning("webhook to %s/%s failed: %s", self.url, delivery.source, exc)
            return 0
        self.counts["sent" if reply.status_code < 300 else f"http_{reply.status_code}"] += 1
        return 1

    # ---------------------------------------------------------------- what changed
    def changes(self, after: int, until: int) -> list[Delivery]:
        """The deliveries for world events in ``(after, until]``, in time order."""
        timed: list[tuple[int, int, Delivery]] = []
        plan = self.world.plan
        n_vis = self.world.shop_visible(until)
        for col, topic in SHOP_TOPICS.items():
            hits = np.nonzero((plan[col][:n_vis] > after) & (plan[col][:n_vis] <= until))[0]
            for i in hits.tolist():
                timed.extend(self._shopify(int(i), col, topic))
        for col, topic in SB_TOPICS.items():
            hits = np.nonzero((plan[col] > after) & (plan[col] <= until) & (plan["t_3pl"] <= until))[0]
            for i in hits.tolist():
                timed.append(self._shipbob(int(i), col, topic))
        timed.extend(self._trackers(after, until))
        timed.sort(key=lambda x: (x[0], x[1]))
        return [d for _, _, d in timed]

    def _shopify(self, i: int, col: str, topic: str) -> list[tuple[int, int, Delivery]]:
        row = self.world.row(i)
        t = int(getattr(row, col))
        oid = order_id(i)
        body = records.shop_order_str(self.world, row, t).encode()
        out = [(t, 0, self._shopify_delivery(topic, body, oid, col, t))]
        held = row.scen == ON_HOLD
        if held and col in ("t0", "t_release") and (col == "t_release" or row.t_release > row.t0):
            hold_topic = (
                "fulfillment_orders/placed_on_hold" if col == "t0" else "fulfillment_orders/hold_released"
            )
            status = "on_hold" if col == "t0" else "open"
            payload = {
                "fulfillment_order": {
                    "id": f"gid://shopify/FulfillmentOrder/{oid}",
                    "status": status,
                    "order_id": oid,
                }
            }
            out.append(
                (t, 1, self._shopify_delivery(hold_topic, json.dumps(payload).encode(), oid, hold_topic, t))
            )
        return out

    def _shopify_delivery(self, topic: str, body: bytes, oid: int, change: str, t: int) -> Delivery:
        event_id = _event_id(self.world.seed, "shopify", oid, change, t)
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Webhook-Id": event_id,
            "X-Shopify-Triggered-At": fmt_z(t),
            "X-Shopify-Shop-Domain": "sandbox.myshopify.com",
        }
        return Delivery("shopify", headers, body, event_id)

    def _shipbob(self, i: int, col: str, topic: str) -> tuple[int, int, Delivery]:
        row = self.world.row(i)
        t = int(getattr(row, col))
        body = records.sb_order_bytes(self.world, row, t)
        event_id = f"msg_{_event_id(self.world.seed, 'shipbob', i, col, t)}"
        headers = {"Content-Type": "application/json", "webhook-id": event_id, "x-webhook-topic": topic}
        return t, 2, Delivery("shipbob", headers, body, event_id)

    # ---------------------------------------------------------------- trackers
    def _seed_scans(self, now: int) -> None:
        """Every visible tracker with scans still to come, by its next scan time."""
        _, keys = self.world.tracker_table()
        for key in keys[: self.world.tracker_visible(now)].tolist():
            self._push_next_scan(int(key), now)

    def _push_next_scan(self, key: int, after: int) -> None:
        row = self.world.row(key // 8)
        for event in records.tracker_schedule(self.world, row, key % 8)[0]:
            if event[0] > after:
                heapq.heappush(self._scans, (int(event[0]), key))
                return

    def _trackers(self, after: int, until: int) -> list[tuple[int, int, Delivery]]:
        out = []
        created, keys = self.world.tracker_table()
        lo, hi = np.searchsorted(created, after, side="right"), np.searchsorted(created, until, side="right")
        for t, key in zip(created[lo:hi].tolist(), keys[lo:hi].tolist(), strict=True):
            out.append((int(t), 3, self._tracker_event(int(key), int(t), "tracker.created")))
            self._push_next_scan(int(key), int(t))
        while self._scans and self._scans[0][0] <= until:
            t, key = heapq.heappop(self._scans)
            created_at = self.world.tracker_created(key)
            if created_at is not None and created_at <= t:
                out.append((t, 3, self._tracker_event(key, t, "tracker.updated")))
            self._push_next_scan(key, t)
        return out

    def _tracker_event(self, key: int, t: int, description: str) -> Delivery:
        row = self.world.row(key // 8)
        sched = records.tracker_schedule(self.world, row, key % 8)
        tracker = records.tracker_str(self.world, row, key, t, sched)
        event_id = f"evt_{_event_id(self.world.seed, 'easypost', key, description, t)}"
        stamp = fmt_z(t)
        body = (
            f'{{"id":"{event_id}","object":"Event","mode":"production","description":"{description}",'
            f'"previous_attributes":{{}},"created_at":"{stamp}","updated_at":"{stamp}","result":{tracker},'
            f'"status":"pending","pending_urls":[],"completed_urls":[]}}'
        ).encode()
        return Delivery("easypost", {"Content-Type": "application/json"}, body, event_id)


def demo_secrets() -> dict[str, str]:
    """Fixed secrets for a simulator started without any (printed with the other settings)."""
    return {
        "shopify": "shpss_sandbox0000000000000000demo",
        "shipbob": "whsec_c2FuZGJveC1zaGlwYm9iLXdlYmhvb2stc2VjcmV0",
        "easypost": "sandbox-easypost-webhook-secret",
    }


def secrets_from_env(environ: Any) -> dict[str, str]:
    """The three signing secrets from SHOPIFY_/SHIPBOB_/EASYPOST_WEBHOOK_SECRET, else the demo ones."""
    demo = demo_secrets()
    return {
        s: environ.get(f"{s.upper()}_WEBHOOK_SECRET") or demo[s] for s in ("shopify", "shipbob", "easypost")
    }


__all__ = ["Delivery", "WebhookFaults", "WebhookSender", "demo_secrets", "secrets_from_env"]
