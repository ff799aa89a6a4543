"""The snapshot writer (SPEC section 1 layout) and the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from sandbox.cli import SETTING_NAMES, write_snapshot_main
from sandbox.clock import Clock
from sandbox.snapshot import write_snapshot
from sandbox.world import World

from .conftest import CLOCK, load_snapshot

ROOT = Path(__file__).resolve().parents[2]


def test_parallel_snapshot_is_byte_identical(tmp_path: Path) -> None:
    w = World(seed=9, orders=900, clock=Clock(CLOCK, held=True))
    write_snapshot(w, tmp_path / "serial", workers=1)
    counts = write_snapshot(
        World(seed=9, orders=900, clock=Clock(CLOCK, held=True)),
        tmp_path / "parallel",
        workers=2,
        chunk=300,
        parallel_from=500,
    )
    assert counts["workers"] == 2
    for name in (
        "shopify/orders.json",
        "shipbob/orders.json",
        "easypost/trackers.json",
        "shipbob/inventory.json",
    ):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "parallel" / name).read_bytes(), name


def test_write_snapshot_main(tmp_path: Path, capsys: object) -> None:
    rc = write_snapshot_main(["--orders", "120", "--seed", "4", "--clock", CLOCK, "--out", str(tmp_path)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert out["shopify_orders"] == 120
    assert len(load_snapshot(tmp_path)["shopify/orders.json"]["orders"]) == 120


def test_cli_prints_settings_and_serves() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--orders", "60", "--clock", CLOCK],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=str(ROOT),
    )
    try:
        assert p.stdout is not None
        lines = [p.stdout.readline().strip() for _ in range(6)]
        settings = dict(line.split("=", 1) for line in lines)
        assert tuple(settings) == SETTING_NAMES
        assert settings["SHOPIFY_ACCESS_TOKEN"].startswith("shpat_")
        url = settings["SHOPIFY_SHOP_URL"] + "/admin/api/2026-10/graphql.json"
        for _ in range(100):
            try:
                r = httpx.post(
                    url,
                    json={"query": "{ orders(first: 250) { nodes { id } } }"},
                    headers={"X-Shopify-Access-Token": settings["SHOPIFY_ACCESS_TOKEN"]},
                    timeout=5,
                )
                break
            except httpx.ConnectError:
                import time

                time.sleep(0.05)
        assert (
            r.status_code == 200 and len(r.json()["data"]["orders"]["nodes"]) == 60
        )  # every order placed, open or not
    finally:
        p.terminate()
        p.wait(timeout=10)
