"""Webhooks from Shopify, ShipBob and EasyPost: verify, store, reply, then apply (never imports streamlit).

Public API (everything else in this package is internal):

    create_app(engine, settings, policy, *, clock=None, apply=True, poll_s=1.0) -> Starlette
    apply_due(engine, settings, policy, *, clock=...) -> int        apply what is due now
    last_events(conn) -> dict[source, datetime | None]             the console's "last webhook"
    event_counts(conn) -> dict[source, dict[status, int]]
    subscribe_all(settings, url) -> list[SubscriptionResult]       `order-recon webhooks subscribe`

    signatures.sign_* / verify_*                                   the three vendors' signatures
    apply.write_records(conn, policy, now, ...)                    the one write + reclassify step

Flow: `app` (verify the raw body, store unique by (source, event id), reply 200) → `worker` (applies
after the reply, retries with backoff, picks up what a crashed process stored) → `apply` (the sources'
readers, newest wins, write and reclassify; or a per-order refresh).
"""

from services.webhooks.events import event_counts, last_events

__all__ = ["event_counts", "last_events"]
