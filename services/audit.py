"""The audit log: append-only, HMAC-chained, verifiable, exportable.

One module, over 400 lines, because append, verify and export must agree on one canonical form, one
lock order and one row reading; the key, the signed head and the search live beside it (audit_key,
audit_head, audit_search).

Each entry's `hash` is HMAC-SHA256 under `AUDIT_KEY` (services.audit_key; never stored in the database) over
the canonical JSON of its content (id, at in ISO UTC, actor, role, action, order_name, params, outcome,
detail) and `prev_hash`, the hash of the entry before it (64 zeros for the first). Editing, deleting or
inserting a row breaks the chain at that row, and `verify` names it; without the key nobody can recompute the
chain after such an edit. Entries written before the log was keyed (ids up to `audit_head.legacy_until`) keep
their plain SHA-256. The head carries an HMAC `signature` of (last_id, last_hash, legacy_until), so moving it
back to an earlier entry after deleting the tail is detected too; `services.audit_head` gives operators a
signed checkpoint to keep outside the database. Triggers (migration 0010) refuse UPDATE, DELETE and TRUNCATE
of entries, and any move of the head backwards, even to the application's own role.

How concurrent appends chain correctly, on both backends. `audit_head` holds one row (id 1) with the last
entry's id and hash. `append` first runs `UPDATE audit_head ... RETURNING last_id, last_hash` and only then
inserts the entry and moves the head, all in the caller's transaction:
- On SQLite the UPDATE is the statement that takes the database write lock (pysqlite begins the transaction
  at the first write), so the head is read inside the lock: a second writer waits (busy timeout) and then
  reads the head the first one committed. Nothing is read before the write lock, so WAL's "snapshot too old"
  cannot happen.
- On PostgreSQL `pg_advisory_xact_lock(CHAIN_LOCK_KEY)` is taken first (held until commit or rollback), and
  the UPDATE's row lock is a second guard: under REPEATABLE READ a stale head makes the UPDATE fail rather
  than fork the chain.
Because appends are serialised, ids are assigned as head.last_id + 1: gapless, known before hashing (the id
is part of the hashed content), and a deleted row also shows as a gap. The head also lets `verify` notice
entries removed from the end. A rolled-back append rolls back the head with it.

There are no update or delete functions. The readers (`list_entries`, `count_entries`, `export_csv`) do not
check roles: callers gate them with `services.permissions.require(..., Permission.ADMINISTER, ...)`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, TextIO
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, Row, event, func, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.models.audit import GENESIS_HASH, AuditEntry, AuditHead
from db.session import session_scope
from services import audit_key
from services.csv_cells import neutralise
from services.errors import ConfigurationError, InputError

__all__ = [
    "CHAIN_LOCK_KEY",
    "ChainReport",
    "Outcome",
    "append",
    "canonical_json",
    "count_entries",
    "entry_hash",
    "export_csv",
    "head_signature",
    "list_entries",
    "run_detached",
    "utcnow",
    "verify",
]

log = logging.getLogger(__name__)

# Constant key of the PostgreSQL advisory lock that serialises appends ("audit" in ASCII).
CHAIN_LOCK_KEY = 0x6175646974
PAGE_SIZE = 1000
CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "role",
    "action",
    "order",
    "outcome",
    "params",
    "detail",
    "prev_hash",
    "hash",
)

_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
_HEAD = AuditHead.__table__  # type: ignore[attr-defined]
_LIMITS = {"actor": 128, "action": 64, "order": 64, "outcome": 16, "role": 16}
_CHAIN_LOCKED = "audit.chain_locked"  # session.info: this transaction holds the chain lock
_PENDING = "audit.pending_detached"  # session.info: work to run once this transaction ends
_HOOKED = "audit.hooked"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Outcome(StrEnum):
    """The usual outcomes; `append` accepts any short string."""

    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InputError(f"naive datetime {value!r} in audit params")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    raise InputError(f"audit params must be JSON values, not {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept, no NaN: the same value always gives the same text."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_jsonable
    )


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    id: int,
    at: datetime,
    actor: str,
    role: str | None,
    action: str,
    order_name: str | None,
    params: Any,
    outcome: str,
    detail: str | None,
    prev_hash: str,
    key: bytes | None = None,
    legacy: bool = False,
) -> str:
    """The hash an entry with this content and this predecessor must carry: HMAC-SHA256 under `key`
    (default: the configured AUDIT_KEY), or plain SHA-256 for an entry from before the log was keyed."""
    content = {
        "id": id,
        "at": _iso(at),
        "actor": actor,
        "role": role,
        "action": action,
        "order_name": order_name,
        "params": params,
        "outcome": outcome,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    text_ = canonical_json(content)
    if legacy:
        return hashlib.sha256(text_.encode("utf-8")).hexdigest()
    return audit_key.mac(key if key is not None else audit_key.current_key(), text_)


def head_signature(key: bytes, last_id: int, last_hash: str, legacy_until: int) -> str:
    return audit_key.mac(key, f"head|{last_id}|{last_hash}|{legacy_until}")


def _row_hash(row: Row[Any], key: bytes, legacy_until: int) -> str:
    return entry_hash(
        id=row.id,
        at=row.at,
        actor=row.actor,
        role=row.role,
        action=row.action,
        order_name=row.order_name,
        params=row.params,
        outcome=row.outcome,
        detail=row.detail,
        prev_hash=row.prev_hash,
        key=key,
        legacy=row.id <= legacy_until,
    )


def _check_lengths(**values: str | None) -> None:
    for name, value in values.items():
        if name in ("actor", "action", "outcome") and not value:
            raise InputError(f"audit {name} must not be empty")
        if value is not None and len(value) > _LIMITS[name]:
            raise InputError(f"audit {name} is longer than {_LIMITS[name]} characters: {value[:40]!r}…")


def _lock_head(session: Session) -> tuple[int, str, int]:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    row = session.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(last_id=_HEAD.c.last_id)
        .returning(_HEAD.c.last_id, _HEAD.c.last_hash, _HEAD.c.legacy_until)
    ).one_or_none()
    if row is None:
        raise ConfigurationError(
            "The audit log is not initialised (audit_head is empty): run the migrations."
        )
    return int(row.last_id), str(row.last_hash), int(row.legacy_until)


def append(
    session: Session,
    *,
    actor: str,
    role: str | None,
    action: str,
    outcome: str,
    order: str | None = None,
    params: Mapping[str, Any] | None = None,
    detail: str | None = None,
    at: datetime,
) -> AuditEntry:
    """Add one entry at the end of the chain, in the caller's transaction (it is kept only if that commits).

    `params` must be JSON-like (datetimes, dates, enums, decimals, UUIDs and sets are converted); they are
    stored in canonical form, the form that is hashed. Serialised with every other append (module docstring).
    """
    if at.tzinfo is None:
        raise InputError(f"naive datetime {at!r}: audit timestamps must carry an offset")
    role = str(role) if role is not None else None
    _check_lengths(actor=actor, role=role, action=action, order=order, outcome=str(outcome))
    stored_params = json.loads(canonical_json(dict(params))) if params is not None else None
    key = audit_key.current_key()  # before any write: no key, no entry

    _install_hook(session)
    last_id, last_hash, legacy_until = _lock_head(session)
    session.info[_CHAIN_LOCKED] = True
    entry_id = last_id + 1
    at = at.astimezone(UTC)
    content: dict[str, Any] = {
        "id": entry_id,
        "at": at,
        "actor": actor,
        "role": role,
        "action": action,
        "order_name": order,
        "params": stored_params,
        "outcome": str(outcome),
        "detail": detail,
        "prev_hash": last_hash,
    }
    digest = entry_hash(**content, key=key)  # the hash covers exactly what is stored, nothing more
    entry = AuditEntry(**content, hash=digest)
    session.add(entry)
    session.flush()
    session.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(
            last_id=entry_id,
            last_hash=digest,
            signature=head_signature(key, entry_id, digest, legacy_until),
            key_id=audit_key.key_id(key),
        )
    )
    return entry


def _head_problem(key: bytes, head: Row[Any]) -> str | None:
    """Why the stored head cannot be trusted, or None."""
    head_id, head_hash, legacy_until = int(head.last_id), str(head.last_hash), int(head.legacy_until)
    if head.key_id is not None and head.key_id != audit_key.key_id(key):
        return "the configured AUDIT_KEY is not the key this log was written with"
    if head_id <= legacy_until and head.signature is None:
        return None  # nothing appended since the log was keyed
    if not audit_key.same(head.signature, head_signature(key, head_id, head_hash, legacy_until)):
        return f"the head (entry {head_id}) was moved or rewritten: its signature does not match"
    return None


def verify(session: Session, *, key: bytes | None = None) -> ChainReport:
    """Walk the chain in id order, a page at a time, up to the head as it is now.

    First checks the head's signature (an attacker who deleted the tail cannot sign an earlier head). Then
    reports the first entry that is missing (a gap in ids), whose `prev_hash` does not link to the entry
    before it, or whose content no longer matches its HMAC; then rows added beyond the head, and entries
    removed from the end. Entries appended while this runs are beyond the head read at the start: not checked.
    """
    key = key if key is not None else audit_key.current_key()
    head = session.execute(
        select(
            _HEAD.c.last_id, _HEAD.c.last_hash, _HEAD.c.legacy_until, _HEAD.c.signature, _HEAD.c.key_id
        ).where(_HEAD.c.id == 1)
    ).one_or_none()
    if head is None:
        return ChainReport(False, 0, None, "audit_head is missing: the chain cannot be checked")
    head_id, head_hash, legacy_until = int(head.last_id), str(head.last_hash), int(head.legacy_until)
    problem = _head_problem(key, head)
    if problem is not None:
        return ChainReport(False, 0, head_id, problem)
    prev_id, prev_hash, checked = 0, GENESIS_HASH, 0
    while True:
        rows = session.execute(
            select(_ENTRY)
            .where(_ENTRY.c.id > prev_id, _ENTRY.c.id <= head_id)
            .order_by(_ENTRY.c.id)
            .limit(PAGE_SIZE)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.id != prev_id + 1:
                missing = f"{prev_id + 1}" if row.id == prev_id + 2 else f"{prev_id + 1}–{row.id - 1}"
                return ChainReport(
                    False, checked, row.id, f"entry {missing} is missing before entry {row.id}"
                )
            if row.prev_hash != prev_hash:
                return ChainReport(
                    False,
                    checked,
                    row.id,
                    f"entry {row.id} does not link to entry {prev_id} (prev_hash differs)",
                )
            if not audit_key.same(_row_hash(row, key, legacy_until), row.hash):
                return ChainReport(
                    False, checked, row.id, f"entry {row.id} was changed (its hash does not match)"
                )
            prev_id, prev_hash, checked = row.id, row.hash, checked + 1
    # One statement, one snapshot: a committed append moves the head with its entry, so nothing lies beyond.
    beyond = session.execute(
        select(func.min(_ENTRY.c.id)).where(
            _ENTRY.c.id > select(_HEAD.c.last_id).where(_HEAD.c.id == 1).scalar_subquery()
        )
    ).scalar_one()
    if beyond is not None:
        return ChainReport(
            False, checked, beyond, f"entry {beyond} is not part of the chain (the head ends at {head_id})"
        )
    if prev_id != head_id or prev_hash != head_hash:
        return ChainReport(
            False,
            checked,
            prev_id + 1,
            f"the chain ends at entry {prev_id} but the head records entry {head_id} (entries removed)",
        )
    return ChainReport(True, checked)


def _filters(
    *,
    actor: str | None = None,
    action: str | None = None,
    order: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ColumnElement[bool]]:
    """Equality on actor/action/order/outcome; `since` inclusive, `until` exclusive."""
    where: list[ColumnElement[bool]] = []
    for column, value in (
        (_ENTRY.c.actor, actor),
        (_ENTRY.c.action, action),
        (_ENTRY.c.order_name, order),
        (_ENTRY.c.outcome, outcome),
    ):
        if value is not None:
            where.append(column == str(value))
    if since is not None:
        where.append(_ENTRY.c.at >= since)
    if until is not None:
        where.append(_ENTRY.c.at < until)
    return where


def list_entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    order: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """One page of entries matching every given filter, newest first."""
    where = _filters(actor=actor, action=action, order=order, outcome=outcome, since=since, until=until)
    statement = (
        select(AuditEntry)
        .where(*where)
        .order_by(_ENTRY.c.id.desc())
        .limit(max(0, limit))
        .offset(max(0, offset))
    )
    return list(session.execute(statement).scalars().all())


def count_entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    order: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    where = _filters(actor=actor, action=action, order=order, outcome=outcome, since=since, until=until)
    return int(session.execute(select(func.count()).select_from(_ENTRY).where(*where)).scalar_one())


def _cell(value: str | None) -> str:
    return str(neutralise(value))


def _iter_rows(session: Session, where: list[ColumnElement[bool]]) -> Iterator[Row[Any]]:
    after = 0
    while True:
        rows = session.execute(
            select(_ENTRY).where(*where, _ENTRY.c.id > after).order_by(_ENTRY.c.id).limit(PAGE_SIZE)
        ).all()
        yield from rows
        if len(rows) < PAGE_SIZE:
            return
        after = rows[-1].id


def export_csv(session: Session, out: TextIO, **filters: Any) -> int:
    """Write the matching entries as CSV, oldest first (chain order), a page at a time; returns the row count.

    Takes the filters of `count_entries`. Cells that a spreadsheet would run as a formula get a leading `'`.
    """
    where = _filters(**filters)
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    written = 0
    for row in _iter_rows(session, where):
        writer.writerow(
            (
                row.id,
                _iso(row.at),
                _cell(row.actor),
                _cell(row.role),
                _cell(row.action),
                _cell(row.order_name),
                _cell(row.outcome),
                canonical_json(row.params) if row.params is not None else "",
                _cell(row.detail),
                row.prev_hash,
                row.hash,
            )
        )
        written += 1
    return written


# --- work that must outlive the caller's transaction (denials, failed sign-ins) ----------------------------


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def _would_block(session: Session) -> bool:
    """Would a second connection's write wait on this session's open transaction?"""
    if session.info.get(_CHAIN_LOCKED):
        return True
    if not session.in_transaction():
        return False
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    return bool(getattr(connection.connection.dbapi_connection, "in_transaction", False))


def _run_now(engine: Engine, work: Callable[[Session], Any]) -> None:
    with session_scope(engine) as own:
        work(own)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(_CHAIN_LOCKED, None)
    pending = session.info.pop(_PENDING, None) or []
    for work in pending:
        try:
            _run_now(_engine_of(session), work)
        except Exception:
            log.exception("could not write deferred audit work after the transaction ended")


def _install_hook(session: Session) -> None:
    if not session.info.get(_HOOKED):
        event.listen(session, "after_transaction_end", _after_transaction_end)
        session.info[_HOOKED] = True


def run_detached(session: Session, work: Callable[[Session], Any]) -> None:
    """Run `work(own_session)` in its own transaction on the same database, kept whatever the caller does.

    Normally that is now, on another connection. When the caller's open transaction holds a lock the other
    connection would wait for (SQLite's write lock, or the audit chain lock), waiting would deadlock this
    thread; the work then runs right after the caller's transaction ends, by commit, rollback or close.
    Errors in immediate work propagate; errors in deferred work are logged.
    """
    if _would_block(session):
        _install_hook(session)
        session.info.setdefault(_PENDING, []).append(work)
        return
    _run_now(_engine_of(session), work)
