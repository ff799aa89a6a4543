"""The receiver served by uvicorn on a thread of the calling process (`make run`, the bench)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn
from sqlalchemy.engine import Engine

from checks.policy import SlaPolicy
from services.settings import Settings
from services.webhooks.app import create_app


class RunningReceiver:
    """A receiver listening on `base_url` (`http://host:port`), its deliveries at `base_url/webhooks/…`."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, sock: socket.socket) -> None:
        self._server, self._thread, self._sock = server, thread, sock
        host, port = sock.getsockname()[:2]
        self.port = int(port)
        self.base_url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> RunningReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_receiver(
    engine: Engine,
    settings: Settings,
    policy: SlaPolicy,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    **app: Any,
) -> RunningReceiver:
    """Start the receiver (and its applier) on a daemon thread; returns once it accepts connections.
    `port=0` takes a free one. Raises OSError when the port is taken, ConfigurationError for a missing
    secret. `app` goes to `create_app`."""
    application = create_app(engine, settings, policy, **app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    config = uvicorn.Config(application, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="webhook-receiver", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("the webhook receiver did not start")
        time.sleep(0.01)
    return RunningReceiver(server, thread, sock)
