"""The sync engine against the simulator, on SQLite and PostgreSQL: full, incremental, re-scan,
resuming after a failure, auth failures and the per-source lock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from db.migrate import upgrade
from db.session import make_engine
from sandbox.shopify_graphql import listing
from services import sync
from services.errors import ConflictError
from services.sources.shopify.client import search_since
from services.store import T_CLASS, T_ORDER, T_TRACKER, T_WAREHOUSE
from services.sync import SyncOptions, SyncProgress, freshness, recent_runs, sync_all, sync_source
from services.sync.runs import T_RUN
from tests.services.sources.simulator import Sim, canonical_dump, simulator

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("clean_sim")]
# One simulator whose clock never moves: every test may compare with one reference sync.
SIM = {"orders": 400}
NO_RESCAN = SyncOptions(rescan_every=10**6, rescan_after=timedelta(days=3650), backoff_s=0.01)


@pytest.fixture(scope="module")
def reference(sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[object, ...]]]:
    """What a fault-free full sync of the still simulator stores."""
    engine = _fresh_engine(tmp_path_factory.mktemp("reference"), "reference.db")
    _full(engine, sim, sim.now())
    dump = canonical_dump(engine)
    engine.dispose()
    return dump


def _fresh_engine(tmp_path: Path, name: str) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / name}")
    upgrade(engine)
    return engine


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def _full(engine: Engine, sim: Sim, now: datetime, options: SyncOptions | None = None) -> None:
    settings = sim.settings()
    for result in sync_all(engine, settings, settings.policy(), full=True, now=now, options=options).values():
        assert result.ok, result.error


def test_full_sync_stores_every_source_and_records_its_runs(engine: Engine, sim: Sim) -> None:
    settings, now = sim.settings(), sim.now()
    seen: list[SyncProgress] = []
    results = sync_all(engine, settings, settings.policy(), now=now, progress=seen.append)
    assert list(results) == ["shipbob", "easypost", "shopify"]  # the 3PL and carrier first
    assert all(r.ok and r.mode == "full" and r.watermark == now for r in results.values()), results
    counts = sim.http.get("/_sim/state").json()["counts"]
    assert _count(engine, T_ORDER) == counts["store_orders"] == results["shopify"].records
    assert _count(engine, T_WAREHOUSE) == counts["threepl_orders"]
    assert _count(engine, T_TRACKER) == counts["trackers"] == results["easypost"].records
    assert _count(engine, T_CLASS) == counts["store_orders"]
    assert seen and seen[-1].source == "shopify" and seen[-1].records == counts["store_orders"]
    with engine.connect() as conn:
        assert freshness(conn) == {"shopify": now, "shipbob": now, "easypost": now}
        history = recent_runs(conn, 10)
    assert [(r.source, r.mode, r.status) for r in history] == [
        ("shopify", "full", "ok"),
        ("easypost", "full", "ok"),
        ("shipbob", "full", "ok"),
    ]
    assert history[0].pages == results["shopify"].pages and history[0].records == counts["store_orders"]
    # The full pass is one bulk operation, its result read in one download; holds came with the orders.
    runs = sim.running.sim.shop_state.bulk
    assert runs and runs[max(runs)].status() == "COMPLETED"
    assert 2 <= len(sim.calls("POST /shopify/admin/api/2026-10/graphql.json")) <= 5  # run and a few polls


def test_incremental_sync_reads_only_what_changed_and_the_rescan_catches_the_store_quirk(
    engine: Engine, tmp_path: Path
) -> None:
    with simulator(orders=600) as sim:  # its clock moves: not the shared one
        world, settings, start = sim.running.world, sim.settings(), sim.now()
        quirky = [
            i
            for i in range(world.n)
            if world.row(i).quirk
            and world.row(i).t0 <= start.timestamp() < world.row(i).t_ful1 <= start.timestamp() + 86400
        ]
        assert quirky, "the seeded store has an order whose fulfillment does not move updated_at"
        name = f"#{2001 + quirky[0]}"
        _full(engine, sim, start)
        later = sim.advance(86400)
        sim.reset_requests()

        results = sync_all(engine, settings, settings.policy(), now=later, options=NO_RESCAN)
        assert all(r.ok and r.mode == "incremental" and r.rescan_from is None for r in results.values())
        since = start - timedelta(minutes=10)
        assert len(sim.running.sim.shop_state.bulk) == 1  # incremental: pages, no second bulk operation
        changed = len(listing(sim.running.sim, int(later.timestamp()), search_since(since), True)[0])
        assert 0 < results["shopify"].records == changed < 600  # the changes, and only them
        assert 0 < results["shipbob"].records < 600
        with engine.connect() as conn:  # updated_at_min never returns the quirk order's fulfillment
            assert conn.scalar(select(T_ORDER.c.fulfillment_status).where(T_ORDER.c.name == name)) is None
            assert freshness(conn)["shopify"] == later

        rescan_at = later + timedelta(minutes=5)
        caught = sync_source(
            engine, settings, settings.policy(), "shopify", now=rescan_at, options=SyncOptions(rescan_days=60)
        )  # the last re-scan (the full) is > 1 h old
        assert caught.ok and caught.rescan_from == rescan_at - timedelta(days=60)
        with engine.connect() as conn:
            assert (
                conn.scalar(select(T_ORDER.c.fulfillment_status).where(T_ORDER.c.name == name)) == "fulfilled"
            )
            assert (
                conn.scalar(select(T_CLASS.c.base_category).where(T_CLASS.c.order_name == name))
                == "fulfilled"
            )

        # Now it holds what a fresh full sync holds (holds aside: "not asked" vs "asked, none").
        reference = _fresh_engine(tmp_path, "reference.db")
        _full(reference, sim, later)
        no_hold = frozenset({"on_hold"})
        assert canonical_dump(engine, skip=no_hold) == canonical_dump(reference, skip=no_hold)


def test_a_failed_run_keeps_its_pages_and_the_next_run_resumes(
    engine: Engine, sim: Sim, reference: dict[str, list[tuple[object, ...]]]
) -> None:
    settings, now = sim.settings(source_timeout_s=2.0), sim.now()
    # Small pages: the failure lands mid-pass even though pages are fetched a little ahead. The store's
    # full pass is paged here (not one bulk operation) to show that a cut-short pass resumes.
    small = SyncOptions(
        store_page=25, warehouse_page=100, tracker_page=50, backoff_s=0.01, max_attempts=3, store_bulk=False
    )
    for source in ("shipbob", "easypost"):
        assert sync_source(engine, settings, settings.policy(), source, now=now, options=small).ok

    def break_after_two_pages(progress: SyncProgress) -> None:
        if progress.pages == 2:
            sim.faults(rate=1.0, kinds=["500"])

    failed = sync_source(
        engine, settings, settings.policy(), "shopify", now=now, options=small, progress=break_after_two_pages
    )
    assert not failed.ok and failed.watermark is None and failed.pages >= 2
    # The page or the holds query fetched after it, whichever the fault reached first.
    assert (failed.error or "").startswith(("shopify GET ", "shopify POST graphql.json"))
    assert "(HTTP 500)" in (failed.error or "")
    assert _count(engine, T_ORDER) == failed.records  # every committed page kept
    with engine.connect() as conn:
        run = conn.execute(select(T_RUN).where(T_RUN.c.id == failed.run_id)).one()
        assert (
            run.status == "failed" and run.cursor and run.pages == failed.pages and run.error == failed.error
        )
        assert freshness(conn)["shopify"] is None

    sim.clear_faults()
    sim.reset_requests()
    resumed = sync_source(
        engine, settings, settings.policy(), "shopify", now=now + timedelta(minutes=1), options=small
    )
    assert resumed.ok and resumed.resumed and resumed.mode == "full"
    assert resumed.watermark == now  # the pass counts from when it began
    assert failed.records + resumed.records == 400
    assert canonical_dump(engine) == reference


def test_a_crash_mid_run_is_resumed_too(engine: Engine, sim: Sim) -> None:
    settings, now = sim.settings(), sim.now()
    small = SyncOptions(tracker_page=100)

    def crash(progress: SyncProgress) -> None:
        if progress.pages == 2:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        sync_source(engine, settings, settings.policy(), "easypost", now=now, options=small, progress=crash)
    resumed = sync_source(engine, settings, settings.policy(), "easypost", now=now, options=small)
    assert resumed.ok and resumed.resumed
    assert _count(engine, T_TRACKER) == sim.http.get("/_sim/state").json()["counts"]["trackers"]


def test_a_rejected_credential_stops_with_a_clear_error_and_changes_nothing(
    engine: Engine, sim: Sim, reference: dict[str, list[tuple[object, ...]]]
) -> None:
    now = sim.now()
    _full(engine, sim, now)
    assert canonical_dump(engine) == reference
    for source, setting in (
        ("shopify", "SHOPIFY_ACCESS_TOKEN"),
        ("shipbob", "SHIPBOB_TOKEN"),
        ("easypost", "EASYPOST_API_KEY"),
    ):
        bad = sim.settings(**{setting.lower(): "wrong"})
        result = sync_source(engine, bad, bad.policy(), source, now=now + timedelta(hours=1))
        assert not result.ok and result.pages == 0
        assert setting in (result.error or "") and "(HTTP 401)" in (result.error or "")
        with engine.connect() as conn:
            assert freshness(conn)[source] == now
            assert recent_runs(conn, 1)[0].status == "failed"
    assert canonical_dump(engine) == reference


def test_two_syncs_of_one_source_never_run_at_once(engine: Engine, sim: Sim) -> None:
    settings, now = sim.settings(), sim.now()
    outcomes: list[object] = []

    def second_sync(progress: SyncProgress) -> None:
        if progress.pages == 1:
            try:
                sync_source(engine, settings, settings.policy(), "shipbob", now=now)
            except ConflictError as exc:
                outcomes.append(exc)
            outcomes.append(
                sync_all(engine, settings, settings.policy(), sources=["3pl"], now=now)["shipbob"]
            )
            outcomes.append(sync_source(engine, settings, settings.policy(), "easypost", now=now))

    first = sync_source(
        engine,
        settings,
        settings.policy(),
        "shipbob",
        now=now,
        progress=second_sync,
        options=SyncOptions(warehouse_page=100),
    )
    assert first.ok
    conflict, skipped, other = outcomes
    assert isinstance(conflict, ConflictError) and "sync:shipbob is already running" in str(conflict)
    assert isinstance(skipped, sync.SyncRunResult) and not skipped.ok and skipped.run_id is None
    assert isinstance(other, sync.SyncRunResult) and other.ok  # another source may run meanwhile
    assert sync_source(engine, settings, settings.policy(), "shipbob", now=now).ok  # released afterwards


def test_freshness_is_none_before_any_sync(engine: Engine) -> None:
    with engine.connect() as conn:
        assert freshness(conn) == {"shopify": None, "shipbob": None, "easypost": None}
        assert recent_runs(conn, 5) == []


def test_views_read_without_scans_classify_as_with_them(engine: Engine, sim: Sim) -> None:
    """Classification reads trackers without their scans (only the stored newest scan time)."""
    from checks.categories import classify
    from checks.discrepancies import static_discrepancies, timed_facts
    from services import store

    now = sim.now()
    _full(engine, sim, now)
    policy = sim.settings().policy()
    with engine.connect() as conn:
        ids = list(conn.scalars(select(T_ORDER.c.id).order_by(T_ORDER.c.id)))
        full = store.load_views(conn, ids)
        lean = store.load_views(conn, ids, events=False)
    scanned = [t for v in full for t in v.trackers if t.events]
    assert len(scanned) > 100 and all(not t.events for v in lean for t in v.trackers)
    assert [t.last_scan_at for v in full for t in v.trackers] == [
        t.last_scan_at for v in lean for t in v.trackers
    ]
    for a, b in zip(full, lean, strict=True):
        ca, cb = classify(a, policy), classify(b, policy)
        assert ca == cb
        assert timed_facts(a, ca) == timed_facts(b, cb)
        assert static_discrepancies(a, ca) == static_discrepancies(b, cb)
    stalled = [v for v in lean if timed_facts(v, classify(v, policy)).stalled_since is not None]
    assert stalled  # the store holds stalled trackers, so the scan time decided something


def test_a_resync_reclassifies_only_orders_whose_data_changed(engine: Engine) -> None:
    from services import store

    with simulator(orders=400) as sim:  # its clock moves: not the shared one
        settings, start = sim.settings(), sim.now()
        policy = settings.policy()
        _full(engine, sim, start)
        again = sync_all(engine, settings, policy, full=True, now=start)
        assert [(r.records > 0, r.reclassified) for r in again.values()] == [(True, 0)] * 3

        later = sim.advance(86400)  # the 3PL ships, the carrier scans, the store catches up
        moved = sync_all(engine, settings, policy, full=True, now=later)
        assert all(0 < r.reclassified < r.records for r in moved.values()), moved
    stored = canonical_dump(engine)["order_classification"]
    with engine.begin() as conn:  # classifying everything again finds nothing left stale
        store.reclassify_all(conn, policy, later)
    assert canonical_dump(engine)["order_classification"] == stored


def test_unchanged_store_orders_are_classified_again_under_another_policy(engine: Engine, sim: Sim) -> None:
    from dataclasses import replace

    settings, now = sim.settings(), sim.now()
    _full(engine, sim, now)
    stricter = replace(settings.policy(), handling_days=0)
    result = sync_source(engine, settings, stricter, "shopify", full=True, now=now)
    assert result.ok and result.reclassified == result.records > 0
    with engine.connect() as conn:
        fingerprints = set(conn.scalars(select(T_CLASS.c.policy_fingerprint)))
    assert fingerprints == {stricter.fingerprint()}
