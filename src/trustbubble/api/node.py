"""What every request handler reaches: the settings, the store and the authenticator."""

from __future__ import annotations

from dataclasses import dataclass

from trustbubble.api.live import Hub
from trustbubble.domain.federation import NodeKey
from trustbubble.services.accounts import Authenticator
from trustbubble.settings import Settings
from trustbubble.store.database import Database


@dataclass(frozen=True, slots=True)
class Node:
    settings: Settings
    db: Database
    authenticator: Authenticator
    hub: Hub  # the live exercise sessions followed in this process
    key: NodeKey  # signs what this node sends its peers (docs/federation.md)
