"""`order-recon sync` through `services.cli.main`, with `services.cli.sync.register` as an extension."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from db import session
from db.migrate import upgrade
from db.session import make_engine
from services import cli
from services.errors import DatabaseError
from services.locks import named_lock
from services.sync import lock_name, sync_source, write_lock
from tests.services.sources.simulator import Sim, simulator

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Sim]:
    with simulator(orders=200) as running:
        for name, value in running.running.settings().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
        yield running


def test_sync_one_source_then_all_then_one_order(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sync", "--source", "shipbob"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("shipbob   ok     full: ") and "data as of" in out
    assert "shipbob: 1 page(s)" in err  # progress, page by page

    assert cli.main(["sync"]) == 0
    out, _ = capsys.readouterr()
    assert [line.split()[:3] for line in out.splitlines() if not line.startswith(" ")] == [
        ["shipbob", "ok", "incremental:"],
        ["easypost", "ok", "full:"],
        ["shopify", "ok", "full:"],
    ]

    assert cli.main(["sync", "--order", "2005"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("#2005: refreshed in ")
    assert [line.split()[:2] for line in out.splitlines()[1:4]] == [
        ["store", "ok"],
        ["3pl", "ok"],
        ["carrier", "ok"],
    ]


def test_a_failing_source_exits_1_and_says_why(
    sim: Sim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "wrong")
    assert cli.main(["sync", "--source", "shopify"]) == 1
    out, _ = capsys.readouterr()
    assert "shopify   FAILED" in out and "check SHOPIFY_ACCESS_TOKEN" in out


def test_bad_input_exits_2(sim: Sim, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sync", "--order", "2005", "--full"]) == 2
    assert "--full does not apply to --order" in capsys.readouterr().err
    assert cli.main(["sync", "--source", "fedex"]) == 2


def test_a_source_another_sync_is_running_exits_0_and_says_so(
    sim: Sim, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(os.environ["DATABASE_URL"])
    upgrade(engine)
    with named_lock(engine, lock_name("shipbob")):  # a cron or console sync of the 3PL
        assert cli.main(["sync", "--source", "shipbob"]) == 0
        out, _ = capsys.readouterr()
        assert out.strip() == "another sync of shipbob is running; nothing to do"
        assert cli.main(["sync"]) == 0  # the others run; the busy one is skipped
        out, _ = capsys.readouterr()
        assert "another sync of shipbob is running; nothing to do" in out
        assert "easypost  ok" in out and "shopify   ok" in out
    engine.dispose()


def test_a_locked_database_exits_1_with_one_line(
    sim: Sim, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(os.environ["DATABASE_URL"])
    upgrade(engine)
    monkeypatch.setattr(session, "LOCK_TIMEOUT_S", 1)
    with engine.connect() as other:
        other.begin()
        write_lock(other)  # another writer holding the database
        assert cli.main(["sync", "--source", "shipbob"]) == 1
        _, err = capsys.readouterr()
        other.rollback()
    assert err.startswith("error: database: the database is locked") and len(err.strip().splitlines()) == 1
    engine.dispose()


def test_a_sync_on_a_locked_database_raises_a_worded_database_error(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the console shows (`st.error`) rather than its error page."""
    monkeypatch.setattr(session, "LOCK_TIMEOUT_S", 1)
    engine = make_engine(os.environ["DATABASE_URL"])
    upgrade(engine)
    settings = sim.settings()
    with engine.connect() as other:
        other.begin()
        write_lock(other)
        with pytest.raises(DatabaseError, match=r"^database: the database is locked"):
            sync_source(engine, settings, settings.policy(), "shipbob", full=True)
        other.rollback()
    assert sync_source(engine, settings, settings.policy(), "shipbob").ok  # and it resumes afterwards
    engine.dispose()
