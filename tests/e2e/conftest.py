"""A real console in a real browser: `streamlit run Home.py` on a free port, Debian's headless Chromium.

The server runs in a temporary working directory with its own `.streamlit/` (the repo's config.toml, a
test secrets.toml) and its own SQLite database, so the developer's secrets and database are never touched.
Data comes from the simulator (`sandbox.server.start_in_thread`) synced into that database when the
simulator is there, else from the small-store sample snapshot.
"""

from __future__ import annotations

import os
import secrets as random_keys
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from db.migrate import upgrade
from db.session import make_engine, session_scope
from services import auth, queue
from services.demo import render_secrets
from tests.conftest import SMALL_STORE
from ui.auth import COOKIE_NAME

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SANDBOX_ORDERS = 400


@dataclass
class Console:
    base_url: str
    passwords: dict[str, str]
    live_sources: bool  # True when the simulator serves the three APIs (refresh works)
    sample_order: str
    log: Path
    database_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_simulator() -> tuple[Any, dict[str, str]] | None:
    try:
        from sandbox.server import start_in_thread
        from services.sync import sync_all  # noqa: F401  (without it the console cannot read the simulator)
    except ImportError:
        return None
    handle = start_in_thread(port=free_port(), orders=SANDBOX_ORDERS, seed=7)
    return handle, {k.lower(): v for k, v in handle.settings().items()}


def _fill_database(url: str, sources: dict[str, str] | None, work: Path) -> dict[str, str]:
    from services.policy_change import ensure_policy
    from services.settings import Settings

    engine = make_engine(url)
    try:
        upgrade(engine)
        now = datetime.now(UTC)
        settings = Settings(database_url=url, **(sources or {"order_recon_config": SMALL_STORE / "sla.toml"}))
        with engine.begin() as conn:  # as `make run` does at start-up: the console serves this policy only
            ensure_policy(conn, settings.policy(), now)
        if sources:
            from services import sync

            sync.sync_all(engine, settings, settings.policy(), now=now)
        else:
            from services.snapshot import import_snapshot

            import_snapshot(SMALL_STORE, engine=engine, policy=settings.policy(), now=now)
        with session_scope(engine) as session:
            return auth.ensure_demo_users(session, now, demo_mode=True)
    finally:
        engine.dispose()


def _first_overdue(url: str, policy_path: Path | None) -> str:
    from services.settings import Settings

    engine = make_engine(url)
    policy = Settings(order_recon_config=policy_path).policy()
    with engine.connect() as conn:
        rows = queue.overdue_queue(conn, as_of=datetime.now(UTC), policy=policy, limit=1)
    engine.dispose()
    return rows[0].order if rows else "#1001"


def _wait_healthy(base_url: str, process: subprocess.Popen[Any], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not become healthy in {timeout_s} s:\n{log.read_text()[-3000:]}")


@contextmanager
def serve(
    work: Path, *, live: bool, more_secrets: Callable[[str], Mapping[str, Any]] | None = None
) -> Iterator[Console]:
    """A console server in `work` (its own config, secrets and database), on a free loopback port.

    `live`: data synced from a running simulator (refresh works); otherwise the small-store sample.
    `more_secrets(base_url)`: secrets added to the console's own (e.g. a sign-in provider's `[auth]`).
    """
    (work / ".streamlit").mkdir()
    shutil.copy(ROOT / ".streamlit" / "config.toml", work / ".streamlit" / "config.toml")
    url = f"sqlite:///{work / 'console.db'}"
    simulator = _start_simulator() if live else None
    sources = simulator[1] if simulator else None
    policy_path = None if sources else SMALL_STORE / "sla.toml"
    passwords = _fill_database(url, sources, work)
    secrets: dict[str, Any] = {
        "cookie_key": random_keys.token_urlsafe(48),
        "demo_mode": True,
        **(sources or {}),
        "demo_users": passwords,
    }
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    if more_secrets is not None:
        secrets |= more_secrets(base_url)
    (work / ".streamlit" / "secrets.toml").write_text(render_secrets(secrets))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("SHOPIFY_", "SHIPBOB_", "EASYPOST_", "OPENAI_"))
    }
    env |= {"PYTHONPATH": str(ROOT), "DATABASE_URL": url, "DEMO_MODE": "true"}
    if policy_path:
        env["ORDER_RECON_CONFIG"] = str(policy_path)
    log = work / "streamlit.log"
    command = [
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
        "--client.showErrorDetails",
        "full",
        # Only this console's secrets: Streamlit would also read the checkout's (beside Home.py).
        "--secrets.files",
        str(work / ".streamlit" / "secrets.toml"),
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(base_url, process, log)
        yield Console(base_url, passwords, bool(sources), _first_overdue(url, policy_path), log, url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if simulator is not None:
            simulator[0].stop()


# Package scope: torn down as the last browser test ends, so Playwright's event loop stops with it and
# later tests on the same worker (tests/scheduling.py runs this folder first) never see it running.
@pytest.fixture(scope="package")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    with serve(tmp_path_factory.mktemp("e2e-console"), live=True) as running:
        yield running


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


def wait_idle(page: Any) -> None:
    """Until Streamlit has finished the current run (no running indicator)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'notRunning'",
        timeout=30_000,
    )
    page.wait_for_timeout(500)  # charts and grids draw after the run ends


def sign_in(page: Any, console: Console, username: str) -> None:
    """Sign in through the form (filled once more if it comes back empty on a loaded machine)."""
    page.goto(console.base_url)
    wait_idle(page)
    heading = page.get_by_role("heading", name="Order lookup")
    username_box = page.get_by_role("textbox", name="Username")
    # A cookie of an ended session stays in the browser until the sign-in replaces it.
    before = _cookie_value(page)
    submitted = False
    for attempt in range(3):
        # On a loaded machine the previous submit may land late: only fill the form if it is still there.
        heading.or_(username_box).first.wait_for(timeout=30_000)
        if heading.is_visible():
            break
        submitted = True
        username_box.fill(username)
        page.get_by_role("textbox", name="Password").fill(console.passwords[username])
        page.get_by_role("button", name="Sign in").click()
        try:
            heading.wait_for(timeout=15_000)
            break
        except Exception:
            shoot(page, f"failed-sign-in-{attempt}")
            if attempt == 2:
                raise
    wait_idle(page)
    # The session cookie is written by a component in a run after the sign-in's own: a test that opens
    # an address next (a new session, resumed from that cookie) waits for it, as a person's click would.
    page.wait_for_function(
        """([name, before]) => document.cookie.split('; ').some(
               c => c.startsWith(name + '=') && c !== name + '=' + before)""",
        arg=[COOKIE_NAME, before if submitted else ""],
        timeout=30_000,
    )


def _cookie_value(page: Any) -> str:
    return next((c["value"] for c in page.context.cookies() if c["name"] == COOKIE_NAME), "")


def shoot(page: Any, name: str, folder: Path = SCREENSHOTS) -> Path:
    """The whole page: Streamlit scrolls inside its main section, so the viewport grows to fit it first."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0")
    page.set_viewport_size(
        {"width": size["width"], "height": max(size["height"], min(int(height) + 40, 6000))}
    )
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
