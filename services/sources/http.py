"""The one HTTP layer the three connectors share, on httpx, blocking and async alike.

Over 400 lines on purpose: retries, rate-limit waits, timeouts and the mapping of every failure to
`SourceError` are one policy, read in one place for all three vendors.

    Call ──build_request()──► httpx.Request ──send()──► httpx.Response ──read_reply()──► Reply ──parse──► T
            (shared)                        Client | AsyncClient           (shared)          (shared)

Only `send` and `sleep` differ between `SourceClient` and `AsyncSourceClient`; building the request,
reading the response, classifying failures and the retry policy are written once. A multi-step operation
is a *flow*, a generator that yields `Call`s and receives their parsed results, so the same flow runs on
either client (`client.run(flow)`).

What a caller may rely on:
- every request has a timeout (`Settings.source_timeout_s`);
- an idempotent call (GET) is retried up to `max_attempts` times with exponential backoff and jitter on
  429 (waiting what the source's retry header asks, up to `max_retry_after_s`), 5xx, timeouts,
  connection errors and malformed or truncated bodies, including a page whose records do not parse;
- a POST is retried only when the connection could not be opened (so nothing was sent): a timeout or
  a cut-off reply after sending is raised as `SourceUnavailable`, and the caller looks the result up;
- failures are raised as the `SourceError` tree naming source, call and HTTP status; 401/403 raise
  `SourceAuthError` naming the setting to fix.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import random
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, NoReturn, Protocol, Self, TypeVar

import httpx
import orjson
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from services.errors import (
    ConfigurationError,
    SourceAuthError,
    SourceError,
    SourceProtocolError,
    SourceRateLimited,
    SourceUnavailable,
)
from services.settings import Settings
from services.sources.json_fields import RecordError

T = TypeVar("T")
Flow = Generator["Call[Any]", Any, T]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class SourceConfig:
    """How to reach one source and how patient to be with it."""

    source: str  # "shopify" | "shipbob" | "easypost"
    base_url: str
    url_setting: str  # named when the URL is wrong
    secret_setting: str  # named when the credential is refused
    headers: Mapping[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = None
    timeout_s: float = 10.0
    retry_after_header: str = "Retry-After"
    max_attempts: int = 5
    backoff_s: float = 0.2  # first backoff; doubles per attempt, with jitter
    max_backoff_s: float = 5.0
    max_retry_after_s: float = 60.0  # a 429 asking for longer is raised instead of waited out


@dataclass(frozen=True)
class Reply:
    """A response the layer accepted: its status, headers and decoded JSON body (None when empty)."""

    status: int
    headers: httpx.Headers
    body: Any
    url: httpx.URL


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its reply; retried as a unit (request, decode and `parse`)."""

    name: str  # how errors name the call, e.g. "GET orders.json"
    path: str  # relative to the source's base URL, or an absolute URL (a next-page link)
    parse: Callable[[Reply], T]
    method: str = "GET"
    params: Mapping[str, Any] | None = None
    json_body: Any = None
    headers: Mapping[str, str] | None = None  # per-call headers (ShipBob's `shipbob_channel_id`)
    # Non-2xx statuses handed to `parse` instead of raised (404 → "not found", 422 → a duplicate).
    accept: frozenset[int] = frozenset()
    read_only: bool = False  # a POST that only reads (a GraphQL query): safe to repeat like a GET

    @property
    def idempotent(self) -> bool:
        return self.read_only or self.method.upper() in IDEMPOTENT_METHODS


class Pacer(Protocol):
    """Slows a client down before the source's rate limit is hit (Shopify's call-limit bucket)."""

    def delay(self) -> float:
        """Seconds to wait before asking again; 0.0 means send now (the request is counted in).

        Clients ask until it says 0.0, so a pacer shared by requests in flight side by side can let one
        go as soon as another's reply shows room, rather than each sleeping a wait fixed in advance."""
        ...

    def observe(self, response: httpx.Response) -> None: ...


@dataclass
class ClientStats:
    """What a client did, for run records, benchmarks and tests (a client may serve several threads)."""

    requests: int = 0
    retries: int = 0
    waits: list[float] = field(default_factory=list)  # every sleep: pacing, Retry-After and backoff
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def waited_s(self) -> float:
        return sum(self.waits)

    def count(self, *, request: bool = False, wait: float | None = None, retry: bool = False) -> None:
        with self._lock:
            self.requests += request
            self.retries += retry
            if wait is not None:
                self.waits.append(wait)


class _Transient(Exception):
    """A failed attempt worth retrying; `error` is what the caller sees when the attempts run out."""

    def __init__(self, error: SourceError, wait_s: float | None = None) -> None:
        super().__init__(str(error))
        self.error, self.wait_s = error, wait_s


# ---------------------------------------------------------------- shared: request, reply, failures


def build_request(
    http: httpx.Client | httpx.AsyncClient, call: Call[Any], config: SourceConfig | None = None
) -> httpx.Request:
    """The request of `call`, refused before anything is sent (so the credential never leaves) when it
    would go anywhere but the source's configured origin (a `Link` or `next-page` pointing elsewhere), or
    in clear text to a host that is not this machine."""
    request = http.build_request(
        call.method, call.path, params=call.params, json=call.json_body, headers=call.headers
    )
    base = http.base_url
    if config is not None and (request.url.scheme, request.url.host, request.url.port) != (
        base.scheme,
        base.host,
        base.port,
    ):
        raise SourceProtocolError(
            f"refused to follow a link off the configured origin ({request.url.scheme}://{request.url.host})",
            source=config.source,
            call=call.name,
        )
    if config is not None and request.url.scheme != "https" and not _loopback(request.url.host):
        raise ConfigurationError(
            f"{config.url_setting} must use https for a host other than this machine ({request.url.host})",
            setting=config.url_setting,
        )
    return request


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_reply(config: SourceConfig, call: Call[T], response: httpx.Response) -> T:
    """Classify the response; decode and parse it when accepted. Raises SourceError or `_Transient`."""
    status = response.status_code
    src, name = config.source, call.name
    if 200 <= status < 300 or status in call.accept:
        try:
            # orjson: a page of 250 store orders is ~1.5 MB, and the stdlib decoder is twice as slow.
            body = orjson.loads(response.content) if response.content.strip() else None
        except (ValueError, UnicodeDecodeError) as exc:
            _fail(
                call,
                SourceProtocolError(
                    f"the reply is not valid JSON ({exc})", source=src, call=name, status=status
                ),
            )
        try:
            return call.parse(Reply(status, response.headers, body, response.url))
        except RecordError as exc:
            _fail(
                call,
                SourceProtocolError(
                    f"a record is not in the expected shape: {exc}", source=src, call=name, status=status
                ),
            )
        except SourceProtocolError as exc:
            _fail(call, exc)
        except SourceRateLimited as exc:  # a limit said in the body (GraphQL's THROTTLED), not by a 429
            if call.idempotent and (exc.retry_after is None or exc.retry_after <= config.max_retry_after_s):
                raise _Transient(exc, exc.retry_after) from None
            raise
    if status in (401, 403):
        raise SourceAuthError(
            f"the credential was refused; check {config.secret_setting}", source=src, call=name, status=status
        )
    if status == 429:
        retry_after = _seconds(response.headers.get(config.retry_after_header))
        error = SourceRateLimited(
            "rate limited" + (f", asked to wait {retry_after:g}s" if retry_after else ""),
            source=src,
            call=name,
            status=status,
            retry_after=retry_after,
        )
        if call.idempotent and (retry_after is None or retry_after <= config.max_retry_after_s):
            raise _Transient(error, retry_after)
        raise error
    if status >= 500:
        _fail(
            call,
            SourceUnavailable(f"server error: {_excerpt(response)}", source=src, call=name, status=status),
        )
    if status == 404:
        raise SourceProtocolError(
            f"{response.url} was not found; check {config.url_setting}", source=src, call=name, status=status
        )
    raise SourceProtocolError(f"request refused: {_excerpt(response)}", source=src, call=name, status=status)


def _fail(call: Call[Any], error: SourceError) -> NoReturn:
    """Retry a failed idempotent call; a non-idempotent one may have taken effect, so raise at once."""
    if call.idempotent:
        raise _Transient(error)
    raise error


def transport_error(config: SourceConfig, call: Call[Any], exc: httpx.HTTPError) -> Exception:
    """An httpx failure as a SourceError, wrapped in `_Transient` when retrying it is safe."""
    src, name = config.source, call.name
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        # The connection never opened: nothing was sent, so even a POST may be repeated.
        return _Transient(
            SourceUnavailable(
                f"could not connect to {config.base_url} ({exc}); check {config.url_setting}",
                source=src,
                call=name,
            )
        )
    if isinstance(exc, httpx.TimeoutException):
        error: SourceError = SourceUnavailable(
            f"no reply within {config.timeout_s:g}s", source=src, call=name
        )
    elif isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        error = (
            SourceProtocolError(f"the reply was cut short ({exc})", source=src, call=name)
            if call.idempotent
            else SourceUnavailable(
                f"the connection broke after sending; outcome unknown ({exc})", source=src, call=name
            )
        )
    else:
        error = SourceUnavailable(f"{type(exc).__name__}: {exc}", source=src, call=name)
    return _Transient(error) if call.idempotent else error


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _excerpt(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return (text[:limit] + "…") if len(text) > limit else (text or response.reason_phrase or "no body")


def _retry_policy(config: SourceConfig, stats: ClientStats) -> dict[str, Any]:
    """tenacity settings shared by both clients: which failures, how many times, how long to wait."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.wait_s is not None:
            seconds = exc.wait_s
        else:
            seconds = min(config.max_backoff_s, config.backoff_s * 2 ** (state.attempt_number - 1))
            seconds *= 0.5 + random.random() / 2  # jitter: concurrent clients do not retry in step
        stats.count(retry=True, wait=seconds)
        return seconds

    return {
        "stop": stop_after_attempt(config.max_attempts),
        "wait": wait,
        "retry": retry_if_exception_type(_Transient),
        "reraise": True,
    }


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA bundle (~0.1 s), which would
    otherwise dominate a per-order refresh that opens three clients."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _http_options(config: SourceConfig) -> dict[str, Any]:
    return {
        "verify": _tls(),
        "base_url": config.base_url.rstrip("/") + "/",
        "headers": {"Accept": "application/json", "User-Agent": "order-recon/0.1", **config.headers},
        "auth": httpx.BasicAuth(*config.basic_auth) if config.basic_auth else None,
        "timeout": httpx.Timeout(config.timeout_s),
        "follow_redirects": False,
    }


# ---------------------------------------------------------------- the two clients


class SourceClient:
    """Blocking client for one source, built from the settings by the source's `configure` (its module's
    `config`; `overrides` go to it). Use as a context manager, or call `close()`."""

    configure: ClassVar[Callable[..., SourceConfig]]
    default_pacer: ClassVar[Callable[[], Pacer] | None] = None

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **overrides: Any,
    ) -> None:
        config = type(self).configure(settings, **overrides)
        default = type(self).default_pacer
        self.config, self.pacer, self.stats = config, pacer or (default() if default else None), ClientStats()
        self._sleep = sleep
        self._http = httpx.Client(transport=transport, **_http_options(config))

    def call(self, call: Call[T]) -> T:
        try:
            for attempt in Retrying(sleep=self._sleep, **_retry_policy(self.config, self.stats)):
                with attempt:
                    return self._attempt(call)
        except _Transient as exc:
            raise exc.error from exc.__cause__
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, call: Call[T]) -> T:
        while self.pacer is not None and (delay := self.pacer.delay()) > 0:
            self.stats.count(wait=delay)
            self._sleep(delay)
        self.stats.count(request=True)
        try:
            response = self._http.send(build_request(self._http, call, self.config))
        except httpx.HTTPError as exc:
            raise transport_error(self.config, call, exc) from exc
        if self.pacer is not None:
            self.pacer.observe(response)
        return read_reply(self.config, call, response)

    def run(self, flow: Flow[T]) -> T:
        """Drive a flow: send each call it yields, hand back the parsed result, return its value."""
        try:
            call = next(flow)
            while True:
                call = flow.send(self.call(call))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSourceClient:
    """The async twin of `SourceClient` (per-order refresh asks the three sources at once)."""

    configure: ClassVar[Callable[..., SourceConfig]]
    default_pacer: ClassVar[Callable[[], Pacer] | None] = None

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **overrides: Any,
    ) -> None:
        config = type(self).configure(settings, **overrides)
        default = type(self).default_pacer
        self.config, self.pacer, self.stats = config, pacer or (default() if default else None), ClientStats()
        self._sleep = sleep
        self._http = httpx.AsyncClient(transport=transport, **_http_options(config))

    async def call(self, call: Call[T]) -> T:
        try:
            async for attempt in AsyncRetrying(sleep=self._sleep, **_retry_policy(self.config, self.stats)):
                with attempt:
                    return await self._attempt(call)
        except _Transient as exc:
            raise exc.error from exc.__cause__
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, call: Call[T]) -> T:
        while self.pacer is not None and (delay := self.pacer.delay()) > 0:
            self.stats.count(wait=delay)
            await self._sleep(delay)
        self.stats.count(request=True)
        try:
            response = await self._http.send(build_request(self._http, call, self.config))
        except httpx.HTTPError as exc:
            raise transport_error(self.config, call, exc) from exc
        if self.pacer is not None:
            self.pacer.observe(response)
        return read_reply(self.config, call, response)

    async def run(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                call = flow.send(await self.call(call))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


__all__ = [
    "AsyncSourceClient",
    "Call",
    "ClientStats",
    "Flow",
    "Pacer",
    "Reply",
    "SourceClient",
    "SourceConfig",
    "build_request",
    "read_reply",
    "transport_error",
]
