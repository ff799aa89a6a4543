"""Claiming and releasing orders from a list: one person works an overdue order at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import streamlit as st

from services import claims
from services.errors import ConflictError
from services.permissions import Actor
from ui import resources


def claim(names: Sequence[str], actor: Actor) -> None:
    """Claim each order; the ones someone else holds are listed, the others are claimed."""
    for name in names:
        try:
            with resources.session() as session:
                claims.claim(session, order=name, actor=actor, now=datetime.now(UTC))
        except ConflictError as exc:
            st.warning(str(exc))


def release(names: Sequence[str], actor: Actor) -> None:
    for name in names:
        with resources.session() as session:
            claims.release(session, order=name, actor=actor, now=datetime.now(UTC))


def owner(claim_of: dict[int, claims.Claim], order_id: int) -> str:
    return claim_of[order_id].username if order_id in claim_of else ""
