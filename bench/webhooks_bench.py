"""Webhook to visible: from the POST to the order's new category being readable by the queue query.

    python -m bench.webhooks_bench [--quick] [--rate 50] [--seconds 60] [--orders 1000]

The receiver runs as `order-recon webhooks serve` in its own process on a fresh SQLite database, as it
would in production. This process seeds `--orders` store orders through it, then sends Shopify
`orders/updated` deliveries at `--rate` per second for `--seconds`: 80% a new version of an order (its
financial status flips between paid and refunded, so it enters and leaves the overdue queue),
10% a redelivery of an earlier event (same id), 10% an older version of an order sent after a newer one
(newest wins: it must change nothing). A watcher reads the classification table every 10 ms; an update
is visible when its order shows the new category. At the end every order must show its newest version's
category, and every stored event must be applied (0 lost). `--quick`: 10 s. `--with-sync`: meanwhile the
catch-up `order-recon sync` of a simulated store (2,000 orders, its own process) runs back to back into
the same database: its first run reads everything, the later ones what changed (a cron every 30 minutes
runs far less often; this is the worst case of overlap).

Just over 400 lines: the receiver process, the sender, the watcher and the catch-up syncs are one
measurement on one database, and each is short; apart, every reader would open four files to follow it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "fixtures" / "samples" / "small-store" / "shopify" / "orders.json"
ORDER_BASE = 7_100_000_000_000
LINE_BASE = 91_000_000_000
CATEGORY = {"paid": "open", "refunded": "refunded"}  # open and long due: in the overdue queue


def _sample_order() -> dict[str, Any]:
    shared = ROOT.parent.parent / "shared" / "samples" / "small-store" / "shopify" / "orders.json"
    path = shared if shared.is_file() else SAMPLE
    return json.loads(path.read_text())["orders"][0]


def _order(template: dict[str, Any], k: int, version: int) -> dict[str, Any]:
    """Order `k` at `version`: updated a minute later per version, paid on even versions, else refunded."""
    order = json.loads(json.dumps(template))
    order["id"] = ORDER_BASE + k
    order["name"] = f"#B{k}"
    order["number"] = order["order_number"] = 900_000 + k
    order["created_at"] = "2026-07-01T10:00:00-04:00"
    order["updated_at"] = f"2026-07-02T{version // 60 % 24:02d}:{version % 60:02d}:00-04:00"
    order["financial_status"] = "paid" if version % 2 == 0 else "refunded"
    for i, line in enumerate(order["line_items"]):
        line["id"] = LINE_BASE + k * 10 + i
    return order


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_receiver(url: str, secret: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SHOPIFY_WEBHOOK_SECRET": secret,
        "SHIPBOB_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        "EASYPOST_WEBHOOK_SECRET": secrets.token_urlsafe(24),
    }
    command = [sys.executable, "-m", "services.cli", "webhooks", "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the receiver did not start")


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds a running process has used (seed included), from /proc; None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Watcher:
    """Reads the stored categories every 10 ms; records when each awaited (order, category) shows."""

    def __init__(self, url: str) -> None:
        from db.session import make_engine

        self.engine = make_engine(url)
        self.awaited: dict[int, tuple[str, float]] = {}  # order id -> (category, POST start)
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def expect(self, order_id: int, category: str, started: float) -> None:
        with self.lock:
            self.awaited[order_id] = (category, started)

    def _run(self) -> None:
        from services.store import T_CLASS

        while not self.stop.wait(0.01):
            with self.lock:
                ids = list(self.awaited)
            if not ids:
                continue
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(T_CLASS.c.order_id, T_CLASS.c.base_category).where(T_CLASS.c.order_id.in_(ids))
                ).all()
            seen = time.perf_counter()
            with self.lock:
                for order_id, category in rows:
                    want = self.awaited.get(order_id)
                    if want is not None and want[0] == category:
                        self.latencies.append(seen - want[1])
                        del self.awaited[order_id]

    def categories(self) -> dict[int, str]:
        from services.store import T_CLASS

        with self.engine.connect() as conn:
            return dict(conn.execute(select(T_CLASS.c.order_id, T_CLASS.c.base_category)).all())


def _post(client: httpx.Client, secret: str, body: bytes, event_id: str) -> bool:
    from services.webhooks.signatures import sign_shopify

    headers = {
        "X-Shopify-Hmac-SHA256": sign_shopify(secret, body),
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Webhook-Id": event_id,
        "Content-Type": "application/json",
    }
    reply = client.post("/webhooks/shopify", content=body, headers=headers)
    reply.raise_for_status()
    return bool(reply.json()["stored"])


def _wait_applied(url: str, timeout: float) -> dict[str, int]:
    from db.session import make_engine
    from services.webhooks import event_counts

    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                counts = event_counts(conn)["shopify"]
            if not counts.get("received") or time.monotonic() > deadline:
                return counts
            time.sleep(0.05)
    finally:
        engine.dispose()


@contextmanager
def _database(base_url: str | None, folder: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in `folder`, or a schema of its own in `base_url` (PostgreSQL)."""
    if not base_url:
        yield f"sqlite:///{folder / 'webhooks.db'}"
        return
    from sqlalchemy import text

    from db.session import make_engine

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class CatchUp:
    """`order-recon sync` from a simulator into the bench's database, back to back, until stopped."""

    def __init__(self, url: str, sources: dict[str, str]) -> None:
        # The sync records its runs in the audit log, which needs a key outside demo mode.
        audit = {"AUDIT_KEY": os.environ.get("AUDIT_KEY") or secrets.token_urlsafe(48)}
        self.env = {**os.environ, **sources, **audit, "DATABASE_URL": url}
        self.last_error = ""
        self.runs: list[float] = []
        self.failed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        command = [sys.executable, "-m", "services.cli", "sync"]
        while not self.stop.is_set():
            started = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, check=False)
            self.runs.append(time.perf_counter() - started)
            if done.returncode != 0:
                self.failed += 1
                lines = done.stderr.decode(errors="replace").strip().splitlines()
                self.last_error = lines[-1] if lines else f"exit {done.returncode}"


def bench_webhooks(
    *,
    rate: float = 50,
    seconds: float = 60,
    orders: int = 1000,
    duplicates: float = 0.1,
    late: float = 0.1,
    with_sync: bool = False,
    database_url: str | None = None,
) -> dict[str, Any]:
    """The figures of one run (see the module's docstring); `database_url`: a PostgreSQL server to run
    on (in a schema of its own) instead of a SQLite file."""
    if not with_sync:
        return _bench(rate, seconds, orders, duplicates, late, None, database_url)
    from bench.sync_bench import simulator

    with simulator(2000) as info:
        sources = {k: v for k, v in info.items() if k.isupper()}
        return _bench(rate, seconds, orders, duplicates, late, sources, database_url)


def _bench(
    rate: float,
    seconds: float,
    orders: int,
    duplicates: float,
    late: float,
    sync_sources: dict[str, str] | None,
    database_url: str | None,
) -> dict[str, Any]:
    template = _sample_order()
    catch_up: CatchUp | None = None
    secret = secrets.token_urlsafe(32)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder, _database(database_url, Path(folder)) as db:
        process, base = _start_receiver(db, secret)
        try:
            with httpx.Client(base_url=base, timeout=10) as client:
                versions = dict.fromkeys(range(orders), 0)
                for k in range(orders):  # the seed: every order at version 0, not measured
                    _post(client, secret, json.dumps(_order(template, k, 0)).encode(), str(uuid.uuid4()))
                _wait_applied(db, timeout=120)
                watcher = Watcher(db)
                watcher.thread.start()
                if sync_sources is not None:
                    catch_up = CatchUp(db, sync_sources)
                    catch_up.thread.start()
                sent: list[tuple[str, bytes]] = []
                counts = {"new": 0, "duplicate": 0, "late": 0}
                replies: list[float] = []

                def post(body: bytes, event_id: str, t0: float) -> None:
                    _post(client, secret, body, event_id)
                    replies.append(time.perf_counter() - t0)

                total = int(rate * seconds)
                cursor = 0
                # Deliveries go out on their schedule whatever the replies take, as the vendors send them.
                with ThreadPoolExecutor(max_workers=16) as pool:
                    futures = []
                    started = time.perf_counter()
                    for n in range(total):
                        pause = started + n / rate - time.perf_counter()
                        if pause > 0:
                            time.sleep(pause)
                        roll = rng.random()
                        t0 = time.perf_counter()
                        if roll < duplicates and sent:
                            event_id, body = rng.choice(sent)
                            counts["duplicate"] += 1
                        elif roll < duplicates + late:
                            k = rng.randrange(orders)
                            older = max(0, versions[k] - 1)  # the version before (at 0: a stale copy)
                            body, event_id = (
                                json.dumps(_order(template, k, older)).encode(),
                                str(uuid.uuid4()),
                            )
                            counts["late"] += 1
                        else:
                            k = cursor % orders  # round robin: one update per order in flight
                            cursor += 1
                            versions[k] += 1
                            order = _order(template, k, versions[k])
                            body, event_id = json.dumps(order).encode(), str(uuid.uuid4())
                            watcher.expect(ORDER_BASE + k, CATEGORY[order["financial_status"]], t0)
                            sent.append((event_id, body))
                            counts["new"] += 1
                        futures.append(pool.submit(post, body, event_id, t0))
                    for future in futures:
                        future.result()
                elapsed = time.perf_counter() - started
                if catch_up is not None:
                    catch_up.stop.set()
                    catch_up.thread.join()
                final = _wait_applied(db, timeout=60)
                time.sleep(0.5)
                watcher.stop.set()
                watcher.thread.join()
                stored = watcher.categories()
                wrong = sum(
                    1
                    for k, version in versions.items()
                    if stored.get(ORDER_BASE + k) != CATEGORY["paid" if version % 2 == 0 else "refunded"]
                )
                watcher.engine.dispose()
                receiver_cpu = _cpu_seconds(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=10)
    latencies = sorted(watcher.latencies)
    return {
        "events": total,
        "seconds": elapsed,
        "rate": total / elapsed,
        "new": counts["new"],
        "duplicates": counts["duplicate"],
        "late": counts["late"],
        "visible": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
        "max_ms": 1000 * latencies[-1] if latencies else None,
        "reply_p95_ms": 1000 * sorted(replies)[int(0.95 * (len(replies) - 1))],
        "receiver_cpu_s": receiver_cpu,
        "load": os.getloadavg()[0],
        "lost": counts["new"] - len(latencies) + final.get("received", 0) + final.get("failed", 0),
        "wrong_final": wrong,
        "events_stored": sum(final.values()),
        "syncs": len(catch_up.runs) if catch_up else 0,
        "sync_failed": catch_up.failed if catch_up else 0,
        "sync_s": statistics.median(catch_up.runs) if catch_up and catch_up.runs else None,
        "sync_error": catch_up.last_error if catch_up else "",
    }


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    sync = (
        f", with {result['syncs']} catch-up syncs of 2,000 orders back to back ({result['sync_failed']} failed)"
        if result.get("syncs")
        else ""
    )
    return [
        (
            f"webhook to visible, {result['rate']:.0f} events/s for {result['seconds']:.0f} s "
            f"({result['duplicates']} duplicates, {result['late']} out of order{sync})",
            f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, max {result['max_ms']:.0f} ms",
            f"goal p95 < 1000 ms; reply p95 {result['reply_p95_ms']:.0f} ms; lost {result['lost']}; "
            f"wrong at the end {result['wrong_final']}; receiver CPU {result['receiver_cpu_s'] or 0:.0f} s; "
            f"load average {result['load']:.1f}",
        )
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks_bench")
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--with-sync", action="store_true", help="with a catch-up sync running meanwhile")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (default: a SQLite file)")
    args = parser.parse_args(argv)
    result = bench_webhooks(
        rate=args.rate,
        seconds=10 if args.quick else args.seconds,
        orders=args.orders,
        with_sync=args.with_sync,
        database_url=args.database_url,
    )
    result["database"] = "postgresql" if args.database_url else "sqlite"
    print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()}))
    for label, figure, note in rows(result):
        print(f"{label}: {figure} ({note})")


if __name__ == "__main__":
    main()
