"""Every CSV export goes one way: the stored role checked, cells neutralised, the export audited, the
signed audit head appended."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.session import session_scope
from services import audit, audit_head, exports
from services.errors import PermissionDenied
from services.permissions import Actor, Permission, Role

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEAD, AGENT = Actor("lee", Role.LEAD), Actor("ann", Role.AGENT)
ACTORS = (LEAD, AGENT)
HOSTILE = ['=HYPERLINK("http://evil.test")', "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain"]


def _rows(_: Session) -> list[dict[str, object]]:
    return [{"order": value, "units": -3} for value in HOSTILE]


def test_a_table_export_is_neutralised_audited_and_ends_with_the_head(engine: Engine) -> None:
    with session_scope(engine) as session:
        data = exports.export_rows(session, LEAD, _rows, action="export.queue", now=NOW)
    text = data.decode()
    *body, last = text.rstrip("\n").split("\n")
    cells = [row["order"] for row in csv.DictReader(io.StringIO("\n".join(body)))]
    assert cells == ["'" + v if v[0] in "=+-@\t\r" else v for v in HOSTILE]
    assert "-3" in text  # numbers stay numbers
    head = audit_head.parse_head(last)
    with Session(engine) as session:
        [entry] = audit.list_entries(session, action="export.queue")
        assert (entry.actor, entry.params) == ("lee", {"rows": len(HOSTILE)})
        assert head.sequence == entry.id and audit_head.check_expected(session, head).ok


def test_the_audit_export_uses_the_same_neutralising_function(engine: Engine) -> None:
    with session_scope(engine) as session:
        audit.append(
            session, actor="=cmd|' /C calc'!A0", role=None, action="sign_in", outcome="failed", at=NOW
        )
    out = io.StringIO()
    with Session(engine) as session:
        audit.export_csv(session, out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["actor"] == exports.neutralise("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"


def test_an_export_without_the_right_is_refused_and_audited(engine: Engine) -> None:
    with session_scope(engine) as session, pytest.raises(PermissionDenied):
        exports.export_rows(session, AGENT, _rows, action="export.queue", now=NOW)
    with session_scope(engine) as session, pytest.raises(PermissionDenied):
        exports.export_rows(
            session, LEAD, _rows, action="export.audit", now=NOW, permission=Permission.ADMINISTER
        )
    with Session(engine) as session:
        assert [(e.actor, e.outcome) for e in reversed(audit.list_entries(session))] == [
            ("ann", "denied"),
            ("lee", "denied"),
        ]
