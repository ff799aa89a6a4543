"""The applier: applies stored events after their replies, in the receiver's own process.

It wakes when the receiver stores an event (`wake()`), and at least every `poll_s` to retry failed
events that are due and to pick up what a previous process stored but never applied (a crash between
store and apply loses nothing: the event is in the table, `received`). Events are applied oldest first, what
is due together in one transaction (at 50 events/s one per event would spend most of its time committing
and reclassifying), in a worker thread so the event loop keeps answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from checks.policy import SlaPolicy
from services.settings import Settings
from services.webhooks import events
from services.webhooks.apply import apply_batch

log = logging.getLogger("order_recon.webhooks")
Clock = Callable[[], datetime]
BATCH = 25  # events per transaction: enough to amortize a commit, short enough not to hold up stores


def _utc_now() -> datetime:
    return datetime.now(UTC)


def apply_due(engine: Engine, settings: Settings, policy: SlaPolicy, *, clock: Clock = _utc_now) -> int:
    """Apply every event that is due now, up to BATCH in a transaction; returns how many were applied."""
    applied = 0
    while True:
        with engine.connect() as conn:
            due = events.due_event_ids(conn, now=clock(), limit=BATCH)
        if not due:
            return applied
        done = apply_batch(engine, due, settings, policy, clock())
        applied += done
        if not done:  # each failed (now backed off) or another worker has it: the next wake tries again
            return applied


class Applier:
    """Runs `apply_due` in the background of an asyncio server (start/stop from its lifespan)."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        policy: SlaPolicy,
        *,
        poll_s: float = 1.0,
        clock: Clock = _utc_now,
    ) -> None:
        self.engine, self.settings, self.policy = engine, settings, policy
        self.poll_s = poll_s
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-applier")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await asyncio.to_thread(apply_due, self.engine, self.settings, self.policy, clock=self.clock)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away, say: log it and try again at the next wake
                log.exception("applying webhook events failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
