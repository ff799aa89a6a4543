"""The webhook bench runs end to end: a real receiver process, every update visible, none lost, every
order ending at its newest version despite duplicates and late deliveries."""

from __future__ import annotations

from bench.webhooks_bench import bench_webhooks, rows


def test_a_short_run_loses_nothing_and_ends_at_the_newest_versions() -> None:
    result = bench_webhooks(rate=20, seconds=3, orders=40, duplicates=0.2, late=0.2)
    assert result["duplicates"] > 0 and result["late"] > 0
    assert result["visible"] == result["new"] > 0
    assert result["lost"] == 0 and result["wrong_final"] == 0
    assert "webhook to visible" in rows(result)[0][0]
