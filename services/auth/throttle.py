"""Sign-in throttling: each attempt is reserved atomically before the password is checked.

Two counters per attempt, both rows of `login_throttle`:
- the username from this client (`<username>|<client>`, or the username alone when the client is
  unknown, as for the CLI): 5 free failures, then a delay of 30 s doubling to 15 minutes;
- the client alone (`@client:<address>`): 20 free failures across all usernames, then the same delays.

A delay holds only for the client that earned it: guessing `admin`'s password from one address never
keeps the admin out at another, so the throttle cannot be used to lock anyone out. There is no lock
beyond the delay, and a success clears the username's counter.

`reserve` counts the attempt first, in one statement per counter (`INSERT … ON CONFLICT DO UPDATE …
WHERE the delay has passed … RETURNING`), and commits before bcrypt runs: forty parallel guesses cannot
all reach bcrypt, and a success at the same time cannot make a failure go uncounted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from services.auth.users import THROTTLE
from services.errors import AuthenticationError

FREE_FAILURES = 5
FREE_CLIENT_FAILURES = 20
FIRST_LOCK_S = 30
MAX_LOCK_S = 15 * 60
CLIENT_PREFIX = "@client:"


def lock_seconds(consecutive_failures: int, free: int = FREE_FAILURES) -> int:
    """The delay after this many failures in a row: 0, then 30 s doubling, at most 15 min."""
    if consecutive_failures < free:
        return 0
    doublings = min(consecutive_failures - free, 16)
    return min(FIRST_LOCK_S * 2**doublings, MAX_LOCK_S)


@dataclass(frozen=True)
class Counter:
    key: str
    free: int
    label: str  # what the refusal names


def counters(name: str, client: str | None) -> list[Counter]:
    if not client:
        return [Counter(name, FREE_FAILURES, name)]
    client = client.strip()[:64]
    return [
        Counter(f"{name}|{client}"[:200], FREE_FAILURES, name),
        Counter(CLIENT_PREFIX + client, FREE_CLIENT_FAILURES, "this address"),
    ]


def _refusal(label: str, until: datetime, now: datetime) -> AuthenticationError:
    wait = max(1, math.ceil((until - now).total_seconds()))
    return AuthenticationError(f"Too many failed sign-ins for {label}; try again in {wait} s")


def check(session: Session, name: str, client: str | None, now: datetime) -> None:
    """Raise AuthenticationError while a counter's delay runs (reads only)."""
    for counter in counters(name, client):
        until = session.execute(
            select(THROTTLE.c.locked_until).where(THROTTLE.c.username == counter.key)
        ).scalar_one_or_none()
        if until is not None and now < until:
            raise _refusal(counter.label, until, now)


def reserve(session: Session, name: str, client: str | None, now: datetime) -> list[int]:
    """Count this attempt as a failure on every counter, unless a delay runs (then AuthenticationError).

    The caller commits before checking the password; `release` undoes the count on success. Returns each
    counter's failures including this attempt."""
    counts = []
    for counter in counters(name, client):
        failures = _bump(session, counter.key, now)
        if failures is None:
            until = session.execute(
                select(THROTTLE.c.locked_until).where(THROTTLE.c.username == counter.key)
            ).scalar_one()
            raise _refusal(counter.label, until, now)
        delay = lock_seconds(failures, counter.free)
        session.execute(
            update(THROTTLE)
            .where(THROTTLE.c.username == counter.key)
            .values(locked_until=now + timedelta(seconds=delay) if delay else None)
        )
        counts.append(failures)
    return counts


def _bump(session: Session, key: str, now: datetime) -> int | None:
    """+1 failure on `key` in one statement, only when no delay runs; None when one does."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(THROTTLE).values(username=key, failed_count=1, last_failed_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[THROTTLE.c.username],
        set_={"failed_count": THROTTLE.c.failed_count + 1, "last_failed_at": now},
        where=(THROTTLE.c.locked_until.is_(None)) | (THROTTLE.c.locked_until <= now),
    ).returning(THROTTLE.c.failed_count)
    value = session.execute(statement).scalar_one_or_none()
    return None if value is None else int(value)


def release(session: Session, name: str, client: str | None) -> None:
    """After a success: clear the username's counter and take this attempt back from the client's."""
    for counter in counters(name, client):
        if counter.key.startswith(CLIENT_PREFIX):
            session.execute(
                update(THROTTLE)
                .where(THROTTLE.c.username == counter.key, THROTTLE.c.failed_count > 0)
                .values(failed_count=THROTTLE.c.failed_count - 1)
            )
        else:
            session.execute(delete(THROTTLE).where(THROTTLE.c.username == counter.key))
