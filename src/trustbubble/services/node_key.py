"""The node's Ed25519 key: made once, kept in a file only its owner reads (docs/federation.md)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from trustbubble.domain.federation import NodeKey
from trustbubble.settings import Settings
from trustbubble.store.database import normalize_url


class NodeKeyError(Exception):
    """The key file cannot be read: wrong passphrase, not a key, unreadable."""


def key_path(settings: Settings) -> Path:
    if settings.node_key:
        return Path(settings.node_key)
    url = make_url(normalize_url(settings.database_url))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).with_name("node.key")
    return Path("var") / "node.key"


def _passphrase(settings: Settings) -> bytes | None:
    secret = settings.node_key_passphrase
    return secret.get_secret_value().encode() if secret else None


def load(settings: Settings, *, create: bool = True) -> NodeKey:
    """The node's key from its file, made (mode 0600) when there is none and `create` allows."""
    path = key_path(settings)
    if path.exists():
        try:
            return NodeKey.from_pem(path.read_bytes(), _passphrase(settings))
        except (ValueError, TypeError) as error:
            raise NodeKeyError(f"{path}: cannot read the node key ({error})") from None
    if not create:
        raise NodeKeyError(f"{path}: no node key; `trustbubble db upgrade` makes one")
    key = NodeKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a private temporary file, then renamed: never readable by others, never half.
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key.to_pem(_passphrase(settings)))
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(temporary, path)  # fails if another process made one meanwhile: keep theirs
    except FileExistsError:
        temporary.unlink()
        return load(settings, create=False)
    temporary.unlink()
    return key
