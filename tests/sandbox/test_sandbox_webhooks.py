"""The simulator's webhooks: signed deliveries of every change that the real receiver accepts and applies,
and, with duplicates and out-of-order deliveries, a database that ends as the simulator's world is."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from sandbox import records
from sandbox.scenarios import SB_ORDER_BASE
from sandbox.webhooks import WebhookFaults, WebhookSender
from services.sources.shopify.parse import parse_order
from services.store import T_ORDER, T_SHIPMENT
from services.webhooks.events import T_EVENT
from tests.services.sources.simulator import Sim, simulator
from tests.services.webhooks.support import SECRETS, running_receiver, wait_settled

SENDER_SECRETS = {
    source: SECRETS[f"{source}_webhook_secret"] for source in ("shopify", "shipbob", "easypost")
}


@pytest.fixture
def sim() -> Iterator[Sim]:
    with simulator(2000) as running:
        yield running


def _run(sim: Sim, engine: Engine, faults: WebhookFaults, hours: int) -> WebhookSender:
    settings = sim.settings(**SECRETS)
    with running_receiver(engine, settings) as base:
        sender = WebhookSender(
            sim.running.world, f"{base}/webhooks", SENDER_SECRETS, faults=faults, tick_s=0.05
        )
        sender.start()
        try:
            for _ in range(hours):
                sim.advance(3600)
                time.sleep(0.3)
            time.sleep(0.5)
            sender.tick()
        finally:
            sender.stop(flush=True)  # whatever was held back is sent now
        wait_settled(engine, timeout=60)
    return sender


def _statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(T_EVENT.c.source, T_EVENT.c.status)).all()
    out: dict[str, int] = {}
    for source, status in rows:
        out[f"{source}:{status}"] = out.get(f"{source}:{status}", 0) + 1
    return out


def test_every_change_is_sent_signed_and_applied(sim: Sim, engine: Engine) -> None:
    sender = _run(sim, engine, WebhookFaults(), hours=8)
    assert sender.counts["sent"] > 20 and set(sender.counts) == {"sent"}  # no 401, no 400, nothing failed
    statuses = _statuses(engine)
    assert {key.split(":")[0] for key in statuses} == {"shopify", "shipbob", "easypost"}
    assert {key.split(":")[1] for key in statuses} == {"applied"}


def test_duplicates_and_late_deliveries_end_as_the_world_is(sim: Sim, engine: Engine) -> None:
    sender = _run(sim, engine, WebhookFaults(duplicate=0.2, reorder=0.3, seed=3), hours=10)
    assert sender.counts["duplicated"] > 0 and sender.counts["delayed"] > 0
    world = sim.running.world
    now = world.now()
    with engine.connect() as conn:
        stored = conn.execute(select(T_ORDER.c.id, T_ORDER.c.updated_at, T_ORDER.c.fulfillment_status,
                                     T_ORDER.c.financial_status, T_ORDER.c.cancelled_at)).all()  # fmt: skip
    assert stored
    from sandbox.scenarios import index_of_order_id

    for row in stored:
        index = index_of_order_id(row.id, world.n)
        assert index is not None
        truth: Any = parse_order(
            __import__("json").loads(records.shop_order_str(world, world.row(index), now))
        )
        assert (row.updated_at, row.fulfillment_status, row.financial_status, row.cancelled_at) == (
            truth.updated_at,
            truth.fulfillment_status,
            truth.financial_status,
            truth.cancelled_at,
        ), f"order {row.id}"
    with engine.connect() as conn:
        shipments = conn.execute(
            select(T_SHIPMENT.c.warehouse_order_id, T_SHIPMENT.c.id, T_SHIPMENT.c.status)
        ).all()
    assert shipments
    for warehouse_id, shipment_id, status in shipments:
        truth = json.loads(records.sb_order_bytes(world, world.row((warehouse_id - SB_ORDER_BASE) // 2), now))
        assert {s["id"]: s["status"] for s in truth["shipments"]}[shipment_id] == status, (
            f"3PL order {warehouse_id}"
        )


def test_the_cli_prints_the_three_secrets_with_the_other_settings() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sandbox.cli import SETTING_NAMES, WEBHOOK_SETTING_NAMES

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "SHIPBOB_WEBHOOK_SECRET": "whsec_dGVzdA=="}
    command = [sys.executable, "-m", "sandbox", "--port", "0", "--orders", "60", "--no-warm",
               "--webhook-url", "http://127.0.0.1:9/webhooks"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(9)]
    finally:
        process.terminate()
        process.wait(timeout=10)
    settings = dict(line.split("=", 1) for line in lines)
    assert tuple(settings) == SETTING_NAMES + WEBHOOK_SETTING_NAMES
    assert settings["SHIPBOB_WEBHOOK_SECRET"] == "whsec_dGVzdA=="  # from the environment when set there
    assert settings["SHOPIFY_WEBHOOK_SECRET"]
