"""The console's goals: search per kind of key, bulk refresh against slow sources, and every page's first
render as a user sees it in Chromium.

- search: `services.lookup.search.search_orders` on the imported database, for each kind of key (goal < 300 ms);
- bulk refresh: 100 orders from a simulator whose every request takes 200 ms (goal < 10 s);
- pages: a real `streamlit run` of the console on a copy of the database, Debian's Chromium driven by
  Playwright; per page, from navigation to the page drawn, Streamlit idle, no element still loading
  its code and the browser's next painted frame (goal < 1.5 s).
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PAGE_HEADINGS = {
    "lookup": "Order lookup",
    "overdue": "Overdue queue",
    "informational": "Informational view",
    "sla": "SLA metrics",
    "admin_users": "Users",
    "audit": "Audit log",
}
LINKS = {
    "overdue": "Overdue queue",
    "informational": "Informational",
    "sla": "SLA metrics",
    "admin_users": "Users",
    "audit": "Audit log",
}
Row = tuple[str, str, str]
# Drawn as a person sees it: no placeholder left of an element whose code the browser is still loading
# (a chart library), then two animation frames: laid out and painted, any long task ended.
LOADED = "() => !document.querySelector(\"[data-testid='stSkeleton']\")"
PAINTED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _timed(fn: Any, repeat: int = 5) -> tuple[float, float]:
    fn()  # warms the file cache
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def search_keys(db: Path) -> dict[str, str]:
    """One real value per kind of key, read from the database."""
    from sqlalchemy import select

    from db.session import make_engine
    from services.store import T_CODES, T_ORDER, T_WAREHOUSE

    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        order = conn.execute(
            select(T_ORDER.c.id, T_ORDER.c.name, T_ORDER.c.customer_name, T_ORDER.c.email)
            .where(T_ORDER.c.customer_name.is_not(None), T_ORDER.c.email.is_not(None))
            .order_by(T_ORDER.c.id.desc())
            .limit(1)
        ).one()
        tracking = conn.scalar(select(T_CODES.c.tracking_number).limit(1))
        warehouse = conn.scalar(select(T_WAREHOUSE.c.id).limit(1))
        replacement = conn.scalar(
            select(T_WAREHOUSE.c.order_number).where(T_WAREHOUSE.c.replacement_of.is_not(None))
        )
    engine.dispose()
    keys = {
        "order number": order.name.lstrip("#"),
        "customer name": order.customer_name.lower(),
        "part of an email": order.email.split("@")[0][1:7],
        "tracking number, lower case": (tracking or "").lower(),
        "ShipBob order id": str(warehouse),
        "replacement reference": replacement or f"{order.name.lstrip('#')}-R1",
    }
    return {k: v for k, v in keys.items() if v}


def search_rows(db: Path, orders: int) -> list[Row]:
    from db.session import make_engine
    from services.lookup.search import search_orders

    keys = search_keys(db)
    engine = make_engine(f"sqlite:///{db}")
    rows = []
    with engine.connect() as conn:
        for kind, value in keys.items():
            median, worst = _timed(lambda v=value: search_orders(conn, v))
            hits = len(search_orders(conn, value))
            rows.append(
                (
                    f"search at {orders:,} orders: {kind}",
                    f"median {median:.1f} ms",
                    f"max {worst:.1f} ms, {hits} hit(s) (goal < 300 ms)",
                )
            )
    engine.dispose()
    return rows


def bulk_rows(count: int = 100, latency_ms: float = 200.0) -> list[Row]:
    """Bulk refresh of `count` orders from a simulator answering every request after `latency_ms`."""
    from sqlalchemy import select

    from db.migrate import upgrade
    from db.session import make_engine
    from sandbox.server import start_in_thread
    from services.bulk_refresh import DEFAULT_CONCURRENCY, bulk_refresh
    from services.settings import Settings
    from services.store import T_CLASS
    from services.sync import sync_all

    folder = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    url = f"sqlite:///{folder / 'bulk.db'}"
    # The simulator's store has a standard shop's query-cost bucket (2,000 points, restoring 100 a
    # second): the refresh is measured within the store's rate limit, as a merchant's would run.
    with start_in_thread(orders=count * 3, seed=5) as sim:
        settings = Settings(database_url=url, **{k.lower(): v for k, v in sim.settings().items()})
        engine = make_engine(url)
        upgrade(engine)
        sync_all(engine, settings, settings.policy(), now=datetime.now(UTC))
        with engine.connect() as conn:
            names = list(
                conn.scalars(select(T_CLASS.c.order_name).order_by(T_CLASS.c.order_id.desc()).limit(count))
            )
        _faults(sim.base_url, latency_ms)
        start = time.perf_counter()
        outcome = bulk_refresh(engine, settings, settings.policy(), names, now=datetime.now(UTC))
        seconds = time.perf_counter() - start
        engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return [
        (
            f"bulk refresh of {len(names)} orders, {latency_ms:.0f} ms per source request",
            f"{seconds:.1f} s",
            f"{len(outcome.failed)} failed, {DEFAULT_CONCURRENCY} at a time (goal < 10 s)",
        )
    ]


def _faults(base_url: str, latency_ms: float) -> None:
    """Every API request of the running simulator answers after `latency_ms` (its `/_sim/faults` route)."""
    import httpx

    httpx.post(f"{base_url}/_sim/faults", json={"latency_ms": latency_ms}, timeout=10).raise_for_status()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def browser_rows(db: Path, orders: int, lookup_order: str | None) -> list[Row]:
    """First render of every page in Chromium against a copy of `db`, signed in as an admin."""
    from playwright.sync_api import sync_playwright

    from db.session import make_engine, session_scope
    from services import audit_key, auth
    from services.demo import render_secrets

    if not Path(CHROMIUM).exists():
        return [("pages in Chromium", "not measured", f"{CHROMIUM} is missing (make browser)")]
    work = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    copy = work / "console.db"
    shutil.copyfile(db, copy)
    (work / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", work / ".streamlit" / "config.toml")
    engine = make_engine(f"sqlite:///{copy}")
    audit_key.use_key(audit_key.DEMO_KEY)  # the demo server's key: its audit chain stays intact
    try:
        with session_scope(engine) as session:
            passwords = auth.ensure_demo_users(session, datetime.now(UTC), demo_mode=True)
    finally:
        audit_key.use_key(None)
    engine.dispose()
    secrets = work / ".streamlit" / "secrets.toml"
    secrets.write_text(render_secrets({"cookie_key": "b" * 48, "demo_mode": True, "demo_users": passwords}))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("SHOPIFY_", "SHIPBOB_", "EASYPOST_", "OPENAI_"))
    }
    env |= {"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{copy}", "DEMO_MODE": "true"}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (work / "streamlit.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "Home.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--secrets.files",
            str(secrets),
        ],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    rows: list[Row] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        idle = "() => document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'notRunning'"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"]
            )
            page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
            page.set_default_timeout(120_000)
            page.goto(base)
            page.get_by_role("textbox", name="Username").wait_for()
            page.wait_for_timeout(1500)
            page.get_by_role("textbox", name="Username").fill("admin")
            page.get_by_role("textbox", name="Password").fill(passwords["admin"])
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Order lookup").wait_for()
            page.wait_for_function(idle)
            page.wait_for_timeout(3000)  # the background imports finish, as while a person reads the page
            # As a person moves around: each page's first render in the session, from a click on its link.
            for name, heading in PAGE_HEADINGS.items():
                if name == "lookup":
                    continue
                start, cpu = time.perf_counter(), _cpu_seconds(server.pid)
                page.get_by_role("link", name=LINKS[name]).click()
                page.get_by_role("heading", name=heading).wait_for()
                page.wait_for_timeout(50)
                page.wait_for_function(idle)
                page.wait_for_function(LOADED)
                page.evaluate(PAINTED)
                rows.append(
                    (
                        f"page first render in Chromium at {orders:,} orders: {name} (menu link)",
                        f"{time.perf_counter() - start:.2f} s",
                        f"server CPU {_cpu_seconds(server.pid) - cpu:.2f} s (goal < 1.5 s)",
                    )
                )
            # A link opened in a new tab: a new session, which signs in from its cookie first.
            query = f"?order=%23{lookup_order.lstrip('#')}" if lookup_order else ""
            start, cpu = time.perf_counter(), _cpu_seconds(server.pid)
            page.goto(f"{base}/lookup{query}")
            page.get_by_role("heading", name="Order lookup").wait_for()
            page.wait_for_timeout(50)
            page.wait_for_function(idle)
            page.wait_for_function(LOADED)
            page.evaluate(PAINTED)
            rows.append(
                (
                    f"page first render in Chromium at {orders:,} orders: lookup (link in a new tab)",
                    f"{time.perf_counter() - start:.2f} s",
                    f"server CPU {_cpu_seconds(server.pid) - cpu:.2f} s (goal < 1.5 s)",
                )
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    return rows
