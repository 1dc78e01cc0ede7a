"""The access policy: who may read and write what in a bubble, from TLP 2.0 (DESIGN.md section 4).

This module is the one place that decides. Every read path (TAXII, exports, the store's queries)
asks it for a `ReadGrant` and applies that grant; the store turns the grant into a WHERE clause so
filtering happens in the query and pages stay full.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from trustbubble.domain.accounts import UserRole
from trustbubble.domain.bubbles import BubbleRole
from trustbubble.domain.tlp import TlpLevel


class Standing(IntEnum):
    """How an organization stands towards a bubble, from no standing to full membership."""

    NONE = 0
    OBSERVER_CONSTITUENT = 1  # in the constituency of an observer
    OBSERVER = 2
    MEMBER_CONSTITUENT = 3  # in the constituency of an owner or member
    MEMBER = 4  # owner or member


_LEVELS: dict[Standing, frozenset[TlpLevel]] = {
    Standing.NONE: frozenset(),
    Standing.OBSERVER_CONSTITUENT: frozenset({TlpLevel.CLEAR, TlpLevel.GREEN}),
    Standing.OBSERVER: frozenset({TlpLevel.CLEAR, TlpLevel.GREEN}),
    Standing.MEMBER_CONSTITUENT: frozenset({TlpLevel.CLEAR, TlpLevel.GREEN, TlpLevel.AMBER}),
    Standing.MEMBER: frozenset(
        {TlpLevel.CLEAR, TlpLevel.GREEN, TlpLevel.AMBER, TlpLevel.AMBER_STRICT}
    ),
}


@dataclass(frozen=True, slots=True)
class Reader:
    """Who is reading: an anonymous caller has no user, no organization and no identities."""

    user_id: str | None
    org_id: str | None
    role: UserRole | None
    # The reader's own chain of organizations: its organization first, then the parent whose
    # constituency it is, then that one's parent, and so on.
    org_chain: tuple[str, ...]
    # Identity ids that name this reader as a RED recipient: the user's and the organization's.
    identities: frozenset[str]
    # A peer node reading through the federation's credential (no user, no organization).
    peer: PeerScope | None = None

    @classmethod
    def anonymous(cls) -> Reader:
        return cls(None, None, None, (), frozenset())


@dataclass(frozen=True, slots=True)
class PeerScope:
    """A peer node as a reader: the organizations it hosts, and their identities."""

    node_id: str
    # Each hosted organization's chain: the organization, then its parents.
    org_chains: tuple[tuple[str, ...], ...]
    # The identities of the hosted organizations and of their people (RED recipients).
    identities: frozenset[str]

    @property
    def org_ids(self) -> frozenset[str]:
        return frozenset(chain[0] for chain in self.org_chains)

    def as_reader(self) -> Reader:
        return Reader(None, None, None, (), frozenset(), self)


@dataclass(frozen=True, slots=True)
class ReadGrant:
    """What a reader may read in one collection.

    An object is readable when its level is in `levels`, or when it is RED and the reader's
    organization wrote it or one of the reader's identities is among its recipients.

    A peer node's grant (`peer_node` set) adds the rules of the wire: never an object back to
    the node it came from, and from a third node only what may be re-shared (CLEAR, GREEN).
    """

    levels: frozenset[TlpLevel]
    red_author_orgs: frozenset[str]
    red_identities: frozenset[str]
    peer_node: str | None = None

    @property
    def visible(self) -> bool:
        """May the reader know the collection exists? If not, it is a 404 to them."""
        return bool(self.levels)

    def allows(
        self,
        level: TlpLevel,
        author_org: str,
        recipients: frozenset[str],
        origin_node: str | None = None,
    ) -> bool:
        if (
            self.peer_node is not None
            and origin_node is not None
            and (origin_node == self.peer_node or level not in RESHAREABLE)
        ):
            return False
        if level in self.levels:
            return True
        if level is not TlpLevel.RED:
            return False
        return author_org in self.red_author_orgs or not self.red_identities.isdisjoint(recipients)


PUBLIC_GRANT = ReadGrant(frozenset({TlpLevel.CLEAR}), frozenset(), frozenset())
NO_GRANT = ReadGrant(frozenset(), frozenset(), frozenset())

# Only what anyone in the bubble may pass on travels from a node that is not its origin.
RESHAREABLE = frozenset({TlpLevel.CLEAR, TlpLevel.GREEN})


def standing(org_chain: Sequence[str], roles: Mapping[str, BubbleRole]) -> Standing:
    """An organization's standing from the active roles of a bubble's organizations.

    `org_chain` is the organization followed by its ancestors; `roles` maps the organizations
    holding an active membership to their role. Constituencies are transitive: a hospital under a
    health ministry under a national CERT is in the CERT's constituency.
    """
    if not org_chain:
        return Standing.NONE
    best = Standing.NONE
    own = roles.get(org_chain[0])
    if own is not None:
        best = Standing.MEMBER if own.is_full_member else Standing.OBSERVER
    for ancestor in org_chain[1:]:
        role = roles.get(ancestor)
        if role is None:
            continue
        through = (
            Standing.MEMBER_CONSTITUENT if role.is_full_member else Standing.OBSERVER_CONSTITUENT
        )
        best = max(best, through)
    return best


def read_grant(reader: Reader, standing_: Standing) -> ReadGrant:
    """The grant of a reader with this standing in a bubble."""
    levels = _LEVELS[standing_]
    if not levels:
        return NO_GRANT
    orgs = frozenset({reader.org_id}) if reader.org_id else frozenset()
    return ReadGrant(levels, orgs, reader.identities)


def peer_standing(peer: PeerScope, roles: Mapping[str, BubbleRole]) -> Standing:
    """A peer node stands as the best placed of the organizations it hosts."""
    return max((standing(chain, roles) for chain in peer.org_chains), default=Standing.NONE)


def peer_grant(peer: PeerScope, standing_: Standing, shared: bool) -> ReadGrant:
    """What a peer node may receive of a bubble (docs/federation.md, TLP on the wire).

    Nothing unless the bubble is shared between the two nodes; then what the organizations it
    hosts could read together (RED: the objects naming one of them or their people), minus the
    objects it sent and those a third node sent that may not be re-shared.
    """
    if not shared:
        return NO_GRANT
    levels = _LEVELS[standing_]
    if not levels:
        return NO_GRANT
    return ReadGrant(levels, peer.org_ids, peer.identities, peer.node_id)


def may_write(reader: Reader, standing_: Standing) -> bool:
    """Writing needs the analyst or admin role and owner or member standing."""
    return reader.role is not None and reader.role.may_write and standing_ is Standing.MEMBER


# -- consultations (docs/consultations.md) -------------------------------------------------------


class Part(IntEnum):
    """What an organization may do in a consultation."""

    NONE = 0  # it is a 404 to them
    APPLICANT = 1  # asked for accreditation and not yet admitted: sees its request only
    PARTICIPANT = 2  # in the audience, or admitted: reads it all, comments while it is open
    DRAFTER = 3  # the drafter's organization: reads everything, answers and moderates


@dataclass(frozen=True, slots=True)
class ConsultationAudience:
    """The facts about one reader that decide their part, gathered by the service."""

    drafter_org: str
    public: bool  # open to everyone signed in
    kinds: frozenset[str]  # stakeholder kinds in the audience
    reader_kind: str | None  # the reader's organization's kind
    best_standing: Standing  # the reader's best standing in the audience's bubbles
    accreditation: str | None  # the reader's organization's request: pending, admitted, refused


def consultation_part(reader: Reader, audience: ConsultationAudience) -> Part:
    """The reader's part in a consultation: by their organization, never by their node role."""
    if reader.org_id is None:
        return Part.NONE
    if reader.org_id == audience.drafter_org:
        return Part.DRAFTER
    if (
        audience.public
        or (audience.reader_kind is not None and audience.reader_kind in audience.kinds)
        or audience.best_standing is not Standing.NONE
        or audience.accreditation == "admitted"
    ):
        return Part.PARTICIPANT
    if audience.accreditation == "pending":
        return Part.APPLICANT
    return Part.NONE


def may_comment(reader: Reader, part: Part) -> bool:
    """Commenting, replying and answering are writing: the analyst or admin role, taking part."""
    return reader.role is not None and reader.role.may_write and part >= Part.PARTICIPANT
