"""A bulk refresh running beside the page: progress with an estimate, a Cancel button, and at the end
what changed. The work is `services.bulk_refresh`'s, in a thread of its own, so the page stays usable."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import streamlit as st

from services.bulk_refresh import BulkOutcome, BulkProgress, bulk_refresh, permit_bulk_refresh
from services.permissions import Actor
from ui import resources

KEY = "bulk.job"


@dataclass
class Job:
    total: int
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: BulkProgress | None = None
    outcome: BulkOutcome | None = None
    error: str | None = None
    thread: threading.Thread | None = None


def start(names: Sequence[str], actor: Actor) -> None:
    """Check `bulk_sync` (ops and admin), audit the request, and start refreshing `names`."""
    now = datetime.now(UTC)
    permit_bulk_refresh(resources.engine(), actor, names, now=now)
    job = Job(total=len(names))
    engine, settings, policy = resources.engine(), resources.settings(), resources.policy()

    def run() -> None:
        try:
            job.outcome = bulk_refresh(
                engine,
                settings,
                policy,
                names,
                now=now,
                progress=lambda step: setattr(job, "progress", step),
                cancelled=job.cancel.is_set,
            )
        except Exception as exc:  # shown on the page; the refreshed orders stay refreshed
            job.error = str(exc)

    job.thread = threading.Thread(target=run, name="bulk-refresh", daemon=True)
    job.thread.start()
    st.session_state[KEY] = job


def _eta(progress: BulkProgress | None) -> str:
    if progress is None or progress.remaining_s is None:
        return "estimating…"
    return f"about {max(1, round(progress.remaining_s))} s left"


def _names(names: Sequence[str], most: int = 12) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def summary_lines(outcome: BulkOutcome) -> list[str]:
    lines = [f"Refreshed {len(outcome.refreshed)} of {outcome.total} order(s) in {outcome.seconds:.1f} s."]
    if outcome.not_started:
        lines.append(f"Cancelled: {len(outcome.not_started)} order(s) were not refreshed.")
    if outcome.failed:
        lines.append(f"Some sources failed for {_names(outcome.failed)}.")
    lines.append(
        f"Left the overdue queue: {_names(outcome.left_queue)}."
        if outcome.left_queue
        else "No order left the overdue queue."
    )
    if outcome.joined_queue:
        lines.append(f"Now overdue: {_names(outcome.joined_queue)}.")
    if outcome.gained:
        gained = [f"{name} ({', '.join(codes)})" for name, codes in outcome.gained.items()]
        lines.append(f"Gained a discrepancy: {_names(gained)}.")
    else:
        lines.append("No order gained a discrepancy.")
    return lines


def panel() -> None:
    """The job's progress while it runs (redrawn every second), then its summary until dismissed."""
    job: Job | None = st.session_state.get(KEY)
    if job is None:
        return
    if job.thread is not None and job.thread.is_alive():
        _progress()
        return
    with st.container(border=True, key="bulk.summary"):
        if job.error:
            st.error(f"The bulk refresh stopped: {job.error}")
        elif job.outcome is not None:
            for line in summary_lines(job.outcome):
                st.markdown(line)
        if st.button("Dismiss", key="bulk.dismiss"):
            st.session_state.pop(KEY, None)
            st.rerun()


@st.fragment(run_every=1.0)
def _progress() -> None:
    """Only while a job runs: a page without one has no timer rerunning it."""
    job: Job | None = st.session_state.get(KEY)
    if job is None or job.thread is None or not job.thread.is_alive():
        st.rerun()  # the whole page: the summary and the refreshed queue
        return
    progress = job.progress
    done = progress.done if progress else 0
    st.progress(
        done / max(1, job.total),
        text=f"Refreshing {job.total} order(s) from all three systems: {done} done, {_eta(progress)}"
        + (" · cancelling…" if job.cancel.is_set() else ""),
    )
    if st.button("Cancel", key="bulk.cancel", icon=":material/cancel:", disabled=job.cancel.is_set()):
        job.cancel.set()
