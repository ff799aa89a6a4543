"""Each guided fix over real HTTP against the simulator: preview, execute, the target afterwards, once only."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.engine import Engine

from services import fixes
from services.errors import (
    ActionBlocked,
    ConfigurationError,
    ConflictError,
    InputError,
    PermissionDenied,
    SourceError,
    StalePlanError,
)
from tests.services.fixes.support import ADMIN, AGENT, LEAD, World, audit_rows, fix_rows, sim
from tests.services.sources.simulator import Sim

__all__ = ["sim"]
pytestmark = pytest.mark.timeout(180)


def _codes(result: fixes.FixResult) -> set[str]:
    assert result.detail is not None
    return {d.code for d in result.detail.discrepancies}


@pytest.mark.parametrize("kind", fixes.KINDS)
def test_preview_execute_and_a_second_execute_refused(engine: Engine, sim: Sim, kind: str) -> None:
    world = World(engine, sim)
    name = world.pick(kind)
    fix = fixes.fix_for(kind)
    plan = world.dry_run(kind, name, actor=AGENT)  # agents may preview
    assert plan.actionable and len(plan.fingerprint) == 64
    assert plan.request is not None and plan.request.system == ("shipbob" if "3pl" in kind else "shopify")
    if plan.request.system == "shopify":
        query = plan.request.body["query"]  # type: ignore[index]
        assert (
            "fulfillmentCreate(" if kind == "fulfill-in-store" else "fulfillmentTrackingInfoUpdate("
        ) in query
    before = world.calls(kind)

    result = world.execute(plan)

    assert world.calls(kind) - before == 1
    assert result.record.status == "done" and result.record.resolution == "sent"
    assert result.detail is not None
    if fix.offered_for == "sync_delay":
        assert result.detail.category == "fulfilled"
    else:
        assert fix.offered_for not in _codes(result)
    if kind == "cancel-at-3pl":
        assert result.detail.view.warehouse is not None
        assert {s.status for s in result.detail.view.warehouse.shipments} == {"Cancelled"}
    if kind == "send-to-3pl":
        assert result.detail.view.warehouse is not None
        assert result.detail.view.warehouse.reference_id == str(result.detail.view.store.id)
    if kind == "push-tracking":
        warehouse = result.detail.view.warehouse
        assert (
            warehouse is not None and warehouse.tracking_numbers <= result.detail.view.store.tracking_numbers
        )

    with pytest.raises((ActionBlocked, ConflictError, StalePlanError)):
        world.execute(plan)
    assert world.calls(kind) - before == 1
    [row] = fix_rows(engine)
    assert (row.kind, row.status, row.requested_by) == (kind, "done", "olga")
    outcomes = [(a.action, a.outcome) for a in audit_rows(engine) if a.action.startswith("fix.")]
    assert outcomes[:2] == [("fix.dry_run", "ok"), ("fix.execute", "ok")]
    assert outcomes[2][0] == "fix.execute" and outcomes[2][1] in ("blocked", "failed")


def test_agents_and_leads_may_not_execute_and_the_refusal_is_audited(sqlite_engine: Engine, sim: Sim) -> None:
    world = World(sqlite_engine, sim)
    name = world.pick("push-tracking")
    plan = world.dry_run("push-tracking", name)
    before = world.calls("push-tracking")
    for actor in (AGENT, LEAD):
        with pytest.raises(PermissionDenied):
            world.execute(plan, actor=actor)
    with pytest.raises(PermissionDenied):
        world.dry_run("push-tracking", name, actor=LEAD)
    assert world.calls("push-tracking") == before and fix_rows(sqlite_engine) == []
    denied = [(a.actor, a.action) for a in audit_rows(sqlite_engine) if a.outcome == "denied"]
    assert denied == [("ann", "fix.execute"), ("lee", "fix.execute"), ("lee", "fix.dry_run")]


def test_the_order_name_must_be_typed(sqlite_engine: Engine, sim: Sim) -> None:
    world = World(sqlite_engine, sim)
    plan = world.dry_run("send-to-3pl", world.pick("send-to-3pl"))
    before = world.calls("send-to-3pl")
    with pytest.raises(InputError, match="Type the order name"):
        world.execute(plan, confirmation="yes", actor=ADMIN)
    assert world.calls("send-to-3pl") == before and fix_rows(sqlite_engine) == []


def test_a_target_that_changed_since_the_preview_is_refused_with_the_reason(
    sqlite_engine: Engine, sim: Sim
) -> None:
    """The 3PL got the order meanwhile (another channel sent it): nothing is sent, the check says why."""
    world = World(sqlite_engine, sim)
    name = world.pick("send-to-3pl")
    plan = world.dry_run("send-to-3pl", name)
    assert plan.request is not None and plan.request.body is not None
    body = dict(plan.request.body, tags=[])
    reply = sim.http.post(
        f"{world.settings.shipbob_api_url}/2026-07/order",
        json=body,
        headers={"Authorization": f"Bearer {world.settings.shipbob_token}", "shipbob_channel_id": "100102"},
    )
    assert reply.status_code == 201, reply.text
    before = world.calls("send-to-3pl")
    with pytest.raises(ActionBlocked, match=r"\[fix.at_3pl\] The 3PL has order"):
        world.execute(plan)
    assert world.calls("send-to-3pl") == before and fix_rows(sqlite_engine) == []
    [entry] = audit_rows(sqlite_engine, "fix.execute")
    assert entry.outcome == "blocked"


def test_a_stale_fingerprint_is_refused(sqlite_engine: Engine, sim: Sim) -> None:
    world = World(sqlite_engine, sim)
    plan = world.dry_run("cancel-at-3pl", world.pick("cancel-at-3pl"))
    before = world.calls("cancel-at-3pl")
    with pytest.raises(StalePlanError, match="changed since the preview"):
        world.execute(plan, fingerprint="0" * 64)
    assert world.calls("cancel-at-3pl") == before and fix_rows(sqlite_engine) == []


def test_the_stores_user_errors_are_shown_verbatim(sqlite_engine: Engine, sim: Sim) -> None:
    """The fulfillment order closed between our read and the call: the store's userErrors are the message."""
    world = World(sqlite_engine, sim)
    name = world.pick("fulfill-in-store")
    plan = world.dry_run("fulfill-in-store", name)
    assert plan.request is not None and plan.request.body is not None
    first = sim.http.post(
        f"{world.settings.shopify_shop_url}/admin/api/2026-10/graphql.json",
        json=plan.request.body,
        headers={"X-Shopify-Access-Token": world.settings.shopify_access_token or ""},
    )
    assert first.json()["data"]["fulfillmentCreate"]["userErrors"] == [], first.text
    from services.fixes.fulfill_in_store import FIX
    from services.sources.shopify.mutations import MutationRefused

    with pytest.raises(MutationRefused) as refused:
        FIX.send(world.settings, plan.request, None)
    assert "unfulfillable status= closed" in str(refused.value)


def test_a_sources_words_are_shown_without_the_sources_secrets(sim: Sim) -> None:
    from services.fixes.base import strip_secrets

    settings = sim.settings()
    token = settings.shipbob_token or ""
    said = f'{{"message": "token {token} may not cancel order 1"}}'
    assert strip_secrets(said, settings) == '{"message": "token [secret] may not cancel order 1"}'


class LostReply(httpx.BaseTransport):
    """Everything goes to the simulator; the fix's own call reaches it (`forward`) or not, then times out."""

    def __init__(self, forward: bool) -> None:
        self.inner, self.forward = httpx.HTTPTransport(), forward

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith(":cancel"):
            if self.forward:
                self.inner.handle_request(request).read()
            raise httpx.ReadTimeout("timed out waiting for the reply", request=request)
        return self.inner.handle_request(request)


@pytest.mark.parametrize("forward", [True, False])
def test_an_unknown_outcome_is_settled_by_reading_the_target_back(
    sqlite_engine: Engine, sim: Sim, forward: bool
) -> None:
    world = World(sqlite_engine, sim)
    plan = world.dry_run("cancel-at-3pl", world.pick("cancel-at-3pl"))
    before = world.calls("cancel-at-3pl")
    if forward:
        result = world.execute(plan, transport=LostReply(forward=True))
        assert (result.record.status, result.record.resolution) == ("done", "found_after_unknown_outcome")
    else:
        with pytest.raises(SourceError):
            world.execute(plan, transport=LostReply(forward=False))
        [row] = fix_rows(sqlite_engine)
        assert row.status == "failed"
        assert world.execute(plan).record.status == "done"  # the failed reservation is taken again
    assert world.calls("cancel-at-3pl") - before == 1  # never sent twice


def test_without_the_target_configured_nothing_is_claimed(sqlite_engine: Engine, sim: Sim) -> None:
    world = World(sqlite_engine, sim)
    plan = world.dry_run("push-tracking", world.pick("push-tracking"))
    world.settings = world.settings.model_copy(update={"shopify_access_token": None})
    with pytest.raises(ConfigurationError, match="SHOPIFY_ACCESS_TOKEN is not set"):
        world.execute(plan)
    assert fix_rows(sqlite_engine) == []
    assert [a.outcome for a in audit_rows(sqlite_engine, "fix.execute")] == ["failed"]
