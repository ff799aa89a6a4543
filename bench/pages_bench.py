"""First render of every console page against a large database, under Streamlit's AppTest.

Each page is rendered in a new session with Streamlit's data caches cleared, so the figure is what the
first person to open it waits for (the one-time cost of importing the app is reported separately).
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PAGES = {
    "lookup": "pages/lookup.py",
    "overdue": "pages/overdue.py",
    "informational": "pages/informational.py",
    "sla": "pages/sla.py",
    "admin_users": "pages/admin_users.py",
    "audit": "pages/audit.py",
}
ROOT = Path(__file__).resolve().parents[1]


def bench_pages(db: Path, as_of: str, lookup_order: str | None = None) -> list[tuple[str, str, str]]:
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    from db.session import make_engine, session_scope
    from services import auth, settings
    from services.auth import sessions

    copy = db.with_name(db.stem + "-pages.db")
    shutil.copyfile(db, copy)
    os.environ["DATABASE_URL"] = f"sqlite:///{copy}"
    os.environ.pop("ORDER_RECON_CONFIG", None)
    os.environ.update(DEMO_MODE="true", COOKIE_KEY=secrets.token_urlsafe(48))
    os.environ.setdefault("AUDIT_KEY", secrets.token_urlsafe(48))
    for name in (
        "SHOPIFY_SHOP_URL",
        "SHIPBOB_API_URL",
        "EASYPOST_API_URL",
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
    ):
        os.environ.pop(name, None)
    settings.get_settings.cache_clear()
    auth.credentials.BCRYPT_ROUNDS = 4
    with session_scope(make_engine(os.environ["DATABASE_URL"])) as session:
        auth.ensure_demo_users(session, datetime.now(UTC), demo_mode=True)
        admin = auth.users.find_user(session, "admin")
        assert admin is not None
        token = sessions.start(session, admin, via="bench", now=datetime.now(UTC))
    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:  # run pages through Home.py
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]
    rows = []

    def render(page: str) -> float:
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120)
        at.secrets = {"placeholder": "1"}
        at.session_state["as_of"] = as_of
        at.session_state["auth.token"] = token
        if page == "lookup" and lookup_order:
            at.query_params["order"] = lookup_order
        start = time.perf_counter()
        at.run()
        if page != "lookup":
            at.switch_page(PAGES[page]).run()
        elapsed = time.perf_counter() - start
        if at.exception:
            raise RuntimeError(f"{page}: {at.exception[0].message}")
        return elapsed

    started = time.perf_counter()
    cold = render("lookup")  # pays the one-time imports and the engine
    rows.append(
        ("console: first page of a new server process", f"{cold:.2f} s", "imports, engine, migrations check")
    )
    from ui import warmup

    warmup.start().wait(120)  # as after a visitor's sign-in: the table and chart libraries are in
    rows.append(
        (
            "console: table and chart libraries loaded in the background",
            f"{time.perf_counter() - started:.2f} s after start",
            "while the first visitor signs in",
        )
    )
    for page in PAGES:
        seconds = render(page)
        rows.append((f"page first render at 100k orders: {page}", f"{seconds * 1000:.0f} ms", "goal < 1.5 s"))
    copy.unlink(missing_ok=True)
    return rows
