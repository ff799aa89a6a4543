"""Read and write the summary cache (table `summary_cache`): model answers only, by facts fingerprint."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from db.models.summaries import SummaryCache

logger = logging.getLogger("services.summaries")


def get_cached_summary(*, session: Session, fingerprint: str) -> SummaryCache | None:
    return session.get(SummaryCache, fingerprint)


def store_summary(*, session: Session, entry: SummaryCache) -> None:
    """Insert and commit `entry`. Best effort: a failure is logged, never shown instead of the summary.

    Commits here because the answer is paid for: a caller that forgot to commit would pay again.
    Two sessions racing on the same facts both succeed; the first row wins.
    """
    try:
        session.add(entry)
        session.commit()
    except IntegrityError:
        session.rollback()
    except SQLAlchemyError:
        session.rollback()
        logger.exception("summary cache write failed for %s", entry.order_name)
