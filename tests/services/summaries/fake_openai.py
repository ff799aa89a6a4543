"""A loopback OpenAI-compatible server for the summary tests: `POST /v1/chat/completions`.

A real HTTP server (stdlib ThreadingHTTPServer in a thread), so the production client code, its
timeouts and its streaming are what the tests exercise. It answers streamed (SSE `data: {...}`
chunks, then `data: [DONE]`) or plain JSON, following the request's `stream` flag, and records every
request body as raw bytes. Tell it what to do next with `queue(...)`:

    Reply(text, chunk_delay_s=0.2)        an answer, split into chunks, optionally slow
    Reply(text, hang_after_chunks=2)      some chunks, then silence past the client timeout
    Reply(text, finish=False)             chunks, then the connection closes without finish_reason
    Reply(tool_call=True)                 a tool call instead of text (must be ignored)
    Fail(429, retry_after="1")            an error status, with Retry-After
    Hang(seconds)                         no answer at all until `seconds` pass (or the test ends)
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Reply:
    text: str = "The order is on its way."
    words_per_chunk: int = 3
    chunk_delay_s: float = 0.0
    usage: tuple[int, int] | None = (321, 42)  # (prompt, completion) when the client asks for usage
    hang_after_chunks: int | None = None
    hang_s: float = 10.0
    finish: bool = True
    tool_call: bool = False


@dataclass(frozen=True)
class Fail:
    status: int
    retry_after: str | None = None
    message: str = "simulated failure"


@dataclass(frozen=True)
class Hang:
    seconds: float = 10.0


Behaviour = Reply | Fail | Hang


@dataclass
class RecordedRequest:
    path: str
    body: bytes
    received_at: float  # time.monotonic()
    finished_at: float | None = None
    behaviour: Behaviour | None = None

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class _State:
    script: deque[Behaviour] = field(default_factory=deque)
    default: Behaviour = field(default_factory=Reply)
    requests: list[RecordedRequest] = field(default_factory=list)  # since the last reset
    all_requests: list[RecordedRequest] = field(default_factory=list)  # the whole test session
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeOpenAI:
    def __init__(self) -> None:
        self.state = _State()
        state = self.state

        class Handler(_Handler):
            shared = state

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def all_requests(self) -> list[RecordedRequest]:
        with self.state.lock:
            return list(self.state.all_requests)

    def queue(self, *behaviours: Behaviour) -> None:
        with self.state.lock:
            self.state.script.extend(behaviours)

    def answer_always(self, behaviour: Behaviour) -> None:
        with self.state.lock:
            self.state.default = behaviour

    def release_hangs(self) -> None:
        """Wake every handler still hanging (a test is over; its client is gone)."""
        with self.state.lock:
            self.state.release.set()
            self.state.release = threading.Event()

    def reset(self) -> None:
        """Forget the script and this test's requests; wake any handler still hanging."""
        self.release_hangs()
        with self.state.lock:
            self.state.script.clear()
            self.state.default = Reply()
            self.state.requests.clear()

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.reset()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    shared: _State
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes: simple streaming

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        record = RecordedRequest(path=self.path, body=body, received_at=time.monotonic())
        with self.shared.lock:
            self.shared.requests.append(record)
            self.shared.all_requests.append(record)
            behaviour = self.shared.script.popleft() if self.shared.script else self.shared.default
            release = self.shared.release
        record.behaviour = behaviour
        try:
            if self.path != CHAT_PATH:
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            else:
                self._answer(behaviour, json.loads(body), release)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): expected in the hang tests
        finally:
            record.finished_at = time.monotonic()

    def _answer(self, behaviour: Behaviour, request: dict[str, Any], release: threading.Event) -> None:
        if isinstance(behaviour, Hang):
            release.wait(behaviour.seconds)
            self._json(200, _completion(request, "too late", None))
        elif isinstance(behaviour, Fail):
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after is not None else {}
            error = {
                "error": {"message": behaviour.message, "type": "server_error", "code": behaviour.status}
            }
            self._json(behaviour.status, error, headers)
        elif request.get("stream"):
            self._stream(behaviour, request, release)
        else:
            self._json(200, _completion(request, behaviour.text, behaviour.usage))

    def _stream(self, reply: Reply, request: dict[str, Any], release: threading.Event) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        model = request.get("model", "fake")
        self._event(_chunk(model, {"role": "assistant", "content": ""}))
        if reply.tool_call:
            call = {
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": {"name": "approve_refund", "arguments": '{"order": "all"}'},
            }
            self._event(_chunk(model, {"tool_calls": [call]}))
        for number, piece in enumerate(_pieces(reply.text, reply.words_per_chunk), start=1):
            self._event(_chunk(model, {"content": piece}))
            if reply.hang_after_chunks is not None and number >= reply.hang_after_chunks:
                release.wait(reply.hang_s)
                return
            if reply.chunk_delay_s:
                time.sleep(reply.chunk_delay_s)
        if not reply.finish:
            return
        self._event(_chunk(model, {}, finish_reason="tool_calls" if reply.tool_call else "stop"))
        wants_usage = (request.get("stream_options") or {}).get("include_usage")
        if wants_usage and reply.usage is not None:
            self._event({**_chunk(model, {}), "choices": [], "usage": _usage(reply.usage)})
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _pieces(text: str, words_per_chunk: int) -> list[str]:
    words = text.split(" ")
    return [
        " ".join(words[i : i + words_per_chunk]) + (" " if i + words_per_chunk < len(words) else "")
        for i in range(0, len(words), words_per_chunk)
    ]


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_780_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _completion(request: dict[str, Any], text: str, usage: tuple[int, int] | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_780_000_000,
        "model": request.get("model", "fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    if usage is not None:
        payload["usage"] = _usage(usage)
    return payload


def _usage(usage: tuple[int, int]) -> dict[str, int]:
    prompt, completion = usage
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
