"""A receiver killed with SIGKILL after storing an event and before applying it loses nothing: the next
`order-recon webhooks serve` applies it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from services.store import T_ORDER
from services.webhooks.events import T_EVENT
from tests.services.webhooks.support import SECRETS, body_of, free_socket, sample, shopify_headers

ROOT = Path(__file__).resolve().parents[3]
# A receiver that stores and never applies: the state of one killed between the two.
STORE_ONLY = """
import sys, uvicorn
from db.session import make_engine
from services.settings import Settings
from services.webhooks.app import create_app
settings = Settings()
app = create_app(make_engine(settings.database_url), settings, settings.policy(), apply=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _database_url(engine: Engine) -> str:
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.scalar(text("SELECT current_schema()"))
        url += f"?options={quote(f'-csearch_path={schema}')}"
    return url


def _free_port() -> int:
    sock = free_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def _start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(
                f"receiver did not start: {process.stderr.read().decode() if process.stderr else ''}"
            )
        time.sleep(0.1)


def test_an_event_stored_by_a_killed_receiver_is_applied_after_restart(engine: Engine) -> None:
    env = {**os.environ, "DATABASE_URL": _database_url(engine), **{k.upper(): v for k, v in SECRETS.items()}}
    port = _free_port()
    first = _start([sys.executable, "-c", STORE_ONLY, str(port)], env, port)
    try:
        body = body_of(sample("order"))
        reply = httpx.post(
            f"http://127.0.0.1:{port}/webhooks/shopify", content=body, headers=shopify_headers(body)
        )
        assert reply.status_code == 200 and reply.json()["stored"] is True
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    with engine.connect() as conn:
        assert conn.scalar(select(T_EVENT.c.status)) == "received"
        assert conn.scalar(select(T_ORDER.c.id)) is None

    port = _free_port()
    serve = [sys.executable, "-m", "services.cli", "webhooks", "serve", "--port", str(port)]
    second = _start(serve, env, port)
    try:
        deadline = time.monotonic() + 15
        while True:
            with engine.connect() as conn:
                status = conn.scalar(select(T_EVENT.c.status))
            if status != "received" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    assert status == "applied"
    with engine.connect() as conn:
        assert conn.scalar(select(T_ORDER.c.name)) == "#2001"


def test_serve_names_a_missing_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_WEBHOOK_SECRET")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
        SHOPIFY_WEBHOOK_SECRET="s",
        EASYPOST_WEBHOOK_SECRET="e",
    )
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "webhooks", "serve", "--port", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: SHIPBOB_WEBHOOK_SECRET is not set: the webhook receiver cannot verify shipbob's deliveries."
    ]
