"""`webhooks subscribe`: EasyPost's `POST /v2/webhooks` against the simulator, listed first so a second
run changes nothing; the command reports each service."""

from __future__ import annotations

import pytest

from services.cli import main
from services.sources.easypost.client import EasyPostClient
from services.webhooks.subscribe import subscribe_all
from tests.services.sources.simulator import Sim
from tests.services.webhooks.support import SECRETS

SIM = {"orders": 50}  # the module's simulator (tests/services/conftest.py)


def test_easypost_registers_once_with_the_secret(sim: Sim) -> None:
    url = "https://receiver.example/webhooks/easypost"
    with EasyPostClient(sim.settings()) as client:
        first = client.subscribe_webhooks(url, ["tracker.updated"], secret="s3cret")
        again = client.subscribe_webhooks(url, ["tracker.updated"], secret="s3cret")
    assert first.created and not again.created and first.id == again.id
    hooks = [h for h in sim.running.sim.easypost_webhooks if h["url"] == url]
    assert len(hooks) == 1 and hooks[0]["webhook_secret"] == "s3cret"
    assert sim.calls("POST /easypost/v2/webhooks") and len(sim.calls("GET /easypost/v2/webhooks")) >= 2


def test_subscribe_all_reports_each_service(sim: Sim) -> None:
    results = {
        r.source: r for r in subscribe_all(sim.settings(**SECRETS), "https://public.example/webhooks/")
    }
    assert results["easypost"].ok and results["easypost"].url == "https://public.example/webhooks/easypost"
    assert "registered" in results["easypost"].detail
    assert {r.url for r in results.values()} == {f"https://public.example/webhooks/{s}" for s in results}
    for source in ("shopify", "shipbob"):  # each says what happened, ok or not, without stopping the rest
        assert results[source].detail


def test_subscribe_refuses_a_url_that_is_not_http(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["webhooks", "subscribe", "--url", "ftp://host/webhooks"]) == 2
    assert capsys.readouterr().err.strip() == "error: --url 'ftp://host/webhooks' is not an http(s) URL"
