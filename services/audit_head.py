"""Signed checkpoints of the audit log, for an operator to keep outside the database.

`signed_head` gives the last entry's sequence number, hash and time with an HMAC signature under
`AUDIT_KEY`. Kept elsewhere (a ticket, a mail, a file on another machine), it lets `check_expected`
notice what no check inside the database can: a log emptied and restarted, or cut back to an earlier
entry together with its head. Every export carries the head (`head_line`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from db.models.audit import GENESIS_HASH, AuditEntry, AuditHead
from services import audit_key
from services.audit import ChainReport
from services.errors import InputError

_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
_HEAD = AuditHead.__table__  # type: ignore[attr-defined]
HEAD_PREFIX = "# audit-head "


@dataclass(frozen=True)
class SignedHead:
    sequence: int
    hash: str
    at: str | None  # ISO time of that entry; None for an empty log
    signature: str

    def as_json(self) -> str:
        return json.dumps(
            {"sequence": self.sequence, "hash": self.hash, "at": self.at, "signature": self.signature},
            sort_keys=True,
        )


def _signature(key: bytes, sequence: int, digest: str, at: str | None) -> str:
    return audit_key.mac(key, f"checkpoint|{sequence}|{digest}|{at or ''}")


def signed_head(session: Session, *, key: bytes | None = None) -> SignedHead:
    """The log's last entry, signed. Reads the newest entry itself, not only the stored head."""
    key = key if key is not None else audit_key.current_key()
    row = session.execute(
        select(_ENTRY.c.id, _ENTRY.c.hash, _ENTRY.c.at).order_by(_ENTRY.c.id.desc())
    ).first()
    if row is None:
        return SignedHead(0, GENESIS_HASH, None, _signature(key, 0, GENESIS_HASH, None))
    at = row.at.isoformat(timespec="microseconds")
    return SignedHead(int(row.id), str(row.hash), at, _signature(key, int(row.id), str(row.hash), at))


def parse_head(text: str) -> SignedHead:
    """A head as `order-recon audit head` printed it (or an export's `# audit-head` line)."""
    body = text.strip()
    for line in body.splitlines():
        if line.startswith(HEAD_PREFIX):
            body = line[len(HEAD_PREFIX) :]
    try:
        data: dict[str, Any] = json.loads(body)
        return SignedHead(int(data["sequence"]), str(data["hash"]), data.get("at"), str(data["signature"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"not an audit head (expected the JSON `order-recon audit head` prints): {exc}"
        ) from None


def check_expected(session: Session, expected: SignedHead, *, key: bytes | None = None) -> ChainReport:
    """Does the log still hold the entry `expected` names, with the same hash? Fails for a forged head,
    a log with fewer entries, or another hash at that sequence."""
    key = key if key is not None else audit_key.current_key()
    if not audit_key.same(expected.signature, _signature(key, expected.sequence, expected.hash, expected.at)):
        return ChainReport(
            False, 0, None, "the expected head's signature does not match (forged, or another key)"
        )
    if expected.sequence == 0:
        return ChainReport(True, 0)
    row = session.execute(select(_ENTRY.c.hash).where(_ENTRY.c.id == expected.sequence)).first()
    if row is None:
        last = session.execute(select(_ENTRY.c.id).order_by(_ENTRY.c.id.desc())).scalar()
        return ChainReport(
            False,
            0,
            expected.sequence,
            f"the log has fewer entries than the kept head: entry {expected.sequence} is missing "
            f"(the log now ends at {last or 0})",
        )
    if not audit_key.same(str(row.hash), expected.hash):
        return ChainReport(
            False, 0, expected.sequence, f"entry {expected.sequence} has another hash than the kept head"
        )
    return ChainReport(True, expected.sequence)


def head_line(session: Session) -> str:
    """The line every export ends with: `# audit-head {...}`."""
    return HEAD_PREFIX + signed_head(session).as_json()
