"""The three vendors' webhook signatures, checked on the raw body before anything is parsed.

- Shopify: `X-Shopify-Hmac-SHA256` = base64(HMAC-SHA256(secret, body)).
- EasyPost: `X-Hmac-Signature: hmac-sha256-hex=<hex>` = HMAC-SHA256(NFKD(secret), body) in hex.
- ShipBob (2026-07, Standard Webhooks): `webhook-signature` holds space-separated `v1,<base64>` values of
  HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"), the key being the base64-decoded part of
  the `whsec_…` secret; `webhook-timestamp` (Unix seconds) must be within five minutes of now, so a
  captured delivery cannot be replayed later.

Every comparison is constant-time (`hmac.compare_digest`). The `sign_*` functions build the same headers:
the simulator signs with them, so what it sends and what the receiver accepts are one definition.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import unicodedata
from collections.abc import Mapping

SHIPBOB_TOLERANCE_S = 300
EASYPOST_PREFIX = "hmac-sha256-hex="


class SignatureError(Exception):
    """The delivery's signature is missing or does not match: the reason, for the log (not the sender)."""


def _digest(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


# ---------------------------------------------------------------- Shopify


def sign_shopify(secret: str, body: bytes) -> str:
    return base64.b64encode(_digest(secret.encode(), body)).decode()


def verify_shopify(secret: str, body: bytes, headers: Mapping[str, str]) -> None:
    given = headers.get("x-shopify-hmac-sha256")
    if not given:
        raise SignatureError("no X-Shopify-Hmac-SHA256 header")
    if not hmac.compare_digest(given.strip().encode(), sign_shopify(secret, body).encode()):
        raise SignatureError("X-Shopify-Hmac-SHA256 does not match the body")


# ---------------------------------------------------------------- EasyPost


def _easypost_key(secret: str) -> bytes:
    return unicodedata.normalize("NFKD", secret).encode()


def sign_easypost(secret: str, body: bytes) -> str:
    return EASYPOST_PREFIX + hmac.new(_easypost_key(secret), body, hashlib.sha256).hexdigest()


def verify_easypost(secret: str, body: bytes, headers: Mapping[str, str]) -> None:
    given = headers.get("x-hmac-signature")
    if not given:
        raise SignatureError("no X-Hmac-Signature header")
    if not hmac.compare_digest(given.strip().encode(), sign_easypost(secret, body).encode()):
        raise SignatureError("X-Hmac-Signature does not match the body")


# ---------------------------------------------------------------- ShipBob


def shipbob_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (a secret without the prefix is read as the base64 part)."""
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("SHIPBOB_WEBHOOK_SECRET is not a whsec_<base64> secret") from None


def sign_shipbob(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(_digest(shipbob_key(secret), signed)).decode()


def verify_shipbob(secret: str, body: bytes, headers: Mapping[str, str], *, now: float) -> None:
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    given = headers.get("webhook-signature")
    if not webhook_id or not timestamp or not given:
        raise SignatureError("webhook-id, webhook-timestamp and webhook-signature are all required")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("webhook-timestamp is not Unix seconds")
    if abs(now - int(timestamp)) > SHIPBOB_TOLERANCE_S:
        raise SignatureError("webhook-timestamp is more than five minutes from now")
    expected = sign_shipbob(secret, webhook_id, int(timestamp), body).encode()
    # Several signatures may be listed (a secret being rotated); any one matching is enough. Each is
    # compared in full, without stopping early, so the time taken says nothing about which one failed.
    matched = False
    for candidate in given.split():
        matched |= hmac.compare_digest(candidate.encode(), expected)
    if not matched:
        raise SignatureError("webhook-signature does not match the body")
