"""Queries on organizations, users and API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Row, insert, select, update

from trustbubble.domain.accounts import ApiToken, Organization, OrgKind, User, UserRole
from trustbubble.store.tables import api_tokens, organizations, users


def _org(row: Row[tuple[object, ...]]) -> Organization:
    m = row._mapping
    return Organization(
        id=m["id"],
        name=m["name"],
        kind=OrgKind(m["kind"]),
        country=m["country"],
        parent_id=m["parent_id"],
        identity_id=m["identity_id"],
        created=m["created"],
        node_id=m["node_id"],
    )


def _user(row: Row[tuple[object, ...]]) -> User:
    m = row._mapping
    return User(
        id=m["id"],
        email=m["email"],
        org_id=m["org_id"],
        role=UserRole(m["role"]),
        identity_id=m["identity_id"],
        created=m["created"],
    )


def insert_org(conn: Connection, org: Organization) -> None:
    conn.execute(
        insert(organizations).values(
            id=org.id,
            name=org.name,
            kind=org.kind.value,
            country=org.country,
            parent_id=org.parent_id,
            identity_id=org.identity_id,
            created=org.created,
            node_id=org.node_id,
        )
    )


def org_by_name(conn: Connection, name: str) -> Organization | None:
    row = conn.execute(select(organizations).where(organizations.c.name == name)).first()
    return _org(row) if row else None


def org_by_id(conn: Connection, org_id: str) -> Organization | None:
    row = conn.execute(select(organizations).where(organizations.c.id == org_id)).first()
    return _org(row) if row else None


def all_orgs(conn: Connection) -> list[Organization]:
    return [_org(row) for row in conn.execute(select(organizations).order_by(organizations.c.name))]


def orgs_where(conn: Connection, *where: ColumnElement[bool]) -> list[Organization]:
    rows = conn.execute(select(organizations).where(*where).order_by(organizations.c.name))
    return [_org(row) for row in rows]


def org_chain(conn: Connection, org_id: str) -> tuple[str, ...]:
    """The organization and its ancestors, nearest first. Cycles cannot be stored, but are cut."""
    chain: list[str] = []
    current: str | None = org_id
    while current is not None and current not in chain:
        chain.append(current)
        current = conn.execute(
            select(organizations.c.parent_id).where(organizations.c.id == current)
        ).scalar_one_or_none()
    return tuple(chain)


def insert_user(conn: Connection, user: User, password_hash: str) -> None:
    conn.execute(
        insert(users).values(
            id=user.id,
            email=user.email,
            org_id=user.org_id,
            role=user.role.value,
            password_hash=password_hash,
            identity_id=user.identity_id,
            created=user.created,
        )
    )


def user_by_email(conn: Connection, email: str) -> tuple[User, str] | None:
    """The user and their password hash."""
    row = conn.execute(select(users).where(users.c.email == email)).first()
    return (_user(row), row.password_hash) if row else None


def user_by_id(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _user(row) if row else None


def set_password_hash(conn: Connection, user_id: str, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def _token(row: Row[tuple[object, ...]]) -> ApiToken:
    m = row._mapping
    return ApiToken(
        id=m["id"],
        user_id=m["user_id"],
        name=m["name"],
        prefix=m["prefix"],
        created=m["created"],
        last_used=m["last_used"],
        revoked=m["revoked"],
        expires=m["expires"],
    )


def insert_token(conn: Connection, token: ApiToken, token_hash: str) -> None:
    conn.execute(
        insert(api_tokens).values(
            id=token.id,
            user_id=token.user_id,
            name=token.name,
            token_hash=token_hash,
            prefix=token.prefix,
            created=token.created,
            expires=token.expires,
        )
    )


def token_by_hash(conn: Connection, token_hash: str) -> ApiToken | None:
    row = conn.execute(select(api_tokens).where(api_tokens.c.token_hash == token_hash)).first()
    return _token(row) if row else None


def tokens_of(conn: Connection, user_id: str) -> list[ApiToken]:
    rows = conn.execute(
        select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.created)
    )
    return [_token(row) for row in rows]


def mark_token_used(conn: Connection, token_id: str, at: datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used=at))


def revoke_token(conn: Connection, token_id: str, at: datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked=at))


def users_of(conn: Connection, org_ids: Sequence[str], roles: Sequence[UserRole]) -> list[User]:
    """The users of these organizations who hold one of these roles."""
    if not org_ids:
        return []
    rows = conn.execute(
        select(users)
        .where(users.c.org_id.in_(org_ids), users.c.role.in_([r.value for r in roles]))
        .order_by(users.c.email)
    )
    return [_user(row) for row in rows]
