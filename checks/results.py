"""Check results: small immutable values that tests compare with `==` (SPEC §5)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    PASS = "pass"
    INFO = "info"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class CheckResult:
    code: str
    level: Level
    message: str
    hint: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "level": self.level.value, "message": self.message}


def is_actionable(results: tuple[CheckResult, ...] | list[CheckResult]) -> bool:
    """The action is possible only when no result is blocked."""
    return all(r.level is not Level.BLOCKED for r in results)
