"""What every `order-recon` command is given: its parsed arguments, the settings, the SLA policy, the
migrated database and the clock, plus the parsers of the times and days commands take."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import NoReturn

from sqlalchemy.engine import Engine

from checks.policy import SlaPolicy
from db.migrate import upgrade
from db.session import make_engine
from services.errors import InputError
from services.policy_change import ensure_policy
from services.settings import Settings


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        raise InputError(f"{self.prog}: {message}")


class Context:
    """What a command needs: settings, policy, the migrated engine, the clock."""

    def __init__(self, args: argparse.Namespace, settings: Settings | None = None) -> None:
        self.args = args
        self.settings = settings or Settings()
        config = getattr(args, "config", None) or os.environ.get("ORDER_RECON_CONFIG")
        if config:
            self.settings = self.settings.model_copy(update={"order_recon_config": Path(config)})
        self.policy: SlaPolicy = self.settings.policy()
        self.now = datetime.now(UTC)
        self.as_of = parse_as_of(getattr(args, "as_of", None), self.policy, self.now)
        self._engine: Engine | None = None
        self.reclassified = 0  # orders the policy step reclassified when the database was opened

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
            upgrade(self._engine)
            with self._engine.begin() as conn:
                self.reclassified = ensure_policy(conn, self.policy, self.now)
        return self._engine


def parse_as_of(text: str | None, policy: SlaPolicy, now: datetime) -> datetime:
    """ISO time with an offset; without one it is store time; a bare date means the end of that store day."""
    if not text:
        return now
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), tzinfo=policy.tz).astimezone(
                UTC
            )
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of {text!r} is not an ISO 8601 time (e.g. 2026-07-06T14:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=policy.tz)
    return moment.astimezone(UTC)


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None
