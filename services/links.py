"""Links out of the console and who may see a customer's contact details (the lookup's store panel).

"Open in Shopify" and "Open in ShipBob" are built from the configured shop and the ids; a tracking number
links to the carrier's public page (EasyPost's `public_url` first, else the carrier's own tracking page).
"""

from __future__ import annotations

from urllib.parse import quote

from services.permissions import Role
from services.settings import Settings

# Who works with customers sees their name, email and phone; the lead's view is the numbers.
CONTACT_ROLES = frozenset({Role.AGENT, Role.OPS, Role.ADMIN})
SHIPBOB_APP = "https://web.shipbob.com/app/merchant/#/orders/{id}/overview"
CARRIER_PAGES = {
    "ups": "https://www.ups.com/track?tracknum={code}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={code}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={code}",
    "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={code}",
    "dhlexpress": "https://www.dhl.com/en/express/tracking.html?AWB={code}",
    "ontrac": "https://www.ontrac.com/tracking/?number={code}",
}


def may_see_contact(role: Role | str) -> bool:
    return str(role) in {str(r) for r in CONTACT_ROLES}


def shopify_order_url(settings: Settings, order_id: int) -> str | None:
    """The order in the store's admin: `{shop}/admin/orders/{id}` (None without a configured shop)."""
    shop = (settings.shopify_admin_url or settings.shopify_shop_url or "").rstrip("/")
    return f"{shop}/admin/orders/{order_id}" if shop else None


def shipbob_order_url(settings: Settings, warehouse_order_id: int) -> str:
    return (settings.shipbob_app_url or SHIPBOB_APP).format(id=warehouse_order_id)


def tracking_url(carrier: str | None, code: str, public_url: str | None = None) -> str | None:
    """The carrier's public tracking page for `code` (None for a carrier we do not know)."""
    if public_url:
        return public_url
    key = "".join(ch for ch in (carrier or "").lower() if ch.isalnum())
    page = CARRIER_PAGES.get(key)
    return page.format(code=quote(code)) if page else None
