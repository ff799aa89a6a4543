"""The console under AppTest: a database imported from the small-store sample, one user per role.

Each test gets the settings from the environment only (the developer's `.streamlit/secrets.toml` and
database are never read), and signs in with a real server-side session (`auth.token` in session state),
checked against the database on every run as for everyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from db.migrate import upgrade
from db.models.auth import AppUser
from db.session import make_engine, session_scope
from services import auth, settings
from services.auth import sessions
from services.policy_change import ensure_policy
from services.snapshot import import_snapshot
from tests.conftest import SMALL_STORE

ROOT = Path(__file__).resolve().parents[2]
HOME = str(ROOT / "Home.py")
AS_OF = "2026-07-06T14:00:00+00:00"  # the sample's as_of (expected.json)
SIMULATED_ORDERS = 150
PAGES = {
    "lookup": ("pages/lookup.py", "Order lookup"),
    "overdue": ("pages/overdue.py", "Overdue queue"),
    "informational": ("pages/informational.py", "Informational view"),
    "sla": ("pages/sla.py", "SLA metrics"),
    "admin_users": ("pages/admin_users.py", "Users"),
    "audit": ("pages/audit.py", "Audit log"),
    "alert_settings": ("pages/alert_settings.py", "Alerts"),
}
ALLOWED = {
    "agent": {"lookup", "overdue", "informational", "alert_settings"},
    "ops": {"lookup", "overdue", "informational", "sla", "alert_settings"},
    "lead": {"lookup", "overdue", "informational", "sla", "alert_settings"},
    "admin": set(PAGES),
}


@dataclass(frozen=True)
class Console:
    url: str
    engine: Engine
    passwords: dict[str, str]


@pytest.fixture(scope="session")
def console_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """One imported sample database for the read-mostly tests of this session."""
    yield from _console(tmp_path_factory.mktemp("console"))


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[Console]:
    """A database of its own, for tests that change users or claims."""
    yield from _console(tmp_path)


def _console(folder: Path) -> Iterator[Console]:
    url = f"sqlite:///{folder / 'console.db'}"
    engine = make_engine(url)
    upgrade(engine)
    policy = settings.Settings(order_recon_config=SMALL_STORE / "sla.toml").policy()
    with engine.begin() as conn:  # as `order-recon import` does: the console serves this policy only
        ensure_policy(conn, policy, datetime.now(UTC))
    import_snapshot(SMALL_STORE, engine=engine, policy=policy, now=datetime(2026, 7, 6, 14, tzinfo=UTC))
    rounds = auth.credentials.BCRYPT_ROUNDS
    auth.credentials.BCRYPT_ROUNDS = 4
    try:
        with session_scope(engine) as session:
            passwords = auth.ensure_demo_users(session, datetime.now(UTC), demo_mode=True)
            # Ordinary users here: the console runs outside demo mode in these tests.
            session.execute(update(AppUser).values(is_demo=False))
    finally:
        auth.credentials.BCRYPT_ROUNDS = rounds
    yield Console(url, engine, passwords)
    engine.dispose()


@pytest.fixture
def console_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Point the app's settings at a console database (no secrets file is read: tests/conftest.py)."""

    def apply(console: Console, sources: dict[str, str] | None = None, **extra: str) -> None:
        for name in (
            "SHOPIFY_SHOP_URL",
            "SHOPIFY_ACCESS_TOKEN",
            "SHIPBOB_API_URL",
            "SHIPBOB_TOKEN",
            "EASYPOST_API_URL",
            "EASYPOST_API_KEY",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
        ):
            monkeypatch.delenv(name, raising=False)
        values = {
            "DATABASE_URL": console.url,
            "DEMO_MODE": "false",
            "COOKIE_KEY": TEST_COOKIE_KEY,
            **(sources or {}),
            **extra,
        }
        if sources is None:  # the sample's own policy; a simulated store uses the packaged one
            values["ORDER_RECON_CONFIG"] = str(SMALL_STORE / "sla.toml")
        else:
            monkeypatch.delenv("ORDER_RECON_CONFIG", raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        settings.get_settings.cache_clear()

    yield apply
    settings.get_settings.cache_clear()


TEST_COOKIE_KEY = "pG7v2LqX9sWz4mNc8RbT1yHd6KfJ3uAe5oVi0QxZ"


def session_token(username: str) -> str:
    """A real server-side session for `username` in the console database the settings point at."""
    engine = make_engine(settings.get_settings().database_url)
    try:
        with session_scope(engine) as session:
            user = auth.users.find_user(session, username)
            assert user is not None, username
            return sessions.start(session, user, via="test", now=datetime.now(UTC))
    finally:
        engine.dispose()


def app(
    role: str | None,
    page: str | None = None,
    *,
    secrets: dict | None = None,
    as_of: str | None = AS_OF,
    state: dict | None = None,
    run: bool = True,
) -> AppTest:
    """An AppTest of Home.py, run once signed in as the demo user `role` (None: signed out), then on `page`.

    A page that the role's navigation does not hold cannot be switched to (AppTest raises ValueError).
    """
    at = AppTest.from_file(HOME, default_timeout=30)
    at.secrets = secrets or {"placeholder": "1"}
    if as_of is not None:
        at.session_state["as_of"] = as_of
    for key, value in (state or {}).items():
        at.session_state[key] = value
    if role is not None:
        at.session_state["auth.token"] = session_token(role)
    if not run:
        return at
    at.run()
    if page is not None:
        at.switch_page(PAGES[page][0]).run()
    return at


class _PageTable(HTMLParser):
    """The headers, cell texts and links of a page's table (`ui.tables.page_table`)."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and self.headers:
            self.rows.append([])
        if tag in ("th", "td"):
            self._cell = []
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            text = "".join(self._cell)
            (self.headers if tag == "th" else self.rows[-1]).append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page_table(at: AppTest, index: int = 0) -> _PageTable:
    tables = [h for h in at.get("html") if "order-recon-page-table" in h.proto.body]
    parsed = _PageTable()
    parsed.feed(tables[index].proto.body)
    return parsed


def column(at: AppTest, name: str, index: int = 0) -> list[str]:
    """A column of a page's table as a person reads it (an order link as its order name)."""
    table = page_table(at, index)
    position = table.headers.index(name)
    return [row[position] for row in table.rows]


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


@pytest.fixture(scope="session")
def simulated_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Console, dict[str, str]]]:
    """A database synced from a real simulator (kept running for refreshes), and its six settings."""
    from sandbox.server import start_in_thread
    from services.sync import sync_all

    folder = tmp_path_factory.mktemp("simulated")
    url = f"sqlite:///{folder / 'console.db'}"
    with start_in_thread(orders=SIMULATED_ORDERS, seed=11) as simulator:
        sources = simulator.settings()
        engine = make_engine(url)
        upgrade(engine)
        current = settings.Settings(database_url=url, **{k.lower(): v for k, v in sources.items()})
        with engine.begin() as conn:
            ensure_policy(conn, current.policy(), datetime.now(UTC))
        sync_all(engine, current, current.policy(), now=datetime.now(UTC))
        rounds, auth.credentials.BCRYPT_ROUNDS = auth.credentials.BCRYPT_ROUNDS, 4
        try:
            with session_scope(engine) as session:
                passwords = auth.ensure_demo_users(session, datetime.now(UTC), demo_mode=True)
                session.execute(update(AppUser).values(is_demo=False))  # ordinary users here
        finally:
            auth.credentials.BCRYPT_ROUNDS = rounds
        yield Console(url, engine, passwords), sources
        engine.dispose()


@pytest.fixture(autouse=True)
def navigation_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every AppTest run through Home.py, as a running server does.

    A server starts in `pages/`-directory mode and leaves it for good at the first `st.navigation` call;
    AppTest resets that mode before every run, which would run a page script on its own, without Home.py.
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
