"""The schema, as SQLAlchemy Core tables. Migrations in `migrations/` create exactly this."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which stores text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = UtcDateTime

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("country", String(2), nullable=False),
    Column("parent_id", String(36), ForeignKey("organizations.id"), nullable=True),
    Column("identity_id", String(60), nullable=False, unique=True),
    Column("created", Timestamp(), nullable=False),
    # The node that hosts it; NULL for this node (docs/federation.md).
    Column("node_id", String(60), nullable=True, index=True),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("role", String(10), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("identity_id", String(60), nullable=False, unique=True),
    Column("created", Timestamp(), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    # SHA-256 of the token: tokens are long and random, so a fast hash is enough (DESIGN.md).
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("created", Timestamp(), nullable=False),
    Column("last_used", Timestamp(), nullable=True),
    Column("revoked", Timestamp(), nullable=True),
    # When it stops working; NULL for a token made to last (or made before tokens expired).
    Column("expires", Timestamp(), nullable=True),
)

# Browser sessions of the web UI. Like API tokens, only the SHA-256 of the cookie is stored.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created", Timestamp(), nullable=False),
    Column("last_used", Timestamp(), nullable=False),
)

# Failed password checks in the last minutes, per e-mail and per client address, shared by every
# worker process, so that every way in by password (the web form, HTTP Basic) slows guessing.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False),
    Column("at", Timestamp(), nullable=False),
    Index(None, "key", "at"),
)

bubbles = Table(
    "bubbles",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("charter", Text, nullable=False),
    Column("default_tlp", SmallInteger, nullable=False),
    Column("created", Timestamp(), nullable=False),
    # The charter's targets for answering requests for assistance, in hours.
    Column("ack_target_hours", Integer, nullable=False, server_default=text("24")),
    Column("resolve_target_hours", Integer, nullable=False, server_default=text("336")),
    # The node of its owner, where its membership is decided; NULL for this node.
    Column("home_node", String(60), nullable=True),
)

memberships = Table(
    "memberships",
    metadata,
    Column("bubble_id", String(36), ForeignKey("bubbles.id"), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), primary_key=True, index=True),
    Column("role", String(10), nullable=False),
    Column("state", String(10), nullable=False),
    Column("invited", Timestamp(), nullable=False),
    Column("responded", Timestamp(), nullable=True),
)

# One row per stored version of a STIX object in a collection. `added` is the TAXII date_added in
# microseconds since the epoch; it is unique on the node, assigned under the write lock, and so
# doubles as the keyset for pagination.
objects = Table(
    "objects",
    metadata,
    # On SQLite an INTEGER primary key is the rowid itself: one B-tree fewer on every insert.
    Column(
        "added",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("collection_id", String(36), nullable=False),
    Column("id", String(300), nullable=False),
    Column("type", String(250), nullable=False),
    Column("spec_version", String(8), nullable=False),
    # modified, else created, in microseconds; 0 for objects that have neither (most SCOs).
    Column("version", BigInteger, nullable=False),
    Column("tlp", SmallInteger, nullable=False),
    Column("author_org_id", String(36), nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("body", LargeBinary, nullable=False),
    # The node it was written on, when another (the body then carries its signed provenance).
    Column("origin_node", String(60), nullable=True),
    UniqueConstraint("collection_id", "id", "version"),
    Index(None, "collection_id", "added"),
    Index(None, "collection_id", "type", "added"),
    # The public collection reads CLEAR versions of every bubble in date_added order.
    Index(
        "ix_objects_clear_added",
        "added",
        sqlite_where=text("tlp = 0"),
        postgresql_where=text("tlp = 0"),
    ),
)


# The key of a stored version, for the tables that describe one: rows go when it goes.
def _version_key(primary_key: bool = False) -> Column[int]:
    return Column(
        "object_added",
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("objects.added", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


# What the incident list and the observatory count, one row per stored incident version, read
# from our incident extension (or, for a plain STIX incident, from what it has). The columns the
# access policy needs are copied from the version's `objects` row and kept in step with it, so
# the charts read this narrow table alone; readers still reach it only through `readable()`.
incident_facts = Table(
    "incident_facts",
    metadata,
    _version_key(primary_key=True),
    Column("collection_id", String(36), nullable=False),
    Column("stix_id", String(300), nullable=False),
    Column("tlp", SmallInteger, nullable=False),
    Column("author_org_id", String(36), nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("started", BigInteger, nullable=False),  # microseconds since the epoch
    Column("month", String(7), nullable=False),  # YYYY-MM of started, for the charts
    Column("status", String(12), nullable=True),
    Column("country", String(2), nullable=True),
    Column("attack_type", String(20), nullable=True),
    Column("patients_affected", BigInteger, nullable=False),
    Column("services_disrupted", BigInteger, nullable=False),
    Column("care_delayed", Boolean, nullable=False),
    Column("care_diverted", Boolean, nullable=False),
    Column("records_exposed", BigInteger, nullable=False),
    Column("downtime_hours", Float, nullable=False),
    Column("norms", String(11), nullable=False),  # the letters, as "gh"
    Index(None, "started"),
    Index(None, "collection_id", "is_latest"),
)

incident_sectors = Table(
    "incident_sectors",
    metadata,
    _version_key(primary_key=True),
    Column("sector", String(40), primary_key=True),
)

# Observable values held by stored versions (domain/observables.py), for correlation.
observables = Table(
    "observables",
    metadata,
    _version_key(),
    Column("kind", String(20), nullable=False),
    Column("value", String(2048), nullable=False),
    Index(None, "value"),
    Index(None, "object_added"),
)

# The recipients named on RED objects (our property extension), one row per identity.
red_recipients = Table(
    "red_recipients",
    metadata,
    Column(
        "object_added",
        BigInteger,
        ForeignKey("objects.added", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("identity_id", String(60), primary_key=True, index=True),
)

statuses = Table(
    "statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("collection_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("created", Timestamp(), nullable=False),
    Column("total_count", Integer, nullable=False),
    Column("success_count", Integer, nullable=False),
    Column("failure_count", Integer, nullable=False),
    # orjson-encoded lists of TAXII status details.
    Column("successes", LargeBinary, nullable=False),
    Column("failures", LargeBinary, nullable=False),
)

# Append-only and hash-chained: each row's hash covers its content and the previous row's hash.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", Timestamp(), nullable=False),
    Column("actor", String(254), nullable=False),
    Column("action", String(60), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)


# Points of contact of an organization (issue 4, docs/assistance.md).
pocs = Table(
    "pocs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("kind", String(12), nullable=False),
    Column("name", String(200), nullable=False),
    Column("role", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(60), nullable=False),
    Column("languages", String(200), nullable=False),
    Column("hours", String(200), nullable=False),
    Column("time_zone", String(60), nullable=False),
    Column("updated", Timestamp(), nullable=False),
)

# Requests for assistance; the request also lives as a STIX note (`note_id`) in its bubble, and
# a reader sees the request exactly when they may read that note.
assistance_requests = Table(
    "assistance_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("bubble_id", String(36), ForeignKey("bubbles.id"), nullable=False, index=True),
    Column("note_id", String(60), nullable=False, unique=True),
    Column("requester_org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("requester_email", String(254), nullable=False),
    Column("title", String(300), nullable=False),
    Column("details", Text, nullable=False),
    Column("asked", String(200), nullable=False),  # kinds of help, comma-separated
    Column("urgency", String(10), nullable=False),
    Column("incident_id", String(60), nullable=True),
    Column("tlp", SmallInteger, nullable=False),
    Column("state", String(12), nullable=False),
    Column("created", Timestamp(), nullable=False),
    Column("resolved", Timestamp(), nullable=True),
)

assistance_recipients = Table(
    "assistance_recipients",
    metadata,
    Column("request_id", String(36), ForeignKey("assistance_requests.id"), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), primary_key=True, index=True),
    Column("answer", String(12), nullable=False),
    Column("answered", Timestamp(), nullable=True),
    Column("reason", Text, nullable=False),
)

# The history of a request: every change and every message of its thread, in order.
assistance_events = Table(
    "assistance_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "request_id", String(36), ForeignKey("assistance_requests.id"), nullable=False, index=True
    ),
    Column("at", Timestamp(), nullable=False),
    Column("org_id", String(36), nullable=False),
    Column("actor", String(254), nullable=False),
    Column("action", String(20), nullable=False),  # an Action, "raised" or "message"
    Column("text", Text, nullable=False),
    Column("attachments", Text, nullable=False),  # JSON list of STIX ids of the bubble
)

# Communication checks: a ping to every POC of a bubble, answered through a one-time link.
check_schedules = Table(
    "check_schedules",
    metadata,
    Column("bubble_id", String(36), ForeignKey("bubbles.id"), primary_key=True),
    Column("every_days", Integer, nullable=False),
    Column("next_due", Timestamp(), nullable=False),
    Column("set_by", String(254), nullable=False),
)

comm_checks = Table(
    "comm_checks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("bubble_id", String(36), ForeignKey("bubbles.id"), nullable=False, index=True),
    Column("started", Timestamp(), nullable=False),
    Column("started_by", String(254), nullable=False),
)

check_pings = Table(
    "check_pings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("check_id", String(36), ForeignKey("comm_checks.id"), nullable=False, index=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    # Copied from the POC when the check starts: the report stays true if the POC changes.
    Column("poc_name", String(200), nullable=False),
    Column("poc_email", String(254), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the link's token
    Column("answered", Timestamp(), nullable=True),
)

# In-app notifications, and the outbox of their deliveries by e-mail and webhook. A delivery is
# written in the transaction of the change that causes it and sent afterwards by the worker.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(500), nullable=False),
    Column("created", Timestamp(), nullable=False),
    Column("read", Timestamp(), nullable=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(10), nullable=False),  # email or webhook
    Column("target", String(500), nullable=False),  # an e-mail address or a webhook id
    Column("subject", String(300), nullable=False),
    Column("payload", Text, nullable=False),  # the mail's text, or the webhook's JSON
    Column("state", String(10), nullable=False),  # pending, sent, failed (gave up)
    Column("attempts", Integer, nullable=False),
    Column("next_attempt", Timestamp(), nullable=False),
    Column("last_error", Text, nullable=False),
    Column("created", Timestamp(), nullable=False),
    Column("sent", Timestamp(), nullable=True),
    Index(None, "state", "next_attempt"),
)

# Webhooks of an organization. The signing key is derived from the node's secret key and the
# webhook's id, so the store holds no secret.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("url", String(500), nullable=False),
    Column("created", Timestamp(), nullable=False),
    Column("revoked", Timestamp(), nullable=True),
)

# National implementation reports of the UN GGE norms (docs/norms.md): one row per revision of a
# country's report for a year. `entries` is the JSON of domain/norms.py `entries_json`.
norm_reports = Table(
    "norm_reports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("stix_id", String(60), nullable=False),  # one STIX report per country and year
    Column("country", String(2), nullable=False),
    Column("year", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("state", String(10), nullable=False),
    Column("visibility", String(10), nullable=False),
    Column("tlp", SmallInteger, nullable=True),  # of the shared STIX version, when submitted
    Column("catalogue_version", String(20), nullable=False),
    Column("entries", Text, nullable=False),
    Column("author_email", String(254), nullable=False),
    Column("created", Timestamp(), nullable=False),
    Column("updated", Timestamp(), nullable=False),
    Column("submitted", Timestamp(), nullable=True),
    UniqueConstraint("country", "year", "revision"),
)

# Where a submitted revision was shared: the stored STIX version in each collection. Readers other
# than the keeper reach a revision only through one of these rows and the access policy.
norm_report_shares = Table(
    "norm_report_shares",
    metadata,
    Column("report_id", String(36), ForeignKey("norm_reports.id"), primary_key=True),
    _version_key(primary_key=True),
)

# Role-play exercise sessions (docs/exercises.md). A session keeps the scenario's text as it was
# when the session was made, and its log; its state is always replay(scenario, log).
exercise_sessions = Table(
    "exercise_sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("scenario_id", String(63), nullable=False),
    Column("scenario_text", Text, nullable=False),
    Column("title", String(300), nullable=False),
    Column("facilitator_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("created", Timestamp(), nullable=False),
)

# Who plays which role: a user of the node, or a guest holding a one-time link (its hash).
exercise_players = Table(
    "exercise_players",
    metadata,
    Column("session_id", String(36), ForeignKey("exercise_sessions.id"), primary_key=True),
    Column("role_id", String(63), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=True, index=True),
    Column("guest_name", String(200), nullable=False, server_default=""),
    Column("guest_token_hash", String(64), nullable=True, unique=True),
)

exercise_log = Table(
    "exercise_log",
    metadata,
    Column("session_id", String(36), ForeignKey("exercise_sessions.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", Timestamp(), nullable=False),
    Column("actor", String(254), nullable=False),
    Column("step", String(10), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("inject", String(63), nullable=False),
    Column("decision", String(63), nullable=False),
    Column("option", String(63), nullable=False),
    Column("role", String(63), nullable=False),
)

exercise_chat = Table(
    "exercise_chat",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(36), ForeignKey("exercise_sessions.id"), nullable=False),
    Column("team", String(63), nullable=False),
    Column("author", String(254), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", Timestamp(), nullable=False),
    Index(None, "session_id", "team", "id"),
)

# What participants answered: the knowledge questions before and after play, and the debrief.
# `participant` is a user's id or a guest link's hash; `name` is shown in the report.
exercise_answers = Table(
    "exercise_answers",
    metadata,
    Column("session_id", String(36), ForeignKey("exercise_sessions.id"), primary_key=True),
    Column("participant", String(64), primary_key=True),
    Column("kind", String(10), primary_key=True),  # before, after or debrief
    Column("question", Integer, primary_key=True, autoincrement=False),
    Column("name", String(254), nullable=False),
    Column("role", String(63), nullable=False),
    Column("answer", Text, nullable=False),
    Column("at", Timestamp(), nullable=False),
)

# Consultations (docs/consultations.md): drafts and their versions, each version kept as written.
drafts = Table(
    "drafts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("created_by", String(254), nullable=False),
    Column("created", Timestamp(), nullable=False),
)

draft_versions = Table(
    "draft_versions",
    metadata,
    Column("draft_id", String(36), ForeignKey("drafts.id"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
    Column("note", Text, nullable=False),  # what changed, in the drafter's words
    Column("answers", Text, nullable=False),  # JSON list of the comment ids it answers
    Column("created_by", String(254), nullable=False),
    Column("created", Timestamp(), nullable=False),
)

# A version opened to an audience for a period. The audience's bubbles and kinds are JSON lists.
consultations = Table(
    "consultations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("draft_id", String(36), ForeignKey("drafts.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("opens", Timestamp(), nullable=False),
    Column("closes", Timestamp(), nullable=False),
    Column("closed_early", Timestamp(), nullable=True),
    Column("public", Boolean, nullable=False),
    Column("bubbles", Text, nullable=False),
    Column("kinds", Text, nullable=False),
    Column("objection_days", Integer, nullable=False),
    Column("questions", Text, nullable=False),  # JSON: [{"text", "choices"}]
    Column("created_by", String(254), nullable=False),
    Column("created", Timestamp(), nullable=False),
)

# An organization outside the audience asks to take part; `decision` is set by the drafter
# (after an objection), else it is admitted when the objection period ends.
accreditations = Table(
    "accreditations",
    metadata,
    Column("consultation_id", String(36), ForeignKey("consultations.id"), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("asked", Timestamp(), nullable=False),
    Column("asked_by", String(254), nullable=False),
    Column("decision", String(10), nullable=True),  # admitted or refused
    Column("decided", Timestamp(), nullable=True),
)

accreditation_objections = Table(
    "accreditation_objections",
    metadata,
    Column("consultation_id", String(36), ForeignKey("consultations.id"), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), primary_key=True),  # applicant
    Column("objector_id", String(36), ForeignKey("organizations.id"), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("at", Timestamp(), nullable=False),
)

consultation_comments = Table(
    "consultation_comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "consultation_id", String(36), ForeignKey("consultations.id"), nullable=False, index=True
    ),
    Column("paragraph", Integer, nullable=False),
    Column("parent_id", Integer, ForeignKey("consultation_comments.id"), nullable=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False),
    Column("author", String(254), nullable=False),
    Column("stance", String(10), nullable=False),  # empty for a reply
    Column("text", Text, nullable=False),
    Column("wording", Text, nullable=False),
    Column("norms", String(30), nullable=False),  # letters, as "g h"
    Column("incident", String(100), nullable=False),
    Column("created", Timestamp(), nullable=False),
    Column("verdict", String(20), nullable=True),
    Column("verdict_reason", Text, nullable=False, server_default=""),
    Column("hidden_reason", Text, nullable=True),
)

consultation_answers = Table(
    "consultation_answers",
    metadata,
    Column("consultation_id", String(36), ForeignKey("consultations.id"), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), primary_key=True),
    Column("question", Integer, primary_key=True, autoincrement=False),
    Column("answer", Text, nullable=False),
    Column("author", String(254), nullable=False),
    Column("at", Timestamp(), nullable=False),
)


# -- federation (docs/federation.md) --------------------------------------------------------------

# Nodes this node syncs with, pinned by their public key.
peers = Table(
    "peers",
    metadata,
    Column("id", String(60), primary_key=True),  # node--UUID, from the key
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=True),
    Column("url", String(500), nullable=False),
    Column("public_key", String(60), nullable=False, unique=True),
    # The credential the peer issued us, encrypted with a key derived from the node key.
    Column("outbound_token", LargeBinary, nullable=True),
    # The credential we issued the peer: SHA-256 only, as for API tokens.
    Column("credential_hash", String(64), nullable=True, unique=True),
    Column("credential_prefix", String(12), nullable=True),
    Column("added", Timestamp(), nullable=False),
    Column("last_seen", Timestamp(), nullable=True),
)

# Identities of a peer's people (RED recipients), mirrored with their organization.
remote_identities = Table(
    "remote_identities",
    metadata,
    Column("identity_id", String(60), primary_key=True),
    Column("org_id", String(36), ForeignKey("organizations.id"), nullable=False, index=True),
)

# A bubble shared with a peer, and the state of its sync in each direction. Cursors are the
# TAXII date_added (microseconds) of the last version moved: the peer's for pulls, ours for
# pushes; `deletions_cursor` is the last deletion record read from the peer.
bubble_peers = Table(
    "bubble_peers",
    metadata,
    Column("bubble_id", String(36), ForeignKey("bubbles.id"), primary_key=True),
    Column("peer_id", String(60), ForeignKey("peers.id"), primary_key=True, index=True),
    Column("since", Timestamp(), nullable=False),
    Column("pull_cursor", BigInteger, nullable=True),
    Column("push_cursor", BigInteger, nullable=True),
    Column("deletions_cursor", BigInteger, nullable=True),
    Column("received", BigInteger, nullable=False, server_default=text("0")),
    Column("sent", BigInteger, nullable=False, server_default=text("0")),
    Column("refused", BigInteger, nullable=False, server_default=text("0")),
    Column("last_attempt", Timestamp(), nullable=True),
    Column("last_success", Timestamp(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("retry_at", Timestamp(), nullable=True),
    # The date_added of the newest version moved either way, for the lag.
    Column("newest_moved", BigInteger, nullable=True),
    # The standing each side had when the cursors were last reset: when one changes (an
    # organization promoted from observer to member), the cursors start again, so what was out
    # of reach before is sent now (a replay stores nothing twice).
    Column("their_standing", SmallInteger, nullable=True),
    Column("our_standing", SmallInteger, nullable=True),
)

# Deletions of object versions, for peers to apply: ours (origin and signature NULL: signed when
# sent) and those received, signed by the node the version came from.
deletions = Table(
    "deletions",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("collection_id", String(36), nullable=False),
    Column("object_id", String(300), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("origin_node", String(60), nullable=True),
    Column("signature", LargeBinary, nullable=True),
    Column("deleted", Timestamp(), nullable=False),
    Index(None, "collection_id", "seq"),
)
