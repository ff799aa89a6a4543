"""Errors are shown once per page: a page runs its body inside `shown_once()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from services.database_errors import DATABASE_ERRORS, as_database_error
from services.errors import OrderReconError


@contextmanager
def shown_once() -> Iterator[None]:
    """Show an `OrderReconError` as one `st.error` with its message, and so a locked, read-only or
    deadlocked database; anything else is a bug and propagates."""
    try:
        yield
    except OrderReconError as exc:
        st.error(str(exc))
    except DATABASE_ERRORS as exc:
        st.error(str(as_database_error(exc)))
