"""`order-recon webhooks subscribe --url BASE`: register `BASE/shopify`, `BASE/shipbob`, `BASE/easypost`
at the three services, each through its connector's `subscribe_webhooks(url, topics)`, which lists what
is registered first, so running it again changes nothing.

A source whose credentials are not set, or whose call fails, is reported and the others still run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.errors import InputError, OrderReconError
from services.settings import Settings
from services.webhooks.deliveries import EASYPOST_TOPICS, SHIPBOB_TOPICS, TOPICS


@dataclass(frozen=True)
class SubscriptionResult:
    source: str
    url: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.source:<9} {'ok' if self.ok else 'FAILED':<6} {self.url}  {self.detail}"


def _client(source: str, settings: Settings) -> Any:
    # Imported here: each connector pulls in its HTTP stack.
    if source == "shopify":
        from services.sources.shopify.client import ShopifyClient

        return ShopifyClient(settings)
    if source == "shipbob":
        from services.sources.shipbob.client import ShipBobClient

        return ShipBobClient(settings)
    from services.sources.easypost.client import EasyPostClient

    return EasyPostClient(settings)


def _topics(source: str) -> list[str]:
    if source == "shipbob":
        return sorted(SHIPBOB_TOPICS)
    if source == "easypost":
        return sorted(EASYPOST_TOPICS)
    return sorted(TOPICS["shopify"])


def subscribe_all(settings: Settings, base_url: str) -> list[SubscriptionResult]:
    """Register the receiver at each service; one result per source, in order."""
    base = base_url.rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise InputError(f"--url {base_url!r} is not an http(s) URL")
    results = []
    for source in ("shopify", "shipbob", "easypost"):
        url = f"{base}/{source}"
        try:
            settings.source_credentials(source)
            client = _client(source, settings)
            with client:
                if source == "shopify":  # Shopify signs with the app's secret, not one per subscription
                    answer = client.subscribe_webhooks(url, _topics(source))
                else:  # ShipBob and EasyPost take the signing secret with the subscription
                    secret = getattr(settings, f"{source}_webhook_secret") or None
                    answer = client.subscribe_webhooks(url, _topics(source), secret=secret)
            results.append(SubscriptionResult(source, url, True, _describe(answer)))
        except OrderReconError as exc:
            results.append(SubscriptionResult(source, url, False, str(exc)))
    return results


def _describe(answer: Any) -> str:
    created = getattr(answer, "created", None)
    ident = getattr(answer, "id", None)
    if created is not None and ident is not None:
        return f"{'registered' if created else 'already registered'} ({ident})"
    return str(answer) if answer is not None else "registered"
