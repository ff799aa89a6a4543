"""AI order summaries: one plain-language paragraph on an order's state, private, grounded, never silent.

    summarize(detail, *, session, settings, clock=None) -> Summary
    stream_summary(detail, *, session, settings, clock=None) -> SummaryStream   (iterate, then .result)
    summary_as_json(summary) -> {"order", "engine", "summary"}
    bench_fallback(detail, *, repeat=200) -> timings of the rule-based path, in ms

Pipeline: facts (facts.py) → redaction (redact.py) → cache lookup (cache.py) → model call (prompt.py,
model.py) or rule-based summary (fallback.py) → "Also: …" lines for anything left out (completion.py).
"""

from services.summaries.fallback import bench_fallback
from services.summaries.model import TokenUsage
from services.summaries.summary import (
    Summary,
    SummaryStream,
    escape_markdown,
    stream_summary,
    summarize,
    summary_as_json,
)

__all__ = [
    "Summary",
    "SummaryStream",
    "TokenUsage",
    "bench_fallback",
    "escape_markdown",
    "stream_summary",
    "summarize",
    "summary_as_json",
]
