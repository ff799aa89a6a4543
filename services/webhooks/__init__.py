"""Webhooks from Shopify, ShipBob and EasyPost: verify, store, reply, then apply (never imports streamlit).

Public API (everything else in this package is internal):

    last_events(conn) -> dict[source, datetime | None]             the console's "last webhook"
    event_counts(conn) -> dict[source, dict[status, int]]
    app.create_app(engine, settings, policy, *, clock=None, apply=True, poll_s=1.0) -> Starlette
    serve.start_receiver(engine, settings, policy, *, host, port) -> RunningReceiver   (a thread)
    worker.apply_due(engine, settings, policy, *, clock=...) -> int   apply what is due now
    subscribe.subscribe_all(settings, url) -> list[SubscriptionResult]  `webhooks subscribe`
    signatures.sign_* / verify_*                                   the three vendors' signatures
    apply.write_records(conn, policy, now, ...)                    the one write + reclassify step

Flow: `app` (verify the raw body, read it strictly (`deliveries`), store unique by (source, event id)
(`events`), reply 200) → `worker` (applies after the reply, retries with backoff, picks up what a
crashed process stored) → `apply` (`readers`: the sources' own readers; newest wins; write and
reclassify in one transaction per batch; or a per-order refresh).
"""

from services.webhooks.events import event_counts, last_events

__all__ = ["event_counts", "last_events"]
