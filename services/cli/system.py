"""Who runs a CLI command: the `system` actor, with the operating-system user named in the audit entry."""

from __future__ import annotations

import getpass
import os

from services.permissions import SYSTEM_ACTOR, Actor, Role

__all__ = ["SYSTEM_ACTOR", "os_user", "system_actor", "system_params"]


def os_user() -> str:
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid:{os.getuid()}"


def system_params() -> dict[str, str]:
    """What every `system` audit entry carries about who ran it."""
    return {"os_user": os_user()}


def system_actor() -> Actor:
    """The command line acts as the `system` actor (an admin), naming the OS user in its audit entries."""
    return Actor(SYSTEM_ACTOR, Role.ADMIN, "command line", os_user=os_user())
