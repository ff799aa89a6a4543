"""The exception tree of order-recon. Pages and the CLI catch `OrderReconError` once.

OrderReconError
├── InputError                 bad input from a person or a file (CLI exit 2)
│   ├── SnapshotError          a snapshot file or record is not in the expected shape
│   ├── PolicyError            (checks.policy.PolicyError is re-exported here)
│   └── ConfigurationError     a missing or invalid setting, named
│       └── PolicyNotApplied   stored classifications follow another SLA policy (run `order-recon policy apply`)
├── NotFoundError              the order (or user, or entry) does not exist
├── PermissionDenied           the role may not do this (always audited)
├── AuthenticationError        sign-in refused or throttled
├── ConflictError              someone else holds it / it changed underneath
│   └── StalePlanError         a replacement plan no longer matches the live data
├── ActionBlocked              a validation check blocks the action
├── DatabaseError              the database is locked, read-only, deadlocked or unreachable (CLI exit 1)
├── SourceError                a call to Shopify, ShipBob or EasyPost failed
│   ├── SourceAuthError        401/403: wrong or missing credential
│   ├── SourceRateLimited      429 after the allowed waits
│   ├── SourceUnavailable      5xx, timeout or connection failure after retries
│   └── SourceProtocolError    malformed or truncated response
├── SummaryError               the model call failed (callers fall back)
└── DeliveryError              a digest or report could not be handed to Slack or the mail server
"""

from __future__ import annotations

from typing import Any

from checks.policy import PolicyError as _PolicyError


class OrderReconError(Exception):
    """Base of every error the product raises on purpose. `str()` is a one-line message for people."""


class InputError(OrderReconError):
    pass


class SnapshotError(InputError):
    def __init__(
        self, message: str, *, file: str | None = None, record: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.file, self.record, self.field = file, record, field


class PolicyError(InputError, _PolicyError):
    pass


class ConfigurationError(InputError):
    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class PolicyNotApplied(ConfigurationError):
    pass


class NotFoundError(OrderReconError):
    pass


class PermissionDenied(OrderReconError):
    def __init__(
        self, message: str, *, actor: str | None = None, role: str | None = None, action: str | None = None
    ) -> None:
        super().__init__(message)
        self.actor, self.role, self.action = actor, role, action


class AuthenticationError(OrderReconError):
    pass


class ConflictError(OrderReconError):
    pass


class StalePlanError(ConflictError):
    pass


class ActionBlocked(OrderReconError):
    def __init__(self, message: str, *, results: Any = None) -> None:
        super().__init__(message)
        self.results = results


class DatabaseError(OrderReconError):
    """The database refused or gave up on a statement; `services.database_errors` words it."""


class SourceError(OrderReconError):
    """A call to an external system failed; says which source, which call and what status."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        call: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{source} {call}: {message}" + (f" (HTTP {status})" if status else ""))
        self.message = message
        self.source, self.call, self.status, self.retry_after = source, call, status, retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its parts, not its text, when it crosses a process boundary (pickled).
        parts = {
            "source": self.source,
            "call": self.call,
            "status": self.status,
            "retry_after": self.retry_after,
        }
        return (_source_error, (type(self), self.message, parts))


class SourceAuthError(SourceError):
    pass


class SourceRateLimited(SourceError):
    pass


class SourceUnavailable(SourceError):
    pass


class SourceProtocolError(SourceError):
    pass


class SummaryError(OrderReconError):
    pass


def _source_error(kind: type[SourceError], message: str, parts: dict[str, Any]) -> SourceError:
    return kind(message, **parts)


class DeliveryError(OrderReconError):
    """A message could not be delivered; `channel` names where it was going (retried on the next run)."""

    def __init__(self, message: str, *, channel: str) -> None:
        super().__init__(message)
        self.channel = channel
