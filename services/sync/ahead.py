"""Ask a store page's holds and classify it where it is fetched, ahead of its commit.

Classifying a page (joining it with the 3PL and carrier data, SPEC §3 and §4) was about half of what
committing it cost, while the fetching helper idled on the other core. The helper now does it, with
the holds, which need the same join (a hold is asked only where it can decide the category). In
`sync_all` it waits until the store's turn, when the 3PL and carrier data are in. The page's commit
stores these classifications only where they still hold:

- the fulfilment data version (`services.store.versions`) is the one the helper read before its data,
  so no 3PL order, shipment or tracker has been written since;
- the order's hold is the one the helper classified with (an order whose hold was not asked keeps
  the stored one, and the pages before it in the same pass may have changed that).

Anything else is classified by the commit itself, as before.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import msgspec
from sqlalchemy.engine import Connection, Engine

from checks.categories import OPEN
from checks.model import StoreOrder
from checks.policy import SlaPolicy
from services import store
from services.sources.shopify_client import ShopifyClient, may_be_on_hold
from services.store import OrderClassified
from services.sync.passes import Page


class ClassifiedAhead(msgspec.Struct, array_like=True, frozen=True):
    """A store page's classifications, as its fetching helper made them."""

    version: int | None  # the fulfilment data version read before the data they were made with
    on_hold: list[bool | None]  # each order's hold as classified, in the page's order
    orders: list[OrderClassified]  # in the page's order


def classify_page(
    engine: Engine, page: Page, policy: SlaPolicy, now: datetime, client: ShopifyClient | None = None
) -> Page:
    """The store page with its classifications (`now` is the time the commit classifies at), and with
    its holds asked first if they are pending (`client` asks them)."""
    orders = [o for o in page.records if isinstance(o, StoreOrder)]
    if page.kind != "store" or not orders:
        return replace(page, holds_pending=False)
    pending = page.holds_pending
    with engine.connect() as conn:
        version = store.fulfilment_version(conn)  # before the data: see the module's docstring
        stored = store.with_stored_holds(conn, orders)
        # With holds pending, an order the hold may matter for is judged as not held; its hold is asked
        # if it is then open. Only an order whose hold turns out otherwise is classified again, from the
        # same view, so the data is still what the version says.
        judged = [
            replace(o, on_hold=False) if pending and may_be_on_hold(o) else s
            for o, s in zip(orders, stored, strict=True)
        ]
        views = store.build_views(conn, judged, events=False)
    classified = store.classify_views(views, policy, now)
    ask = [
        o.id
        for o, c in zip(orders, classified, strict=True)
        if pending and may_be_on_hold(o) and c.base_category == OPEN
    ]
    if ask:
        if client is None:
            raise ValueError("a store page with pending holds needs the store's client")
        holds = client.holds(ask)
        orders = [replace(o, on_hold=holds[o.id]) if o.id in holds else o for o in orders]
    # The holds stored: the ones asked, else the stored ones (None for orders never asked).
    held = [o if o.on_hold is not None else s for o, s in zip(orders, stored, strict=True)]
    for i, (was, now_held) in enumerate(zip(judged, held, strict=True)):
        if was.on_hold != now_held.on_hold:
            classified[i] = store.classify_views([replace(views[i], store=now_held)], policy, now)[0]
    ahead = ClassifiedAhead(version, [o.on_hold for o in held], classified)
    return replace(page, records=orders, classified=ahead, holds_pending=False)


def classifications(
    conn: Connection,
    orders: list[StoreOrder],
    ahead: ClassifiedAhead | None,
    version: int | None,
    policy: SlaPolicy,
    now: datetime,
) -> list[OrderClassified]:
    """The classifications of `orders` (holds resolved, as written): the helper's where they still
    hold, the rest made here; in the order of `orders`. `version` is the current fulfilment data
    version, read with `hold=True` before the transaction wrote anything (on PostgreSQL a writer of 3PL
    data that came between would otherwise wait on this transaction's rows while it waits on the
    version)."""
    usable: dict[int, tuple[bool | None, OrderClassified]] = {}
    if ahead is not None and ahead.version is not None and ahead.version == version:
        usable = {c.order_id: (hold, c) for hold, c in zip(ahead.on_hold, ahead.orders, strict=True)}
    made: dict[int, OrderClassified] = {}
    left = []
    for o in orders:
        entry = usable.get(o.id)
        if entry is not None and entry[0] == o.on_hold:
            made[o.id] = entry[1]
        else:
            left.append(o)
    if left:
        views = store.build_views(conn, left, events=False)
        made.update((c.order_id, c) for c in store.classify_views(views, policy, now))
    return [made[o.id] for o in orders]
