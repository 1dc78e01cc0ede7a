"""Property test: drafts, consultations, their comments and summaries obey the access policy
(docs/consultations.md, "Who reads what"), and a closed consultation refuses new comments.

Hypothesis builds random worlds (tests/consultations_world.py): organizations of every
stakeholder kind in constituencies, users of every role, bubbles with memberships in every
state, drafts, and consultations opened to the public, to kinds or to bubbles, scheduled, open,
over or closed early. Users then comment, reply, answer the questions, ask to take part, object
and decide on requests; the drafter answers, hides and shows comments, closes consultations and
publishes versions answering comments; organizations leave, join and change role in bubbles.
Each write goes through the service (trustbubble.services.consultations) and must succeed or
raise the typed error the oracle says (NotFound when the user's organization has no part;
Forbidden for viewers and applicants; Conflict "the consultation opens on ..." or "closed on ..."
outside the period; where several reasons apply, any of them); a refused one must change nothing
stored. At the end every user tries one write on every consultation, then reads the drafts
(drafts_for, draft_view) and the consultations (consultations_for, view): which comments' texts,
authors and links they see, the summaries per paragraph and per kind, the tally of answers and
the requests to take part.

Where the docs leave a write open, it is not drawn: a comment or an answer to the questions by
the drafter's own organization (the table gives it replies), and an objection outside the
consultation's period (the table says "while it is open", the text "within the objection
period").

Each example empties the store first. TRUSTBUBBLE_PROPERTY_EXAMPLES sets how many examples run on
each backend. The default, 160, takes about 60 s on SQLite on a 2-core machine (about 0.35 s an
example); PostgreSQL takes about twice as long. The examples are derandomized, so a run is
repeatable.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings

from tests.consultations_world import (
    APPLICANT,
    CLOSED,
    DRAFTER,
    MEMBER,
    MEMBERSHIP_CHANGES,
    NO_PART,
    NONE,
    OBSERVER,
    OPEN,
    PART_NAMES,
    PARTICIPANT,
    SCHEDULED,
    WEIGHTS,
    Comment,
    Consultation,
    ConsultationSpec,
    Draft,
    Event,
    Model,
    Person,
    Request,
    World,
    build,
    change_membership,
    forget,
    snapshot,
    worlds,
)
from trustbubble.domain.accounts import OrgKind
from trustbubble.domain.consultations import Audience, Question
from trustbubble.domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from trustbubble.services import consultations
from trustbubble.services.consultations import CommentView, ConsultationView
from trustbubble.store.database import Database

DEFAULT_EXAMPLES = 160
EXAMPLES = int(os.environ.get("TRUSTBUBBLE_PROPERTY_EXAMPLES", DEFAULT_EXAMPLES))
T = TypeVar("T")


def pick(items: list[T], index: int) -> T:
    return items[index % len(items)]


# --- writing: each write succeeds, or is refused as the oracle says and changes nothing ---


@dataclass(frozen=True)
class Refusal:
    error: type[DomainError]
    says: str  # in the error's message
    why: str  # the situation, counted in the situations reached


class Refused:
    """What `attempt` returns for a refused write."""


REFUSED = Refused()


def attempt(
    db: Database,
    model: Model,
    what: str,
    refusals: list[Refusal],
    call: Callable[[], T],
) -> T | Refused:
    """Make the call. With no refusal it must succeed; with some, it must raise one of them
    (when several reasons apply, any one) and leave the store as it was."""
    if not refusals:
        try:
            return call()
        except DomainError as error:
            raise AssertionError(f"{what}: refused ({type(error).__name__}: {error})") from None
    before = snapshot(db)
    expected = " or ".join(f"{r.error.__name__} ({r.why})" for r in refusals)
    raised: DomainError | None = None
    try:
        call()
    except DomainError as error:
        raised = error
    assert raised is not None, f"{what}: expected {expected}, but it succeeded"
    matching = [r for r in refusals if type(raised) is r.error and r.says in str(raised)]
    assert matching, f"{what}: expected {expected}, got {type(raised).__name__}: {raised}"
    assert snapshot(db) == before, f"{what}: refused ({raised}) but changed the store"
    model.reached.add(f"{what.split()[0]} refused: {matching[0].why}")
    model.reached.add(f"any refused: {matching[0].why}")
    return REFUSED


def period_refusals(model: Model, c: int) -> list[Refusal]:
    """docs/consultations.md: nothing is written before it opens or once it closed, saying when."""
    found = model.consultations[c]
    phase = model.phase(c)
    if phase == SCHEDULED:
        opens = f"the consultation opens on {found.opens:%Y-%m-%d at %H:%M} UTC"
        return [Refusal(Conflict, opens, "scheduled")]
    if phase == CLOSED:
        # Closed early, at an instant between two the test noted: either minute.
        moments = found.closed or (found.closes, found.closes)
        said = [f"the consultation closed on {m:%Y-%m-%d at %H:%M} UTC" for m in moments]
        return [Refusal(Conflict, s, "closed") for s in said]
    return []


def writing_refusals(model: Model, person: Person, c: int) -> list[Refusal]:
    """Comment, reply, answer: a 404 to an organization with no part; else a writer (analyst or
    admin) of an organization taking part (not waiting to), while the consultation is open."""
    part = model.part(person.org, c)
    if part == NO_PART:
        return [Refusal(NotFound, "no consultation", "not taking part")]
    found = []
    if part == APPLICANT:
        found.append(Refusal(Forbidden, "asked to take part", "an applicant"))
    if not person.writes:
        found.append(Refusal(Forbidden, "needs the analyst or admin role", "a viewer"))
    return found + period_refusals(model, c)


def undecided(model: Model, person: Person, c: int, refusals: list[Refusal]) -> bool:
    """A comment or an answer to the questions by a writer of the drafter's organization, while
    open: the docs give the drafter replies, not comments or answers of its own, and the service
    takes both. Not drawn."""
    return not refusals and model.part(person.org, c) == DRAFTER


def drafter_refusals(model: Model, person: Person, c: int) -> list[Refusal]:
    """Answering, hiding, showing, deciding: only a writer of the drafter's organization."""
    part = model.part(person.org, c)
    if part == NO_PART:
        return [Refusal(NotFound, "no consultation", "not taking part")]
    if part != DRAFTER:
        return [Refusal(Forbidden, "only the drafting organization", "not the drafter")]
    if not person.writes:
        return [Refusal(Forbidden, "needs the analyst or admin role", "a viewer of the drafter")]
    return []


def how_taking(model: Model, org: int, c: int) -> str:
    """How an organization takes part, to count the situations reached."""
    spec = model.consultations[c].spec
    if model.part(org, c) == DRAFTER:
        return "the drafter"
    if spec.public:
        return "the public"
    if model.kind(org) in spec.kinds:
        return "a chosen kind"
    best = max((model.standing(org, b) for b in spec.bubbles), default=NONE)
    if best != NONE:
        return {MEMBER: "a member", OBSERVER: "an observer"}.get(best, "a constituent")
    return "admitted" if model.accreditation(org, c) == "admitted" else "no one"


def writer_on(model: Model, event: Event, drafter: bool = False) -> tuple[Person, int]:
    """The proper actor: a writer who may write on a consultation now (the drafter's only if
    asked), if any; else as drawn."""
    if event.proper:
        may = [
            (p, c)
            for c in range(len(model.consultations))
            for p in model.people
            if model.may_write_in(p, c) and (drafter or model.part(p.org, c) != DRAFTER)
        ]
        if may:
            return pick(may, event.actor * 3 + event.consultation)
    return pick(model.people, event.actor), event.consultation % len(model.consultations)


def comment(db: Database, model: Model, event: Event) -> None:
    person, c = writer_on(model, event)
    found = model.consultations[c]
    count = len(model.drafts[found.draft].versions[found.version - 1])
    paragraph = count + 1 + event.target % 2 if event.stray else event.target % count + 1
    text = f"Comment {len(model.comments) + 1} by {person.user.email}"
    wording = f"Wording of {text}" if event.stance == "amend" else ""
    incident = f"incident--{len(model.comments):08d}-0000-4000-8000-000000000000"
    data = {
        "paragraph": paragraph,
        "stance": event.stance,
        "text": text,
        "wording": wording,
        "norms": list(event.norms),
        "incident": incident if event.incident else "",
    }
    refusals = writing_refusals(model, person, c)
    if undecided(model, person, c, refusals):
        return
    if not refusals and event.stray:
        refusals = [Refusal(Invalid, f"no paragraph {paragraph}", "a paragraph out of range")]
    what = f"comment by {person.role.value} of org {person.org} on consultation {c}"
    made = attempt(
        db, model, what, refusals, lambda: consultations.comment(db, person.user, found.id, data)
    )
    if isinstance(made, Refused):
        return
    model.comments.append(
        Comment(
            made,
            c,
            paragraph,
            None,
            person.org,
            person.user.email,
            event.stance,
            text,
            wording,
            tuple(sorted(set(event.norms))),
            str(data["incident"]),
        )
    )
    model.reached.add(f"comment by {how_taking(model, person.org, c)}")


def reply(db: Database, model: Model, event: Event) -> None:
    person, c = writer_on(model, event, drafter=True)
    parents = model.comments_of(c)
    if not parents:
        comment(db, model, event)  # nothing to reply to yet
        return
    parent = pick(parents, event.target)
    text = f"Reply {len(model.comments) + 1} by {person.user.email}"
    what = f"reply by {person.role.value} of org {person.org} on consultation {c}"
    made = attempt(
        db,
        model,
        what,
        writing_refusals(model, person, c),
        lambda: consultations.reply(db, person.user, model.consultations[c].id, parent.id, text),
    )
    if isinstance(made, Refused):
        return
    reply_ = Comment(
        made, c, parent.paragraph, parent.id, person.org, person.user.email, "", text, "", (), ""
    )
    model.comments.append(reply_)
    model.reached.add(f"reply by {how_taking(model, person.org, c)}")


def answer(db: Database, model: Model, event: Event) -> None:
    person, c = writer_on(model, event)
    questions = model.consultations[c].spec.questions
    given = {
        i: choices[event.choices[i] % len(choices)]
        if choices
        else f"In {person.user.email}'s words"
        for i, choices in enumerate(questions)
    }
    refusals = writing_refusals(model, person, c)
    if undecided(model, person, c, refusals):
        return
    what = f"answer by {person.role.value} of org {person.org} on consultation {c}"
    done = attempt(
        db,
        model,
        what,
        refusals,
        lambda: consultations.answer_questions(db, person.user, model.consultations[c].id, given),
    )
    if isinstance(done, Refused):
        return
    for i, said in given.items():
        model.answers[c, person.org, i] = said
    if given:
        model.reached.add("questions answered")


def ask(db: Database, model: Model, event: Event) -> None:
    """An organization outside the audience asks to take part: a writer of it, before the
    consultation closes, once."""
    person, c = pick(model.people, event.actor), event.consultation % len(model.consultations)
    if event.proper:
        may = [
            (p, k)
            for k, found in enumerate(model.consultations)
            for p in model.people
            if p.writes
            and model.part(p.org, k) == NO_PART
            and p.org not in found.requests
            and model.phase(k) != CLOSED
        ]
        may = [(p, k) for p, k in may if model.phase(k) == OPEN] or may  # open ones first
        person, c = pick(may, event.actor * 3 + event.consultation) if may else (person, c)
    elif event.target % 2:  # someone of an organization that asked already
        again = [p for p in model.people if p.org in model.consultations[c].requests]
        person = pick(again or model.people, event.actor)
    found = model.consultations[c]
    refusals = []
    if not person.writes:
        refusals.append(Refusal(Forbidden, "needs the analyst or admin role", "a viewer"))
    if model.phase(c) == CLOSED:
        refusals.append(Refusal(Conflict, "the consultation is closed", "closed"))
    if model.part(person.org, c) >= APPLICANT:
        refusals.append(Refusal(Conflict, "takes part already, or has asked", "taking part"))
    elif person.org in found.requests:
        refusals.append(Refusal(Conflict, "request was refused", "refused before"))
    reason = f"Org {person.org} has a stake"
    what = f"ask by org {person.org} on consultation {c}"
    done = attempt(
        db,
        model,
        what,
        refusals,
        lambda: consultations.ask_to_take_part(db, person.user, found.id, reason),
    )
    if isinstance(done, Refused):
        return
    found.requests[person.org] = Request(person.org, reason)
    days = found.spec.objection_days
    model.reached.add(f"asked, with {days} days to object")


def object_to(db: Database, model: Model, event: Event) -> None:
    """An organization taking part (not the drafter, who decides) objects to a pending request,
    once. Objections are drawn while the consultation is open only: the table of the docs says
    "while it is open", the paragraph on accreditation "within the objection period", and the
    service refuses neither before nor after."""
    c = event.consultation % len(model.consultations)
    person = pick(model.people, event.actor)
    applicant = event.target % len(model.orgs)
    if event.proper:
        may = [
            (p, k, o)
            for k, asked in enumerate(model.consultations)
            for o, request in asked.requests.items()
            for p in model.people
            if model.accreditation(o, k) == "pending"
            and model.phase(k) == OPEN
            and p.writes
            and model.part(p.org, k) == PARTICIPANT
            and p.org not in {objector for objector, _ in request.objections}
        ]
        person, c, applicant = pick(may, event.actor) if may else (person, c, applicant)
    found = model.consultations[c]
    refusals = []
    part = model.part(person.org, c)
    asked = found.requests.get(applicant)
    if part == NO_PART:
        refusals = [Refusal(NotFound, "no consultation", "not taking part")]
    else:
        if part == DRAFTER:
            refusals.append(Refusal(Forbidden, "it does not object", "the drafter"))
        elif part < PARTICIPANT or not person.writes:
            refusals.append(Refusal(Forbidden, "may object", "not a writer taking part"))
        if model.accreditation(applicant, c) != "pending":
            refusals.append(Refusal(Conflict, "no pending request", "no pending request"))
        elif asked and person.org in {o for o, _ in asked.objections}:
            refusals.append(Refusal(Conflict, "objected to this request already", "again"))
    if not refusals and model.phase(c) != OPEN:
        return
    reason = f"Org {person.org} objects"
    what = f"objection by {person.role.value} of org {person.org} to org {applicant}, {c}"
    org_id = model.orgs[applicant].id
    done = attempt(
        db,
        model,
        what,
        refusals,
        lambda: consultations.object_to(db, person.user, found.id, org_id, reason),
    )
    if isinstance(done, Refused):
        return
    assert asked is not None
    asked.objections.append((person.org, reason))
    model.reached.add("an objection")


def busy(model: Model, event: Event, has: Callable[[int], bool]) -> int:
    """The consultation to act on: for the proper action, one that has something to act on."""
    count = len(model.consultations)
    if event.proper:
        found = [c for c in range(count) if has(c)]
        return pick(found, event.consultation) if found else event.consultation % count
    return event.consultation % count


def drafter_or_anyone(model: Model, event: Event, c: int) -> Person:
    """For what only the drafter does: the proper actor is a writer of the drafter's
    organization; the others, as `event.target` says (where the world has one): a writer taking
    part, a viewer of the drafter, someone waiting to take part, or an outsider."""
    drafter = model.drafts[model.consultations[c].draft].org
    if event.proper:
        return pick(model.writers_of(drafter) or model.people, event.actor)
    wrong = [
        [p for p in model.people if p.writes and model.part(p.org, c) == PARTICIPANT],
        [p for p in model.people if p.org == drafter and not p.writes],
        [p for p in model.people if model.part(p.org, c) == APPLICANT],
        [p for p in model.people if model.part(p.org, c) == NO_PART],
    ]
    return pick(wrong[event.target % 4] or model.people, event.actor)


def decide(db: Database, model: Model, event: Event) -> None:
    """The drafter decides on a request (docs: after an objection; the drafter's row of the table
    says "decide on requests", and the service lets it decide on any)."""
    c = busy(model, event, lambda k: bool(model.consultations[k].requests))
    found = model.consultations[c]
    person = drafter_or_anyone(model, event, c)
    objected = [o for o, r in found.requests.items() if r.objections]
    applicant = pick(objected or list(found.requests) or list(range(len(model.orgs))), event.target)
    refusals = drafter_refusals(model, person, c)
    if applicant not in found.requests:
        refusals.append(Refusal(NotFound, "no request to take part", "no request"))
    what = f"decision by {person.role.value} of org {person.org} on org {applicant}, {c}"
    org_id = model.orgs[applicant].id
    done = attempt(
        db,
        model,
        what,
        refusals,
        lambda: consultations.decide(db, person.user, found.id, org_id, event.admit),
    )
    if isinstance(done, Refused):
        return
    found.requests[applicant].decision = "admitted" if event.admit else "refused"
    model.reached.add(f"{found.requests[applicant].decision} by the drafter")


def respond(db: Database, model: Model, event: Event) -> None:
    c = busy(model, event, lambda k: bool(model.comments_of(k)))
    on = model.comments_of(c)
    if not on:
        return
    person = drafter_or_anyone(model, event, c)
    tops = [k for k in on if k.parent is None]
    replies = [k for k in on if k.parent is not None]
    target = pick(replies if event.stray and replies else tops or on, event.target)
    refusals = drafter_refusals(model, person, c)
    if not refusals and target.parent is not None:
        refusals = [Refusal(Invalid, "answer the comment itself", "a reply answered")]
    reason = "" if event.verdict == "accepted" else f"Reason {target.id}"
    what = f"verdict by {person.role.value} of org {person.org} on comment {target.id}"
    done = attempt(
        db,
        model,
        what,
        refusals,
        lambda: consultations.respond(
            db, person.user, model.consultations[c].id, target.id, event.verdict, reason
        ),
    )
    if not isinstance(done, Refused):
        target.verdict, target.verdict_reason = event.verdict, reason


def hide(db: Database, model: Model, event: Event) -> None:
    hiding = event.kind == "hide"
    c = busy(model, event, lambda k: any(hiding or m.hidden for m in model.comments_of(k)))
    on = model.comments_of(c)
    if not on:
        return
    person = drafter_or_anyone(model, event, c)
    hidden = [k for k in on if k.hidden is not None]
    target = pick(hidden if event.kind == "show" and hidden else on, event.target)
    reason = None if event.kind == "show" else f"Off topic ({target.id})"
    what = f"{event.kind} by {person.role.value} of org {person.org}, comment {target.id}"
    done = attempt(
        db,
        model,
        what,
        drafter_refusals(model, person, c),
        lambda: consultations.hide(db, person.user, model.consultations[c].id, target.id, reason),
    )
    if not isinstance(done, Refused):
        target.hidden = reason


def close(db: Database, model: Model, event: Event) -> None:
    c = event.consultation % len(model.consultations)
    found = model.consultations[c]
    person = drafter_or_anyone(model, event, c)
    part = model.part(person.org, c)
    refusals = []
    if part == NO_PART:
        refusals = [Refusal(NotFound, "no consultation", "not taking part")]
    elif part == APPLICANT:  # (the draft is a 404 to an applicant, the consultation is not)
        refusals = [
            Refusal(Forbidden, "only the drafting organization", "an applicant"),
            Refusal(NotFound, "no draft", "an applicant"),
        ]
    elif part != DRAFTER:
        refusals = [Refusal(Forbidden, "only the drafting organization", "not the drafter")]
    elif not person.writes:
        refusals = [Refusal(Forbidden, "needs the analyst or admin role", "a viewer")]
    if part != NO_PART and model.phase(c) == CLOSED:
        refusals.append(Refusal(Conflict, "closed already", "closed already"))
    what = f"close by {person.role.value} of org {person.org}, consultation {c}"
    began = datetime.now(UTC)
    done = attempt(
        db, model, what, refusals, lambda: consultations.close(db, person.user, found.id)
    )
    if not isinstance(done, Refused):
        found.closed = (began, datetime.now(UTC))
        model.reached.add("closed early by the drafter")


def revise(db: Database, model: Model, event: Event) -> None:
    """A new version of a draft, answering comments made on its consultations."""
    d = event.target % len(model.drafts)
    draft = model.drafts[d]
    taking = [c for c, found in enumerate(model.consultations) if found.draft == d]
    person = (
        drafter_or_anyone(model, event, pick(taking, event.actor))
        if taking
        else pick(model.writers_of(draft.org) if event.proper else model.people, event.actor)
    )
    on = [k for k in model.comments if model.consultations[k.consultation].draft == d]
    made_on = [k.id for k in on if k.parent is None]  # a version answers comments, not replies
    answers = [made_on[(event.actor + i) % len(made_on)] for i in range(2)] if made_on else []
    refusals = []
    if person.org != draft.org:
        if model.may_read_draft(person.org, d):
            refusals = [Refusal(Forbidden, "only the drafting organization", "not the drafter")]
        else:
            refusals = [Refusal(NotFound, "no draft", "not reading the draft")]
    elif not person.writes:
        refusals = [Refusal(Forbidden, "needs the analyst or admin role", "a viewer")]
    if event.stray:  # a reply, or a comment on another draft, or none at all
        others = [k.id for k in model.comments if k.id not in made_on]
        stray = pick(others, event.actor) if others else len(model.comments) + 1000
        answers.append(stray)
        if not refusals:
            refusals = [
                Refusal(Invalid, f"no comment {stray} on this draft", "not a comment on it")
            ]
    number = len(draft.versions) + 1
    texts = [*draft.versions[-1], f"Added in version {number} of draft {d}."]
    what = f"version by {person.role.value} of org {person.org}, draft {d}"
    made = attempt(
        db,
        model,
        what,
        refusals,
        lambda: consultations.add_version(
            db, person.user, draft.id, markdown(draft, texts), "", answers
        ),
    )
    if isinstance(made, Refused):
        return
    assert made == number, what
    draft.versions.append(texts)
    draft.answers.append(tuple(dict.fromkeys(answers)))
    if answers:
        model.reached.add("a version answering comments")


ACTIONS: dict[str, Callable[[Database, Model, Event], None]] = {
    "comment": comment,
    "reply": reply,
    "answer": answer,
    "ask": ask,
    "object": object_to,
    "decide": decide,
    "respond": respond,
    "hide": hide,
    "show": hide,
    "close": close,
    "revise": revise,
    **dict.fromkeys(MEMBERSHIP_CHANGES, change_membership),
}


# --- opening: drafts and consultations, by a writer of the drafting organization ---


def markdown(draft: Draft, texts: list[str]) -> str:
    return f"# {draft.title}\n\n" + "\n\n".join(texts) + "\n"


def paragraph_texts(d: int, count: int) -> list[str]:
    texts = [f"Paragraph {n} of draft {d}." for n in range(1, count + 1)]
    if count >= 2:  # a list is one paragraph too
        texts[1] = f"- A first point of draft {d}.\n- A second point."
    return texts


def open_all(db: Database, model: Model, world: World) -> None:
    for d, drafted in enumerate(world.drafts):
        org = drafted.org
        writer = model.writers_of(org)[0]
        draft = Draft("", org, f"Draft {d}", [paragraph_texts(d, drafted.paragraphs)], [()])
        draft.id = consultations.new_draft(
            db, writer.user, draft.title, "guideline", markdown(draft, draft.versions[0])
        )
        if drafted.versions == 2:
            texts = [*draft.versions[0], f"Added in version 2 of draft {d}."]
            consultations.add_version(db, writer.user, draft.id, markdown(draft, texts), "", [])
            draft.versions.append(texts)
            draft.answers.append(())
        model.drafts.append(draft)
    now = datetime.now(UTC)
    periods = {
        SCHEDULED: (now + timedelta(days=1), now + timedelta(days=10)),
        CLOSED: (now - timedelta(days=10), now - timedelta(days=1)),
    }
    for drawn in world.consultations:
        d = drawn.draft % len(model.drafts)
        draft = model.drafts[d]
        version = (drawn.version - 1) % len(draft.versions) + 1
        during = periods.get(drawn.period, (now - timedelta(days=1), now + timedelta(days=10)))
        spec = addressable(model, draft.org, drawn)
        if spec != drawn:
            bad = next(i for i, b in enumerate(drawn.bubbles) if b not in spec.bubbles)
            refusal = Refusal(Invalid, f"audience.bubbles[{bad}]", "a bubble it does not stand in")
            what = f"opening by org {draft.org}"
            attempt(
                db, model, what, [refusal], partial(open_one, db, model, d, version, during, drawn)
            )
        cid = open_one(db, model, d, version, during, spec)
        model.consultations.append(Consultation(cid, d, version, spec, *during))


def open_one(
    db: Database,
    model: Model,
    d: int,
    version: int,
    during: tuple[datetime, datetime],
    spec: ConsultationSpec,
) -> str:
    draft = model.drafts[d]
    audience = Audience(
        tuple(model.bubble_ids[b] for b in spec.bubbles),
        tuple(OrgKind(k) for k in spec.kinds),
        spec.public,
    )
    questions = tuple(Question(f"Question {i + 1}", q) for i, q in enumerate(spec.questions))
    writer = model.writers_of(draft.org)[0]
    return consultations.open_consultation(
        db, writer.user, draft.id, version, *during, audience, questions, spec.objection_days
    )


def addressable(model: Model, drafter: int, spec: ConsultationSpec) -> ConsultationSpec:
    """The audience without the bubbles the drafter's organization has no standing in (docs:
    "among the bubbles where the drafter's organization itself stands"); if nobody is left, the
    organizations of the kind of the one after the drafter."""
    chosen = tuple(b for b in spec.bubbles if model.standing(drafter, b) != NONE)
    if chosen == spec.bubbles:
        return spec
    kinds = spec.kinds
    if not (spec.public or kinds or chosen):
        kinds = (model.kind((drafter + 1) % len(model.orgs)),)
    return replace(spec, bubbles=chosen, kinds=kinds)


# --- reading: what each user reads, against the oracle ---


def shown(model: Model, org: int, k: Comment) -> tuple[Any, ...]:
    """A comment as the organization's users see it: a hidden one's text, wording, author and
    incident only to the drafter's organization and the author's; its stance, norms, answer and
    the reason it was hidden to everyone taking part."""
    found = model.consultations[k.consultation]
    sees = model.drafts[found.draft].org == org or k.org == org
    kept = k.hidden is not None and not sees
    return (
        k.id,
        k.paragraph,
        k.parent,
        model.orgs[k.org].name,
        model.kind(k.org),
        "" if kept else k.author,
        k.stance,
        "" if kept else k.text,
        "" if kept else k.wording,
        k.norms,
        "" if kept else k.incident,
        k.verdict,
        k.verdict_reason,
        k.hidden,
        model.answered_in(k.id, found.draft),
    )


def as_read(k: CommentView) -> tuple[Any, ...]:
    return (
        k.id,
        k.paragraph,
        k.parent_id,
        k.organization,
        k.kind,
        k.author,
        k.stance,
        k.text,
        k.wording,
        k.norms,
        k.incident,
        k.verdict,
        k.verdict_reason,
        k.hidden,
        k.answered_in,
    )


def share(comments: list[Comment]) -> float | None:
    """Of the answered comments, the share accepted: accepted counts 1, partly accepted 0.5."""
    weights = [WEIGHTS[k.verdict] for k in comments if k.verdict is not None]
    return sum(weights) / len(weights) if weights else None


def summaries(comments: list[Comment], model: Model, count: int) -> tuple[Any, ...]:
    """docs/consultations.md, "Summaries": per paragraph and per stakeholder kind, the comments
    (replies are not) by stance, and the share accepted; from the comments the reader reads (a
    hidden one shows its stance to everyone taking part, so it counts)."""
    tops = [k for k in comments if k.parent is None]
    by_paragraph = []
    for number in range(1, count + 1):
        on = [k for k in tops if k.paragraph == number]
        by_paragraph.append((number, len(on), dict(Counter(k.stance for k in on)), share(on)))
    kinds = {model.kind(k.org) for k in tops}
    of_kind = {kind: [k for k in tops if model.kind(k.org) == kind] for kind in kinds}
    by_kind = {kind: dict(Counter(k.stance for k in on)) for kind, on in of_kind.items()}
    return by_paragraph, by_kind, {kind: share(on) for kind, on in of_kind.items()}


def tally(model: Model, c: int) -> list[dict[str, Any]]:
    """Per question: the count of each answer, per stakeholder kind too, and of organizations."""
    found = []
    for i, _choices in enumerate(model.consultations[c].spec.questions):
        given = [(org, said) for (k, org, q), said in model.answers.items() if (k, q) == (c, i)]
        by_kind: dict[str, Counter[str]] = {}
        for org, said in given:
            by_kind.setdefault(model.kind(org), Counter())[said] += 1
        found.append(
            {
                "answers": dict(Counter(said for _org, said in given)),
                "by_kind": {kind: dict(counts) for kind, counts in by_kind.items()},
                "organizations": len(given),
            }
        )
    return found


def requests(model: Model, org: int, c: int) -> list[dict[str, Any]]:
    """Everyone taking part sees every request (to object to it); an applicant its own."""
    found = []
    for asked in model.consultations[c].requests.values():
        if model.part(org, c) == APPLICANT and asked.org != org:
            continue
        found.append(
            {
                "org_id": model.orgs[asked.org].id,
                "organization": model.orgs[asked.org].name,
                "kind": model.kind(asked.org),
                "reason": asked.reason,
                "state": model.accreditation(asked.org, c),
                "objections": [
                    {"organization": model.orgs[o].name, "reason": why}
                    for o, why in asked.objections
                ],
            }
        )
    return found


def check_view(db: Database, model: Model, person: Person, c: int) -> None:
    found = model.consultations[c]
    part = model.part(person.org, c)
    who = f"consultation {c} read by {person.role.value} of org {person.org}"
    if part == NO_PART:
        with pytest.raises(NotFound):
            consultations.view(db, person.user, found.id)
        return
    seen: ConsultationView = consultations.view(db, person.user, found.id)
    assert seen.part.name.lower() == PART_NAMES[part], who
    assert (seen.phase.value, seen.may_comment) == (
        model.phase(c),
        model.may_write_in(person, c),
    ), who
    assert [{k: r[k] for k in r if k != "asked"} for r in seen.requests] == requests(
        model, person.org, c
    ), f"requests, {who}"
    if part == APPLICANT:  # its own request only
        assert (seen.paragraphs, seen.comments, seen.questions) == ([], [], []), who
        assert (seen.by_paragraph, seen.by_kind, seen.accepted_by_kind) == ([], {}, {}), who
        assert seen.answers == [], who
        model.reached.add("an applicant reads its own request only")
        return
    texts = model.drafts[found.draft].versions[found.version - 1]
    assert [p.text for p in seen.paragraphs] == texts, who
    comments = model.comments_of(c)
    assert [as_read(k) for k in seen.comments] == [shown(model, person.org, k) for k in comments], (
        f"comments, {who}"
    )
    got = [(p.number, p.comments, p.stances, p.accepted_share) for p in seen.by_paragraph]
    assert (got, seen.by_kind, seen.accepted_by_kind) == summaries(comments, model, len(texts)), (
        f"summaries, {who}"
    )
    questions = [
        {"text": f"Question {i + 1}", "choices": list(q)}
        for i, q in enumerate(found.spec.questions)
    ]
    assert seen.questions == questions, who
    assert seen.answers == tally(model, c), f"answers, {who}"
    for k in comments:
        if k.hidden is not None:
            mine = k.org == person.org
            model.reached.add(
                "a hidden comment read by its author's organization"
                if mine
                else "a hidden comment read by the drafter"
                if part == DRAFTER
                else "a hidden comment's text kept from a participant"
            )
        if model.part(k.org, c) == NO_PART:
            model.reached.add("a comment kept after its organization stopped taking part")
    model.reached.add(f"{PART_NAMES[part]} reads a {model.phase(c)} consultation")


def check_reader(db: Database, model: Model, person: Person) -> None:
    who = f"{person.role.value} of org {person.org}"
    readable = {d for d in range(len(model.drafts)) if model.may_read_draft(person.org, d)}
    listed = {d.id for d in consultations.drafts_for(db, person.user)}
    assert listed == {model.drafts[d].id for d in readable}, f"drafts of {who}"
    for d, draft in enumerate(model.drafts):
        if d not in readable:
            with pytest.raises(NotFound):
                consultations.draft_view(db, person.user, draft.id)
            continue
        seen = consultations.draft_view(db, person.user, draft.id)
        versions = [(v.number, [p.text for p in v.paragraphs], v.answers) for v in seen.versions]
        expected = [
            (n, texts, answers)
            for n, (texts, answers) in enumerate(zip(draft.versions, draft.answers, strict=True), 1)
        ]
        assert versions == expected, f"draft {d} read by {who}"
        assert (seen.mine, seen.drafter) == (draft.org == person.org, model.orgs[draft.org].name)
        taking = {
            found.id
            for c, found in enumerate(model.consultations)
            if found.draft == d and model.part(person.org, c) >= PARTICIPANT
        }
        assert set(seen.consultations) == taking, f"draft {d} read by {who}"
        if draft.org != person.org:
            first = min(c for c, found in enumerate(model.consultations) if found.id in taking)
            model.reached.add(f"a draft read by {how_taking(model, person.org, first)}")
    got = {
        item["id"]: (item["draft_id"], item["version"], item["phase"], item["drafter"])
        for item in consultations.consultations_for(db, person.user)
    }
    expected_list = {
        found.id: (
            model.drafts[found.draft].id,
            found.version,
            model.phase(c),
            model.part(person.org, c) == DRAFTER,
        )
        for c, found in enumerate(model.consultations)
        if model.part(person.org, c) >= PARTICIPANT
    }
    assert got == expected_list, f"consultations of {who}"
    for c in range(len(model.consultations)):
        check_view(db, model, person, c)


SITUATIONS = {
    # Taking part, every way, and writing or not.
    "comment by the public",
    "comment by a chosen kind",
    "comment by a member",
    "comment by an observer",
    "comment by a constituent",
    "comment by admitted",
    "reply by the drafter",
    "questions answered",
    "comment refused: not taking part",
    "comment refused: an applicant",
    "comment refused: a viewer",
    "comment refused: scheduled",
    "comment refused: closed",
    "comment refused: a paragraph out of range",
    "reply refused: not taking part",
    "reply refused: a viewer",
    "reply refused: closed",
    "answer refused: not taking part",
    "answer refused: a viewer",
    "answer refused: closed",
    "closed early by the drafter",
    # Requests to take part.
    "asked, with 0 days to object",
    "asked, with 30 days to object",
    "an objection",
    "admitted by the drafter",
    "refused by the drafter",
    "any refused: the drafter",
    "any refused: no pending request",
    "any refused: taking part",
    # What only the drafter does.
    "any refused: not the drafter",
    "any refused: a viewer of the drafter",
    "any refused: a reply answered",
    "any refused: a bubble it does not stand in",
    "a version answering comments",
    "any refused: not a comment on it",
    # Reading.
    "a hidden comment read by its author's organization",
    "a hidden comment read by the drafter",
    "a hidden comment's text kept from a participant",
    "a comment kept after its organization stopped taking part",
    "an applicant reads its own request only",
    "participant reads a scheduled consultation",
    "participant reads a closed consultation",
    "a draft read by admitted",
    "a draft read by a constituent",
    "a draft read by an observer",
    "an organization leaves a bubble after the consultations opened",
    "an organization joins a bubble after the consultations opened",
}


def run(db: Database, model: Model, world: World) -> set[str]:
    open_all(db, model, world)
    for event in world.events:
        ACTIONS[event.kind](db, model, event)
    # Last, every user tries one write on every consultation: a comment, a reply or an answer.
    for k in range(len(model.people)):
        for c in range(len(model.consultations)):
            kind = ("comment", "reply", "answer")[(world.turn + k + c) % 3]
            ACTIONS[kind](db, model, Event(kind, k, False, c, world.turn + k, choices=(k, c)))
    for person in model.people:
        check_reader(db, model, person)
    return model.reached


def test_consultations_obey_the_access_policy(db: Database) -> None:
    reached: Counter[str] = Counter()
    runs: list[float] = []
    failed: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
        print_blob=True,
    )
    @given(world=worlds())
    def one_world(world: World) -> None:
        began = time.perf_counter()
        forget(db)
        model = build(db, world)
        try:
            reached.update(run(db, model, world))
        except AssertionError as error:
            if not failed:  # before shrinking: how many examples it took to find, and what
                failed.append(len(runs) + 1)
                first = str(error).splitlines()[0][:300]
                print(f"\nfirst failure at example {len(runs) + 1}: {first}", flush=True)
            raise
        finally:
            runs.append(time.perf_counter() - began)

    one_world()
    print(
        f"\n{len(runs)} worlds, {sum(runs) / len(runs) * 1000:.0f} ms each on average;"
        " examples reaching each situation:"
    )
    for name, count in sorted(reached.items()):
        print(f"{count:6}  {name}")
    assert len(runs) >= EXAMPLES
    if EXAMPLES >= DEFAULT_EXAMPLES:
        assert set(reached) >= SITUATIONS, SITUATIONS - set(reached)
