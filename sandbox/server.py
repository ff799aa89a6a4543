"""Runs the simulator: one Starlette app on one loopback port serving the three APIs and ``/_sim``.

Over 400 lines because it is the simulator's whole control surface (the ``/_sim`` routes, start-up,
warming and shutdown) in one place; each API's own routes are in its module.

URL layout (``base_url`` = ``http://127.0.0.1:<port>``):
- ``{base}/shopify``  = SHOPIFY_SHOP_URL  (``POST /admin/api/2026-10/graphql.json``; bulk results under
  ``{base}/shopify-files/bulk/<n>.jsonl``)
- ``{base}/shipbob``  = SHIPBOB_API_URL   (paths ``/2026-07/...``; ``/1.0/...`` answers 404, retired)
- ``{base}/easypost`` = EASYPOST_API_URL  (paths ``/v2/...``)
- ``{base}/_sim/...`` test control, no auth: ``GET /_sim/state``, ``POST /_sim/clock``
  (``{"advance_s": s}`` or ``{"set": ISO}``), ``POST /_sim/faults`` (any of ``rate``, ``kinds``,
  ``latency_ms``, ``spike_ms``, ``hang_s``, ``retry_after``, ``seed``, ``script`` + ``source``,
  ``clear_script``, ``shopify_bucket`` ``{capacity, leak_per_s}``,
  ``shopify_graphql_bucket`` ``{capacity, restore_per_s}``), ``GET /_sim/requests`` (counts per
  ``"METHOD /path"`` and recent requests; ``?limit=N``), ``DELETE /_sim/requests`` (reset),
  ``GET /_sim/orders/{store order id}`` (that order's scenario and timeline: ground truth for tests).

What callers may rely on:
- ``start_in_thread(seed=7, orders=2000, clock=None, ...) -> RunningSimulator``: a real uvicorn server on
  127.0.0.1 (port 0 = a free one) started in a daemon thread; returns when it accepts connections (and,
  with ``warm=True``, after every record visible at the start clock was rendered into the caches). It is
  a context manager (the world's plan is built first; warming stops early when the render cache budget,
  ``cache_mb``, is spent); ``.base_url``, ``.settings()`` (the six ``NAME -> value`` settings), ``.world``,
  ``.sim`` (clock, faults, request log, bucket) and ``.stop()``;
- ``webhook_url=URL`` (with ``webhook_secrets`` {source: secret} and ``webhook_faults``, a
  ``sandbox.webhooks.WebhookFaults``) also sends signed webhooks for every change of the world to
  ``URL/shopify``, ``URL/shipbob``, ``URL/easypost`` (``sandbox.webhooks``); ``.webhooks`` is the sender;
- ``clock``: an ISO string (held still there), a ``Clock`` (used as is) or None (moving, from now);
- ``serve_forever(...)`` runs the same in the foreground until interrupted (the CLI);
- demo tokens are fixed: ``DEMO_TOKENS``.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, cast

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from . import easypost_api, records, shipbob_api, shopify_api, shopify_graphql
from .clock import Clock
from .faults import KINDS, FaultMiddleware, Faults, RequestLog, quiet_truncation_logs
from .scenarios import NEVER, SCENARIO_NAMES, TRACKER_KINDS, index_of_order_id
from .timefmt import fmt_z
from .world import World

DEMO_TOKENS = {
    "shopify": "shpat_sandbox0000000000000000demo",
    "shipbob": "sbx_sandbox_pat_0000000000000000demo",
    "easypost": "EZAKsandbox0000000000000000demo",
}
log = logging.getLogger("sandbox")


@dataclass
class Sim:
    """Everything the routes share: the world, its clock, faults, request log, tokens, Shopify bucket."""

    world: World
    faults: Faults
    log: RequestLog = field(default_factory=RequestLog)
    tokens: dict[str, str] = field(default_factory=lambda: dict(DEMO_TOKENS))
    bucket: shopify_api.LeakyBucket = field(default_factory=shopify_api.LeakyBucket)
    graphql_bucket: shopify_api.CostBucket = field(default_factory=shopify_api.CostBucket)
    shop_state: shopify_graphql.ShopState = field(default_factory=shopify_graphql.ShopState)
    warm_state: dict[str, Any] = field(default_factory=lambda: {"status": "off", "orders": 0, "seconds": 0.0})
    shipbob_webhooks: list[dict[str, Any]] = field(default_factory=list)  # sandbox.shipbob_admin
    easypost_webhooks: list[dict[str, Any]] = field(default_factory=list)  # POST /v2/webhooks (world.lock)

    @property
    def clock(self) -> Clock:
        return self.world.clock

    def now(self) -> int:
        return self.world.now()

    def settings(self, base_url: str) -> dict[str, str]:
        return {
            "SHOPIFY_SHOP_URL": f"{base_url}/shopify",
            "SHOPIFY_ACCESS_TOKEN": self.tokens["shopify"],
            "SHIPBOB_API_URL": f"{base_url}/shipbob",
            "SHIPBOB_TOKEN": self.tokens["shipbob"],
            "EASYPOST_API_URL": f"{base_url}/easypost",
            "EASYPOST_API_KEY": self.tokens["easypost"],
        }

    def warm(self, T: int | None = None, *, stop: threading.Event | None = None) -> int:
        """Render every record visible at ``T`` into the caches; returns how many were rendered."""
        w = self.world
        T = w.now() if T is None else T
        n_vis = w.shop_visible(T)
        done = 0
        step = 2000
        started = time.perf_counter()
        self.warm_state.update(status="running", orders=0, of=n_vis)
        budget = 0.9 * w.cache_shop.cap_bytes if w.cache_shop.cap_bytes else float("inf")
        for lo in range(0, n_vis, step):
            if (stop is not None and stop.is_set()) or w.cache_shop.bytes > budget:
                break  # stopped, or the cache budget is spent: the rest renders on demand
            rows = w.rows(range(lo, min(n_vis, lo + step)))
            for r in rows:
                records.shop_order_bytes(w, r, T)
                if r.t_3pl <= T:
                    records.sb_order_bytes(w, r, T)
                for k, col in TRACKER_KINDS.items():
                    t = getattr(r, col)
                    if t < NEVER and t + records.tracker_created_delay(w.seed, r.i * 8 + k) <= T:
                        records.tracker_bytes(w, r.i * 8 + k, T, r)
                done += 1
            self.warm_state.update(orders=done, seconds=round(time.perf_counter() - started, 2))
            time.sleep(0)  # let the server thread in
        self.warm_state.update(status="done" if done == n_vis else "stopped")
        return done


def _json(status: int, body: Any) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


async def sim_state(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    T = sim.now()
    return _json(
        200,
        {
            "clock": sim.clock.describe(),
            "seed": sim.world.seed,
            "orders": sim.world.n,
            "counts": sim.world.counts(T),
            "faults": sim.faults.describe(),
            "shopify_bucket": {"capacity": sim.bucket.capacity, "leak_per_s": sim.bucket.leak_per_s},
            "warm": sim.warm_state,
        },
    )


async def sim_clock(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("body must be an object")
        if "advance_s" in body:
            sim.clock.advance(float(body["advance_s"]))
        elif "set" in body:
            sim.clock.set(body["set"])
        else:
            raise ValueError("give advance_s or set")
    except (ValueError, TypeError) as e:
        return _json(400, {"error": str(e)})
    return _json(200, sim.clock.describe())


async def sim_faults(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("body must be an object")
        bucket = body.pop("shopify_bucket", None)
        graphql_bucket = body.pop("shopify_graphql_bucket", None)
        if "shopify_bulk_fail" in body:  # the next bulk operation fails with this error code
            sim.shop_state.fail_next_bulk = body.pop("shopify_bulk_fail")
        if "shopify_gone" in body:  # the GraphQL endpoint answers 410, as a retired version does
            sim.shop_state.gone = bool(body.pop("shopify_gone"))
        allowed = {
            "rate",
            "kinds",
            "latency_ms",
            "spike_ms",
            "hang_s",
            "retry_after",
            "seed",
            "script",
            "source",
            "clear_script",
        }
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(
                f"unknown settings {sorted(unknown)}; "
                f"known: {sorted(allowed | {'shopify_bucket', 'shopify_graphql_bucket'})}"
            )
        sim.faults.update(**body)
        if isinstance(bucket, dict):
            sim.bucket.configure(bucket.get("capacity"), bucket.get("leak_per_s"))
        if isinstance(graphql_bucket, dict):
            sim.graphql_bucket.configure(graphql_bucket.get("capacity"), graphql_bucket.get("restore_per_s"))
    except (ValueError, TypeError) as e:
        return _json(400, {"error": str(e)})
    return _json(
        200,
        {
            **sim.faults.describe(),
            "shopify_bucket": {"capacity": sim.bucket.capacity, "leak_per_s": sim.bucket.leak_per_s},
            "shopify_graphql_bucket": {
                "capacity": sim.graphql_bucket.capacity,
                "restore_per_s": sim.graphql_bucket.restore_per_s,
            },
        },
    )


async def sim_requests(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    if request.method == "DELETE":
        sim.log.reset()
        return _json(200, {"ok": True})
    lim = request.query_params.get("limit")
    return _json(200, sim.log.snapshot(int(lim) if lim and lim.isdigit() else 500))


async def sim_order(request: Request) -> Response:
    sim: Sim = request.app.state.sim
    raw = request.path_params["order_id"]
    w = sim.world
    i = index_of_order_id(int(raw), w.n) if raw.isdigit() else None
    if i is None and raw.lstrip("#").isdigit() and 0 <= int(raw.lstrip("#")) - 2001 < w.n:
        i = int(raw.lstrip("#")) - 2001
    if i is None:
        return _json(404, {"error": "no such order"})
    return _json(200, {**w.timeline(i), "clock": fmt_z(sim.now())})


def build_app(sim: Sim) -> Any:
    app = Starlette(
        routes=[
            Mount("/shopify-files", routes=[Route("/bulk/{number}.jsonl", shopify_graphql.bulk_file)]),
            Mount("/shopify", routes=shopify_api.ROUTES),
            Mount("/shipbob", routes=shipbob_api.ROUTES),
            Mount("/easypost", routes=easypost_api.ROUTES),
            Route("/_sim/state", sim_state, methods=["GET"]),
            Route("/_sim/clock", sim_clock, methods=["POST"]),
            Route("/_sim/faults", sim_faults, methods=["POST"]),
            Route("/_sim/requests", sim_requests, methods=["GET", "DELETE"]),
            Route("/_sim/orders/{order_id}", sim_order, methods=["GET"]),
        ]
    )
    app.state.sim = sim
    return FaultMiddleware(
        cast(Any, app),
        faults=sim.faults,
        log=sim.log,
        sources={
            "/shopify": ("shopify", shopify_api.auth_check(sim)),
            "/shipbob": ("shipbob", shipbob_api.auth_check(sim)),
            "/easypost": ("easypost", easypost_api.auth_check(sim)),
        },
    )


def make_sim(
    *,
    seed: int = 7,
    orders: int = 2000,
    clock: str | Clock | None = None,
    fault_rate: float = 0.0,
    latency_ms: float = 0.0,
    fault_kinds: tuple[str, ...] | list[str] = KINDS,
    retry_after: str | float = "1",
    hang_s: float = 30.0,
    spike_ms: float = 1500.0,
    fault_seed: int = 0,
    shopify_bucket: int = 40,
    shopify_leak_per_s: float = 2.0,
    shopify_graphql_bucket: float = 2000.0,
    shopify_graphql_restore_per_s: float = 100.0,
    speed: float = 1.0,
    cache_mb: int = 1024,
    tokens: dict[str, str] | None = None,
) -> Sim:
    if isinstance(clock, Clock):
        clk = clock
    elif clock is None:
        clk = Clock(None, held=False, speed=speed)
    else:
        clk = Clock(clock, held=True)
    world = World(seed=seed, orders=orders, clock=clk, cache_mb=cache_mb)
    faults = Faults(
        rate=fault_rate,
        kinds=fault_kinds,
        latency_ms=latency_ms,
        spike_ms=spike_ms,
        hang_s=hang_s,
        retry_after=retry_after,
        seed=fault_seed,
    )
    sim = Sim(
        world=world,
        faults=faults,
        tokens={**DEMO_TOKENS, **(tokens or {})},
        bucket=shopify_api.LeakyBucket(shopify_bucket, shopify_leak_per_s),
        graphql_bucket=shopify_api.CostBucket(shopify_graphql_bucket, shopify_graphql_restore_per_s),
    )
    return sim


class RunningSimulator:
    """A simulator served by uvicorn in a background thread (see ``start_in_thread``)."""

    def __init__(self, sim: Sim, server: uvicorn.Server, thread: threading.Thread, port: int) -> None:
        self.sim = sim
        self.world = sim.world
        self._server = server
        self._thread = thread
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"

    def settings(self) -> dict[str, str]:
        return self.sim.settings(self.base_url)

    webhooks: Any = None  # the sandbox.webhooks.WebhookSender, when started with a webhook URL

    def stop(self) -> None:
        if self.webhooks is not None:
            self.webhooks.stop()
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def start_webhooks(self, url: str, secrets: dict[str, str], faults: Any = None) -> Any:
        """Send signed webhooks of every change from now on to ``url/<source>`` (``sandbox.webhooks``)."""
        if self.webhooks is None:
            self.webhooks = _start_webhooks(self.sim, url, secrets, faults)
        return self.webhooks

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only for sockets that
    # say they are TCP; without it, small replies wait ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _server(sim: Sim, log_level: str) -> uvicorn.Server:
    quiet_truncation_logs()
    config = uvicorn.Config(
        build_app(sim),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        http="h11",
        loop="asyncio",
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


def start_in_thread(
    *,
    seed: int = 7,
    orders: int = 2000,
    clock: str | Clock | None = None,
    fault_rate: float = 0.0,
    latency_ms: float = 0.0,
    port: int = 0,
    warm: bool = True,
    log_level: str = "warning",
    **kw: Any,
) -> RunningSimulator:
    """Start the simulator on 127.0.0.1 in a daemon thread and wait until it accepts connections.

    Extra keywords go to ``make_sim``: ``fault_kinds``, ``retry_after``, ``hang_s``, ``spike_ms``,
    ``fault_seed``, ``shopify_bucket``, ``shopify_leak_per_s``, ``shopify_graphql_bucket``,
    ``shopify_graphql_restore_per_s``, ``speed``, ``cache_mb``, ``tokens``; and ``webhook_url``,
    ``webhook_secrets``, ``webhook_faults`` (see the module's docstring)."""
    webhooks = {k: kw.pop(k) for k in ("webhook_url", "webhook_secrets", "webhook_faults") if k in kw}
    sim = make_sim(seed=seed, orders=orders, clock=clock, fault_rate=fault_rate, latency_ms=latency_ms, **kw)
    sim.world.tracker_table()  # builds the plan too: no request pays for it
    if warm:
        sim.warm()
    sock = _bind("127.0.0.1", port)
    server = _server(sim, log_level)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox-uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("sandbox server did not start")
        time.sleep(0.01)
    running = RunningSimulator(sim, server, thread, sock.getsockname()[1])
    running.webhooks = _start_webhooks(sim, **webhooks)
    return running


def _start_webhooks(
    sim: Sim,
    webhook_url: str | None = None,
    webhook_secrets: dict[str, str] | None = None,
    webhook_faults: Any = None,
) -> Any:
    if not webhook_url:
        return None
    from .webhooks import WebhookSender, demo_secrets  # imported here: it loads the signature code

    sender = WebhookSender(sim.world, webhook_url, webhook_secrets or demo_secrets(), faults=webhook_faults)
    sender.start()
    return sender


def serve_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    seed: int = 7,
    orders: int = 2000,
    clock: str | Clock | None = None,
    fault_rate: float = 0.0,
    latency_ms: float = 0.0,
    warm: bool = True,
    log_level: str = "info",
    on_ready: Any = None,
    **kw: Any,
) -> None:
    """Serve in the foreground until interrupted; ``on_ready(settings)`` is called once listening."""
    webhooks = {k: kw.pop(k) for k in ("webhook_url", "webhook_secrets", "webhook_faults") if k in kw}
    sim = make_sim(seed=seed, orders=orders, clock=clock, fault_rate=fault_rate, latency_ms=latency_ms, **kw)
    sock = _bind(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}"
    if on_ready is not None:
        on_ready(sim.settings(base))
    stop = threading.Event()
    sim.world.tracker_table()  # builds the plan too: no request pays for it
    if warm:
        threading.Thread(target=sim.warm, kwargs={"stop": stop}, name="sandbox-warm", daemon=True).start()
    server = _server(sim, log_level)
    sender = _start_webhooks(sim, **webhooks)
    try:
        server.run(sockets=[sock])
    finally:
        if sender is not None:
            sender.stop()
        stop.set()
        with suppress(OSError):
            sock.close()


__all__ = [
    "DEMO_TOKENS",
    "SCENARIO_NAMES",
    "RunningSimulator",
    "Sim",
    "build_app",
    "make_sim",
    "serve_forever",
    "start_in_thread",
]
