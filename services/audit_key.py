"""The audit log's key: `AUDIT_KEY` from the environment or `.streamlit/secrets.toml`, never the database.

Entries are chained with HMAC-SHA256 under this key, so a database login alone (the application's own
role included) cannot write an entry, recompute the chain after a deletion or sign a head. Outside demo
mode the key is required; in demo mode without one a fixed, public demo key is used (the demo's log is
then only as good as a plain hash chain — `make run` writes a random key to its secrets file).

Keys are checked like `COOKIE_KEY`: at least 32 characters and not obviously low in entropy.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from collections import Counter

from services.errors import ConfigurationError

log = logging.getLogger(__name__)

MIN_KEY_CHARS = 32
MIN_BITS_PER_CHAR = 3.0  # Shannon estimate; token_urlsafe(32) gives ~5, "a"*32 gives 0
DEMO_KEY = b"order-recon demo audit key: public, for the demo only"
GENERATE_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"

_override: bytes | None = None


def entropy_bits_per_char(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values()) if text else 0.0


def check_random_key(name: str, value: str) -> str:
    """`value` when it looks like 32+ random characters; else ConfigurationError naming `name`."""
    if len(value) < MIN_KEY_CHARS:
        raise ConfigurationError(
            f"{name} must be at least {MIN_KEY_CHARS} random characters; {GENERATE_HINT}", setting=name
        )
    if entropy_bits_per_char(value) < MIN_BITS_PER_CHAR or len(set(value)) < MIN_KEY_CHARS // 2:
        raise ConfigurationError(
            f"{name} looks low in entropy (repeated or patterned characters); {GENERATE_HINT}", setting=name
        )
    return value


def use_key(key: bytes | None) -> None:
    """Set the key for this process (tools and tests); None goes back to the settings."""
    global _override
    _override = key


def current_key() -> bytes:
    """The key appends and verification use now. Raises ConfigurationError when none is configured."""
    if _override is not None:
        return _override
    from services.settings import get_settings

    settings = get_settings()
    if settings.audit_key:
        return check_random_key("AUDIT_KEY", settings.audit_key).encode("utf-8")
    if settings.demo_mode:
        return DEMO_KEY
    raise ConfigurationError(
        f"AUDIT_KEY is not set: the audit log cannot be written outside demo mode; {GENERATE_HINT}",
        setting="AUDIT_KEY",
    )


def mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A short public name of the key: tells "another key" apart from "changed entries"."""
    return mac(key, "order-recon audit key id")[:16]


def same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)
