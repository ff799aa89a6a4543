"""Fault injection for the simulated APIs, applied per API request by ``FaultMiddleware``.

Callers may rely on:
- ``Faults(rate=0.0, kinds=KINDS, latency_ms=0, spike_ms=1500, hang_s=30, retry_after="1", seed=0)``;
  ``faults.update(**settings)`` changes any of them at run time and ``faults.describe()`` reports them;
- ``faults.script(kinds, source=None)`` queues faults that are served, in order, to the next API requests
  (of that source: "shopify", "shipbob" or "easypost"), before any random draw - deterministic tests;
- the random faults use their own ``random.Random(seed)``: they never change the data served;
- fault kinds (``KINDS``):
  ``latency``   an extra ``spike_ms`` delay, then the normal response;
  ``429``       the source's rate-limit response with its retry header (Shopify ``Retry-After``, ShipBob
                ``x-retry-after``, EasyPost ``Retry-After``) set to ``retry_after``;
  ``500``       the source's internal-error body;
  ``timeout``   the server hangs ``hang_s`` seconds, then answers 504 (clients time out first);
  ``malformed`` HTTP 200 whose body is the real body cut in half plus an HTML fragment: invalid JSON,
                with a correct Content-Length;
  ``truncated`` HTTP 200 with the real Content-Length, but the connection is closed after half of the
                body was sent (httpx raises ``RemoteProtocolError``);
- ``latency_ms`` is added to every API request (not to ``/_sim`` control routes);
- authentication is checked before faults: a wrong token always gets the source's 401.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Any

KINDS = ("latency", "429", "500", "timeout", "malformed", "truncated")
SOURCES = ("shopify", "shipbob", "easypost")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ERROR_BODIES: dict[str, dict[str, Any]] = {
    "shopify": {
        "429": {
            "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
        },
        "500": {"errors": "Internal Server Error"},
        "504": {"errors": "Gateway Timeout"},
    },
    "shipbob": {
        "429": {"message": "API calls quota exceeded! maximum admitted 150 per 1m."},
        "500": {
            "type": "https://tools.ietf.org/html/rfc7231#section-6.6.1",
            "title": "An error occurred while processing your request.",
            "status": 500,
            "traceId": "00-4f1c2e9b8a7d6c5e4f3a2b1c0d9e8f7a-1a2b3c4d5e6f7a8b-00",
        },
        "504": {"message": "The upstream server did not respond in time."},
    },
    "easypost": {
        "429": {
            "error": {
                "code": "RATE_LIMITED",
                "message": "Rate limit exceeded. Please retry after some time.",
                "errors": [],
            }
        },
        "500": {
            "error": {
                "code": "INTERNAL_SERVER_ERROR",
                "message": "We're sorry, something went wrong. If the "
                "problem persists please contact support.",
                "errors": [],
            }
        },
        "504": {"error": {"code": "GATEWAY_TIMEOUT", "message": "The request timed out.", "errors": []}},
    },
}
RETRY_HEADER = {"shopify": "Retry-After", "shipbob": "x-retry-after", "easypost": "Retry-After"}


class Faults:
    def __init__(
        self,
        *,
        rate: float = 0.0,
        kinds: tuple[str, ...] | list[str] = KINDS,
        latency_ms: float = 0,
        spike_ms: float = 1500,
        hang_s: float = 30,
        retry_after: str | float = "1",
        seed: int = 0,
    ) -> None:
        self._lock = threading.Lock()
        self.rate = 0.0
        self.kinds: tuple[str, ...] = KINDS
        self.latency_ms = 0.0
        self.spike_ms = 1500.0
        self.hang_s = 30.0
        self.retry_after = "1"
        self.rng = random.Random(seed)
        self._script: deque[tuple[str, str | None]] = deque()
        self.injected: Counter[str] = Counter()
        self.update(
            rate=rate,
            kinds=kinds,
            latency_ms=latency_ms,
            spike_ms=spike_ms,
            hang_s=hang_s,
            retry_after=retry_after,
        )

    def update(
        self,
        *,
        rate: float | None = None,
        kinds: Any = None,
        latency_ms: float | None = None,
        spike_ms: float | None = None,
        hang_s: float | None = None,
        retry_after: Any = None,
        seed: int | None = None,
        script: list[str] | None = None,
        source: str | None = None,
        clear_script: bool = False,
    ) -> None:
        with self._lock:
            if rate is not None:
                if not 0 <= float(rate) <= 1:
                    raise ValueError("rate must be within [0, 1]")
                self.rate = float(rate)
            if kinds is not None:
                ks = tuple(kinds.split(",")) if isinstance(kinds, str) else tuple(str(k) for k in kinds)
                bad = [k for k in ks if k not in KINDS]
                if bad or not ks:
                    raise ValueError(f"unknown fault kinds {bad}; known: {', '.join(KINDS)}")
                self.kinds = ks
            if latency_ms is not None:
                self.latency_ms = max(0.0, float(latency_ms))
            if spike_ms is not None:
                self.spike_ms = max(0.0, float(spike_ms))
            if hang_s is not None:
                self.hang_s = max(0.0, float(hang_s))
            if retry_after is not None:
                self.retry_after = _fmt_retry(retry_after)
            if seed is not None:
                self.rng = random.Random(seed)
            if clear_script:
                self._script.clear()
        if script:
            self.script(script, source)

    def script(self, kinds: list[str] | tuple[str, ...], source: str | None = None) -> None:
        for k in kinds:
            if k not in KINDS:
                raise ValueError(f"unknown fault kind {k!r}; known: {', '.join(KINDS)}")
            if source is not None and source not in SOURCES:
                raise ValueError(f"unknown source {source!r}")
        with self._lock:
            self._script.extend((k, source) for k in kinds)

    def pick(self, source: str) -> str | None:
        with self._lock:
            for n, (k, src) in enumerate(self._script):
                if src is None or src == source:
                    del self._script[n]
                    self.injected[k] += 1
                    return k
            if self.rate and self.rng.random() < self.rate:
                k = self.rng.choice(self.kinds)
                self.injected[k] += 1
                return k
        return None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rate": self.rate,
                "kinds": list(self.kinds),
                "latency_ms": self.latency_ms,
                "spike_ms": self.spike_ms,
                "hang_s": self.hang_s,
                "retry_after": self.retry_after,
                "scripted": [{"kind": k, "source": s} for k, s in self._script],
                "injected": dict(self.injected),
            }


def _fmt_retry(v: Any) -> str:
    if isinstance(v, str):
        float(v)  # validate
        return v
    f = float(v)
    return str(int(f)) if f == int(f) else repr(f)


class RequestLog:
    """Counts of API requests per ``"METHOD /path"`` plus the most recent requests."""

    def __init__(self, keep: int = 5000) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.recent: deque[dict[str, Any]] = deque(maxlen=keep)

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.counts[f"{entry['method']} {entry['path']}"] += 1
            self.recent.append(entry)

    def snapshot(self, limit: int | None = None) -> dict[str, Any]:
        with self._lock:
            rec = list(self.recent)
            return {
                "counts": dict(self.counts),
                "total": sum(self.counts.values()),
                "recent": rec[-limit:] if limit else rec,
            }

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.recent.clear()


def json_response_parts(
    status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    raw = json.dumps(body, separators=(",", ":")).encode()
    hdrs = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(raw)).encode()),
    ]
    hdrs.extend(headers or [])
    return (
        {"type": "http.response.start", "status": status, "headers": hdrs},
        {"type": "http.response.body", "body": raw, "more_body": False},
    )


class FaultMiddleware:
    """ASGI middleware in front of the API routes: request log, auth, faults, latency.

    ``sources`` maps a path prefix (e.g. ``"/shopify"``) to ``(source name, auth_check)`` where
    ``auth_check(headers: dict[str, str]) -> (status, body, extra headers) | None``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        faults: Faults,
        log: RequestLog,
        sources: dict[str, tuple[str, Callable[[dict[str, str]], Any]]],
    ) -> None:
        self.app = app
        self.faults = faults
        self.log = log
        self.sources = sources

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        source = None
        auth = None
        for prefix, (name, check) in self.sources.items():
            if path == prefix or path.startswith(prefix + "/"):
                source, auth = name, check
                break
        if source is None:
            await self.app(scope, receive, send)
            return
        entry = {
            "method": scope["method"],
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "source": source,
            "status": None,
            "fault": None,
            "t": time.time(),
        }
        status_box = [0]

        async def send_logged(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                status_box[0] = msg["status"]
            await send(msg)

        try:
            await self._handle(scope, receive, send_logged, source, auth, entry)
        finally:
            entry["status"] = status_box[0] or None
            entry["done"] = time.time()  # with "t": which requests were in flight together
            self.log.add(entry)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, source: str, auth: Any, entry: dict[str, Any]
    ) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        denied = auth(headers) if auth else None
        if denied is not None:
            status, body, extra = denied
            start, msg = json_response_parts(
                status, body, [(k.encode(), v.encode()) for k, v in extra.items()]
            )
            await send(start)
            await send(msg)
            return
        f = self.faults
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        kind = f.pick(source)
        entry["fault"] = kind
        if kind == "latency":
            await asyncio.sleep(f.spike_ms / 1000)
        elif kind in ("429", "500"):
            extra = [(RETRY_HEADER[source].encode(), f.retry_after.encode())] if kind == "429" else []
            start, msg = json_response_parts(int(kind), ERROR_BODIES[source][kind], extra)
            await send(start)
            await send(msg)
            return
        elif kind == "timeout":
            await asyncio.sleep(f.hang_s)
            start, msg = json_response_parts(504, ERROR_BODIES[source]["504"])
            await send(start)
            await send(msg)
            return
        if kind in ("malformed", "truncated"):
            await self._mangle(scope, receive, send, kind)
            return
        await self.app(scope, receive, send)

    async def _mangle(self, scope: Scope, receive: Receive, send: Send, kind: str) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                start.update(msg)
            elif msg["type"] == "http.response.body":
                chunks.append(msg.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        half = body[: max(1, len(body) // 2)]
        if kind == "malformed":
            bad = (
                half
                + b"\n<html><head><title>502 Bad Gateway</title></head><body>upstream reset</body></html>"
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*headers, (b"content-length", str(len(bad)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": bad, "more_body": False})
            return
        # truncated: promise the whole body, send half, then return without finishing: uvicorn closes the
        # connection ("ASGI callable returned without completing response", filtered from its log).
        await send(
            {
                "type": "http.response.start",
                "status": start.get("status", 200),
                "headers": [*headers, (b"content-length", str(max(len(body), 2)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": half if len(body) > 1 else b"{", "more_body": True})


class _DropIncomplete(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


def quiet_truncation_logs() -> None:
    """Keep uvicorn from logging an error for every deliberately truncated response."""
    lg = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropIncomplete) for f in lg.filters):
        lg.addFilter(_DropIncomplete())
