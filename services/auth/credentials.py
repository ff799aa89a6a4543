"""Usernames, passwords, emails and roles as people type them, and bcrypt hashing."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

import bcrypt

from services.errors import InputError
from services.permissions import Role

BCRYPT_ROUNDS = 12  # tests lower this; ~0.25 s per hash at 12
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores everything after 72 bytes: refuse rather than truncate silently

_USERNAME = re.compile(r"[a-z0-9_.-]{2,64}")


def normal_username(username: str) -> str | None:
    name = username.strip().lower()
    return name if _USERNAME.fullmatch(name) else None


def valid_username(username: str) -> str:
    name = normal_username(username)
    if name is None:
        raise InputError(f"Usernames are 2–64 characters of a–z, 0–9, '_', '.', '-': {username[:70]!r}.")
    return name


def valid_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise InputError(f"Passwords may be at most {MAX_PASSWORD_BYTES} bytes long.")
    return password


def valid_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip().lower()
    if len(email) > 320 or not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
        raise InputError(f"Not an email address: {email[:80]!r}.")
    return email


def valid_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InputError(f"Unknown role {role!r}; roles are {', '.join(Role)}.") from None


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def password_matches(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:  # a malformed stored hash matches nothing
        return False
