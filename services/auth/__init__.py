"""Users, passwords and sign-in throttling, all in the database.

Passwords are stored as bcrypt hashes only; `verify_password` checks one (the sign-in form, the CLI).

Throttle: after 5 consecutive failed sign-ins for a username, sign-in is refused for 30 s, doubling with
each further failure and capped at 15 minutes; a success resets it. Counters live in `login_throttle`,
keyed by username whether or not the user exists, so the throttle does not reveal which usernames exist.

Modules: `credentials` (validation, hashing), `users` (reading), `admin` (changing, demo users),
`sign_in` (password checks, throttle). Import from this package.
"""

from services.auth.admin import (
    DEMO_USERNAMES,
    create_user,
    ensure_demo_users,
    reset_password,
    set_disabled,
    set_role,
)
from services.auth.credentials import MIN_PASSWORD_LENGTH
from services.auth.sign_in import (
    FREE_FAILURES,
    GENERIC_FAILURE,
    check_login_allowed,
    lock_seconds,
    verify_password,
)
from services.auth.users import (
    UserInfo,
    actor_for_email,
    get_active_user,
    list_users,
    role_for_email,
)

__all__ = [
    "DEMO_USERNAMES",
    "FREE_FAILURES",
    "GENERIC_FAILURE",
    "MIN_PASSWORD_LENGTH",
    "UserInfo",
    "actor_for_email",
    "check_login_allowed",
    "create_user",
    "ensure_demo_users",
    "get_active_user",
    "list_users",
    "lock_seconds",
    "reset_password",
    "role_for_email",
    "set_disabled",
    "set_role",
    "verify_password",
]
