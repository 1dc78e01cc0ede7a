"""Passwords (argon2, slow on purpose) and API tokens (long, random, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from trustbubble.domain.passwords import normalize

TOKEN_PREFIX = "tb_"  # noqa: S105 (a marker, not a secret)

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(normalize(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches, compared in its NFKC form; a hash stored before passwords
    were normalized matches the password as it was typed."""
    typed = normalize(password)
    candidates = [typed] if typed == password else [typed, password]
    return any(_matches(password_hash, candidate) for candidate in candidates)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


def new_password() -> str:
    """A generated password a person can type: 4 groups of 5 letters and digits."""
    alphabet = "abcdefghijkmnopqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(secret: str) -> bool:
    return secret.startswith(TOKEN_PREFIX) and len(secret) > 40
