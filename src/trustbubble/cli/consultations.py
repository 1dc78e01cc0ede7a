"""`trustbubble draft ...` and `trustbubble consultation ...`: drafts open to comment.

Thin over `services/consultations.py` (docs/consultations.md): every command acts `--as` a user,
with that user's organization's part in the consultation, decided by the access policy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich import box
from rich.table import Table
from rich.text import Text

from trustbubble.cli.common import AsUser, JsonOption, database, errors, fail, out, report
from trustbubble.domain.access import Part
from trustbubble.domain.consultations import (
    Audience,
    Change,
    ChangeKind,
    Paragraph,
    Phase,
    Question,
    Stance,
    diff,
    read_audience,
    read_questions,
    word_diff,
)
from trustbubble.domain.errors import Invalid, NotFound

if TYPE_CHECKING:
    from trustbubble.domain.accounts import User
    from trustbubble.services.consultations import (
        CommentView,
        ConsultationView,
        DraftView,
        VersionView,
    )
    from trustbubble.store.database import Database

draft_app = typer.Typer(
    help="Drafts open to comment: write them, publish versions, compare them.",
    no_args_is_help=True,
)
consultation_app = typer.Typer(
    help="Consultations on a draft: open, comment paragraph by paragraph, answer, close.",
    no_args_is_help=True,
)

DraftArgument = Annotated[str, typer.Argument(help="The draft's id.")]
ConsultationArgument = Annotated[str, typer.Argument(help="The consultation's id.")]
CommentArgument = Annotated[int, typer.Argument(help="The comment's number (#N in `show`).")]
MarkdownOption = Annotated[
    Path,
    typer.Option("--file", exists=True, dir_okay=False, help="The text, as a Markdown file."),
]
ReasonOption = Annotated[str, typer.Option(help="Why, in a sentence or two.")]

_SEEN_AS = {
    Part.DRAFTER: "your organization drafts it: answer, hide, decide on requests",
    Part.PARTICIPANT: "your organization takes part",
    Part.APPLICANT: "your organization asked to take part",
}


# -- shared helpers ---------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{path}: is not UTF-8 text")
    except OSError as error:
        fail(f"{path}: cannot be read ({error.strerror})")


def _moment(value: str, option: str) -> datetime:
    """A date and time given on the command line; without a zone, UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(
            option, f"{value!r} is not a date and time such as 2026-12-31T18:00Z"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _numbers(value: str, option: str) -> list[int]:
    found = []
    for piece in value.replace(",", " ").split():
        if not piece.lstrip("#").isdigit():
            raise Invalid(option, f"{piece!r} is not a comment number")
        found.append(int(piece.lstrip("#")))
    return found


def _kind(value: str) -> str:
    return value.replace("-", " ")


def _block(lead: str, text: str, style: str = "") -> None:
    """Text that may run over several lines, the first after `lead`, the others under it."""
    pad = " " * len(lead)
    for i, line in enumerate(text.splitlines() or [""]):
        out.print(Text(pad if i else lead), Text(line, style=style), sep="")


def _heading(title: str) -> None:
    out.print()
    out.print(Text(title, style="bold"))


def _print_paragraphs(found: Sequence[Paragraph], comments: Sequence[CommentView] = ()) -> None:
    """Numbered paragraphs under their sections, each followed by its comments and replies."""
    section: str | None = None
    for p in found:
        if p.section != section:
            section = p.section
            out.print()
            if section:
                out.print(Text(section, style="bold"))
        lead = f"{p.number:>3}  "
        _block(lead, p.text)
        for c in comments:
            if c.paragraph == p.number and c.parent_id is None:
                _print_comment(c, comments, len(lead))


def _print_comment(c: CommentView, every: Sequence[CommentView], indent: int) -> None:
    lead = " " * indent
    who = f"#{c.id} {c.organization} ({_kind(c.kind)})"
    if c.parent_id is not None:
        said = f"{who} replied: "
    else:
        norms = f", norms {' '.join(c.norms)}" if c.norms else ""
        said = f"{who}, {c.stance}{norms}: "
    if c.hidden is not None and not c.text:
        _block(lead, said + f"hidden by the drafter: {c.hidden}", "dim")
    else:
        _block(lead, said + c.text)
    more = lead + "  "
    if c.wording:
        _block(more, f"proposed wording: {c.wording}")
    if c.incident:
        _block(more, f"incident: {c.incident}")
    if c.hidden is not None and c.text:
        _block(more, f"hidden by the drafter: {c.hidden} (your organization still reads it)")
    if c.verdict is not None:
        why = f": {c.verdict_reason}" if c.verdict_reason else ""
        _block(more, f"answer: {c.verdict}{why}")
    if c.answered_in is not None:
        _block(more, f"answered in version {c.answered_in}")
    for r in every:
        if r.parent_id == c.id:
            _print_comment(r, every, len(more))


def _version(seen: DraftView, number: int | None, option: str = "--version") -> VersionView:
    if number is None:
        return seen.versions[-1]
    for version in seen.versions:
        if version.number == number:
            return version
    raise Invalid(option, f"the draft has versions 1 to {len(seen.versions)}, not {number}")


def _version_json(v: VersionView, with_paragraphs: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": v.number,
        "note": v.note,
        "created": v.created,
        "answers": list(v.answers),
    }
    if with_paragraphs:
        data["paragraphs"] = [dataclasses.asdict(p) for p in v.paragraphs]
    return data


def _answers_line(answers: Iterable[int]) -> str:
    return "answers comments " + ", ".join(f"#{n}" for n in answers)


# -- drafts -----------------------------------------------------------------------------------


@draft_app.command("add")
def draft_add(
    title: Annotated[str, typer.Argument(help="The draft's title.")],
    kind: Annotated[str, typer.Option(help="strategy, position, charter or guideline.")],
    file: MarkdownOption,
    as_user: AsUser,
    as_json: JsonOption = False,
) -> None:
    """Write a draft of the user's organization, with its text as version 1; prints its id."""
    from trustbubble.services import accounts, consultations

    markdown = _read(file)
    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        made = consultations.new_draft(db, user, title, kind, markdown)
        seen = consultations.draft_view(db, user, made)
    count = len(seen.versions[0].paragraphs)
    data = {"id": made, "title": seen.title, "kind": seen.kind, "version": 1, "paragraphs": count}
    said = f"added draft {made}: {seen.title}, version 1 with {count} paragraphs"
    report(as_json, data, lambda: out.print(Text(said)))


@draft_app.command("list")
def draft_list(as_user: AsUser, as_json: JsonOption = False) -> None:
    """List the drafts the user may read: their organization's, and those of consultations
    their organization takes part in."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        found = [
            consultations.draft_view(db, user, d.id) for d in consultations.drafts_for(db, user)
        ]
    rows = [
        {
            "id": d.id,
            "title": d.title,
            "kind": d.kind,
            "drafter": d.drafter,
            "mine": d.mine,
            "versions": len(d.versions),
            "consultations": d.consultations,
        }
        for d in found
    ]

    def text() -> None:
        if not found:
            out.print("no draft")
            return
        table = Table(box=box.SIMPLE, pad_edge=False)
        table.add_column("Id", no_wrap=True)
        table.add_column("Draft")
        for d in found:
            versions = f"{len(d.versions)} version" + ("" if len(d.versions) == 1 else "s")
            said = Text.assemble(d.title, "\n", (f"{d.kind} by {d.drafter}, {versions}", "dim"))
            table.add_row(d.id, said)
        out.print(table)

    report(as_json, {"drafts": rows}, text)


@draft_app.command("show")
def draft_show(
    draft_id: DraftArgument,
    as_user: AsUser,
    version: Annotated[
        int | None, typer.Option(help="The version to show; the latest if not given.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a version of a draft as numbered paragraphs under their sections."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        seen = consultations.draft_view(db, user, draft_id)
        chosen = _version(seen, version)
    data = {
        "id": seen.id,
        "title": seen.title,
        "kind": seen.kind,
        "drafter": seen.drafter,
        "mine": seen.mine,
        "consultations": seen.consultations,
        "versions": [_version_json(v, with_paragraphs=False) for v in seen.versions],
        "version": _version_json(chosen, with_paragraphs=True),
    }

    def text() -> None:
        out.print(Text(seen.title, style="bold"), Text(f"  {seen.id}"))
        out.print(
            Text(
                f"{seen.kind} by {seen.drafter}; version {chosen.number} of "
                f"{len(seen.versions)}, {_when(chosen.created)}"
            )
        )
        if chosen.note:
            _block("note: ", chosen.note)
        if chosen.answers:
            out.print(Text(_answers_line(chosen.answers)))
        if seen.consultations:
            out.print(Text("consultations: " + ", ".join(seen.consultations)))
        _print_paragraphs(chosen.paragraphs)

    report(as_json, data, text)


@draft_app.command("version")
def draft_version(
    draft_id: DraftArgument,
    file: MarkdownOption,
    as_user: AsUser,
    note: Annotated[str, typer.Option(help="What changed, and why.")] = "",
    answers: Annotated[
        str, typer.Option(help="The comments this version answers, by number: 3,5.")
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Publish a new version of a draft, naming the comments it answers."""
    from trustbubble.services import accounts, consultations

    markdown = _read(file)
    with database() as db, errors():
        answered = _numbers(answers, "--answers")
        user = accounts.user_by_email(db, as_user)
        number = consultations.add_version(db, user, draft_id, markdown, note, answered)
    data = {"id": draft_id, "version": number, "answers": list(dict.fromkeys(answered))}

    def text() -> None:
        out.print(Text(f"draft {draft_id}: version {number}"))
        if answered:
            out.print(Text(_answers_line(dict.fromkeys(answered))))

    report(as_json, data, text)


def _print_change(change: Change) -> None:
    if change.kind is ChangeKind.UNCHANGED:
        out.print(Text(f"paragraph {change.old} -> {change.new}, unchanged"))
    elif change.kind is ChangeKind.ADDED:
        out.print(Text(f"paragraph {change.new}, added:"))
        _block("  + ", change.new_text, "green")
    elif change.kind is ChangeKind.REMOVED:
        out.print(Text(f"paragraph {change.old}, removed:"))
        _block("  - ", change.old_text, "red")
    else:
        out.print(Text(f"paragraph {change.old} -> {change.new}, changed:"))
        words = Text("  ")
        for i, (op, said) in enumerate(word_diff(change.old_text, change.new_text)):
            if i:
                words.append(" ")
            if op == "-":
                words.append(f"[-{said}-]", style="red")
            elif op == "+":
                words.append(f"{{+{said}+}}", style="green")
            else:
                words.append(said)
        out.print(words)


def _change_json(change: Change) -> dict[str, Any]:
    """A change as the API gives it: a changed paragraph with its word diff."""
    data = dataclasses.asdict(change)
    if change.kind is ChangeKind.CHANGED:
        words = word_diff(change.old_text, change.new_text)
        data["words"] = [{"op": op, "text": said} for op, said in words]
    return data


@draft_app.command("diff")
def draft_diff(
    draft_id: DraftArgument,
    from_version: Annotated[int, typer.Argument(help="The version to compare from.")],
    to_version: Annotated[int, typer.Argument(help="The version to compare to.")],
    as_user: AsUser,
    as_json: JsonOption = False,
) -> None:
    """Compare two versions paragraph by paragraph, with a word diff of each changed one."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        seen = consultations.draft_view(db, user, draft_id)
        before, after = (
            _version(seen, from_version, "version"),
            _version(seen, to_version, "version"),
        )
    changes = diff(before.paragraphs, after.paragraphs)
    low, high = sorted((before.number, after.number))
    answered = list(
        dict.fromkeys(n for v in seen.versions if low < v.number <= high for n in v.answers)
    )
    data = {
        "id": seen.id,
        "from": before.number,
        "to": after.number,
        "answers": answered,
        "changes": [_change_json(c) for c in changes],
    }

    def text() -> None:
        out.print(Text(f"{seen.title}: version {before.number} -> {after.number}", style="bold"))
        if after.note and after.number == high:
            _block(f"note of version {after.number}: ", after.note)
        if answered:
            out.print(Text(_answers_line(answered)))
        for change in changes:
            _print_change(change)

    report(as_json, data, text)


# -- consultations ----------------------------------------------------------------------------


def _bubble_ids(db: Database, names: Iterable[str]) -> list[str]:
    from trustbubble.services import bubbles

    return [bubbles.bubble_by_name(db, name).id for name in names]


def _questions(path: Path | None) -> tuple[Question, ...]:
    if path is None:
        return ()
    content = _read(path)
    try:
        loaded = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise Invalid(str(path), f"is not JSON ({error})") from None
    if isinstance(loaded, dict):
        loaded = loaded.get("questions", loaded)
    try:
        return read_questions(loaded)
    except Invalid as error:
        raise Invalid(f"{path}: {error.field}", error.reason) from None


def _audience(bubble_ids: list[str], kinds: list[str], public: bool) -> Audience:
    """The audience, with errors naming the options that give it."""
    try:
        return read_audience({"bubbles": bubble_ids, "kinds": kinds, "public": public})
    except Invalid as error:
        if error.field.startswith("audience.kinds"):
            raise Invalid("--kind", error.reason) from None
        if error.field == "audience":
            raise Invalid("", "choose who may comment: --kind, --bubble or --public") from None
        raise


def _phase_line(seen: ConsultationView) -> str:
    if seen.phase is Phase.SCHEDULED:
        return f"opens {_when(seen.opens)}, closes {_when(seen.closes)}"
    if seen.phase is Phase.OPEN:
        return f"open until {_when(seen.closes)}"
    return f"closed on {_when(seen.closes)}"


def _consultation_json(seen: ConsultationView) -> dict[str, Any]:
    data = dataclasses.asdict(seen)
    data["part"] = seen.part.name.lower()
    return data


@consultation_app.command("open")
def consultation_open(
    draft_id: DraftArgument,
    version: Annotated[int, typer.Option(help="The version open to comment.")],
    closes: Annotated[str, typer.Option(help="When it closes, UTC: 2026-12-31T18:00Z.")],
    as_user: AsUser,
    opens: Annotated[str | None, typer.Option(help="When it opens, UTC; now if not given.")] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            help="A stakeholder kind in the audience: government, cert, operator, private, "
            "civil-society, international or academia; repeat for several."
        ),
    ] = None,
    bubble: Annotated[
        list[str] | None,
        typer.Option(help="A bubble whose members are in the audience, by name; repeat."),
    ] = None,
    public: Annotated[
        bool, typer.Option("--public", help="Open to everyone signed in to the node.")
    ] = False,
    objection_days: Annotated[
        int, typer.Option(help="Days to object to a request to take part, 0 to 90.")
    ] = 7,
    questions: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help='Questions for the people affected, as JSON: [{"text", "choices"}].',
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Open a version of a draft to comment, for a period, to an audience; prints its id."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        asked = _questions(questions)
        closing = _moment(closes, "--closes")
        opening = _moment(opens, "--opens") if opens is not None else datetime.now(UTC)
        user = accounts.user_by_email(db, as_user)
        audience = _audience(_bubble_ids(db, bubble or []), kind or [], public)
        made = consultations.open_consultation(
            db, user, draft_id, version, opening, closing, audience, asked, objection_days
        )
        seen = consultations.view(db, user, made)
    data = {
        "id": made,
        "draft_id": draft_id,
        "version": version,
        "opens": seen.opens,
        "closes": seen.closes,
        "phase": seen.phase.value,
        "audience": seen.audience,
    }
    said = (
        f"opened {made}: {seen.title}, version {version}, {_phase_line(seen)}, to {seen.audience}"
    )
    report(as_json, data, lambda: out.print(Text(said)))


@consultation_app.command("list")
def consultation_list(as_user: AsUser, as_json: JsonOption = False) -> None:
    """List the consultations the user's organization drafted or takes part in, newest first."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        found = consultations.consultations_for(db, accounts.user_by_email(db, as_user))

    def text() -> None:
        if not found:
            out.print("no consultation")
            return
        table = Table(box=box.SIMPLE, pad_edge=False)
        table.add_column("Id", no_wrap=True)
        table.add_column("Phase", no_wrap=True)
        table.add_column("Closes", no_wrap=True)
        table.add_column("Draft")
        for c in found:
            mine = ", yours" if c["drafter"] else ""
            table.add_row(
                c["id"],
                c["phase"],
                f"{c['closes']:%Y-%m-%d}",
                Text(f"{c['title']}, version {c['version']}{mine}"),
            )
        out.print(table)

    report(as_json, {"consultations": found}, text)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _print_summary(seen: ConsultationView) -> None:
    stances = [s.value for s in Stance]
    _heading("Summary per paragraph")
    table = Table(box=box.SIMPLE, pad_edge=False)
    for title in ("Paragraph", "Comments", *(s.capitalize() for s in stances), "Accepted"):
        table.add_column(title, justify="right")
    for p in seen.by_paragraph:
        by_stance = (str(p.stances.get(s, 0)) for s in stances)
        table.add_row(str(p.number), str(p.comments), *by_stance, _share(p.accepted_share))
    out.print(table)
    if not seen.by_kind:
        return
    _heading("Summary per stakeholder kind")
    kinds = Table(box=box.SIMPLE, pad_edge=False)
    kinds.add_column("Kind")
    for s in stances:
        kinds.add_column(s.capitalize(), justify="right")
    kinds.add_column("Accepted", justify="right")
    for name, counts in seen.by_kind.items():
        by_stance = (str(counts.get(s, 0)) for s in stances)
        kinds.add_row(_kind(name), *by_stance, _share(seen.accepted_by_kind.get(name)))
    out.print(kinds)


def _print_questions(seen: ConsultationView) -> None:
    if not seen.questions:
        return
    _heading("Questions for the people affected")
    for i, (asked, tally) in enumerate(zip(seen.questions, seen.answers, strict=False), 1):
        choices = asked.get("choices") or []
        offered = f" ({', '.join(choices)})" if choices else ""
        _block(f"{i:>3}. ", f"{asked['text']}{offered}")
        given = ", ".join(f"{answer}: {n}" for answer, n in tally["answers"].items())
        _block("     ", f"{tally['organizations']} answered" + (f"; {given}" if given else ""))
        for name, counts in tally["by_kind"].items():
            per = ", ".join(f"{answer}: {n}" for answer, n in counts.items())
            _block("       ", f"{_kind(name)}: {per}")


def _print_requests(seen: ConsultationView) -> None:
    if not seen.requests:
        return
    _heading("Requests to take part")
    for r in seen.requests:
        _block("  ", f"{r['organization']} ({_kind(r['kind'])}), {r['state']}: {r['reason']}")
        for o in r["objections"]:
            _block("    ", f"objection from {o['organization']}: {o['reason']}")


def _print_consultation(seen: ConsultationView) -> None:
    out.print(Text(f"{seen.title}, version {seen.version}", style="bold"), Text(f"  {seen.id}"))
    out.print(Text(f"drafted by {seen.drafter}; {_phase_line(seen)}; audience: {seen.audience}"))
    may = "; you may comment" if seen.may_comment else ""
    out.print(Text(f"draft {seen.draft_id}; {_SEEN_AS.get(seen.part, '')}{may}"))
    if seen.part >= Part.PARTICIPANT:
        _print_paragraphs(seen.paragraphs, seen.comments)
        _print_summary(seen)
        _print_questions(seen)
    _print_requests(seen)


@consultation_app.command("show")
def consultation_show(
    consultation_id: ConsultationArgument, as_user: AsUser, as_json: JsonOption = False
) -> None:
    """Show a consultation: its phase, its paragraphs with their comments, the summaries, the
    answers to its questions and the requests to take part."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        seen = consultations.view(db, accounts.user_by_email(db, as_user), consultation_id)
    report(as_json, _consultation_json(seen), lambda: _print_consultation(seen))


@consultation_app.command("comment")
def consultation_comment(
    consultation_id: ConsultationArgument,
    paragraph: Annotated[int, typer.Option(help="The number of the paragraph.")],
    stance: Annotated[str, typer.Option(help="support, object or amend.")],
    text: Annotated[str, typer.Option(help="The comment.")],
    as_user: AsUser,
    wording: Annotated[str, typer.Option(help="For amend: the paragraph as you want it.")] = "",
    norm: Annotated[
        list[str] | None, typer.Option(help="A UN GGE norm it concerns, a to k; repeat.")
    ] = None,
    incident: Annotated[str, typer.Option(help="The STIX id of an incident it refers to.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Comment on a paragraph of the consultation's version, while it is open."""
    from trustbubble.services import accounts, consultations

    given = {
        "paragraph": paragraph,
        "stance": stance,
        "text": text,
        "wording": wording,
        "norms": norm or [],
        "incident": incident,
    }
    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        made = consultations.comment(db, user, consultation_id, given)
    data = {"id": made, "consultation": consultation_id, "paragraph": paragraph}
    report(as_json, data, lambda: out.print(Text(f"comment #{made} on paragraph {paragraph}")))


@consultation_app.command("reply")
def consultation_reply(
    consultation_id: ConsultationArgument,
    comment: CommentArgument,
    text: Annotated[str, typer.Option(help="The reply.")],
    as_user: AsUser,
    as_json: JsonOption = False,
) -> None:
    """Reply to a comment, while the consultation is open."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        made = consultations.reply(db, user, consultation_id, comment, text)
    data = {"id": made, "consultation": consultation_id, "parent": comment}
    report(as_json, data, lambda: out.print(Text(f"reply #{made} to comment #{comment}")))


@consultation_app.command("answer")
def consultation_answer(
    consultation_id: ConsultationArgument,
    comment: CommentArgument,
    verdict: Annotated[str, typer.Option(help="accepted, partly-accepted or not-accepted.")],
    as_user: AsUser,
    reason: Annotated[str, typer.Option(help="Why; required unless the comment is accepted.")] = "",
    as_json: JsonOption = False,
) -> None:
    """The drafter's answer to a comment: accepted, partly accepted or not, with a reason."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        consultations.respond(db, user, consultation_id, comment, verdict, reason)
    data = {"consultation": consultation_id, "comment": comment, "verdict": verdict.strip()}
    report(as_json, data, lambda: out.print(Text(f"comment #{comment}: {verdict.strip()}")))


@consultation_app.command("hide")
def consultation_hide(
    consultation_id: ConsultationArgument,
    comment: CommentArgument,
    as_user: AsUser,
    reason: Annotated[
        str | None, typer.Option(help="Why it is hidden; shown to everyone in its place.")
    ] = None,
    show: Annotated[bool, typer.Option("--show", help="Show a hidden comment again.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Hide a comment with a reason (the drafter only), or show it again with --show."""
    from trustbubble.services import accounts, consultations

    if (reason is None) == (not show):
        raise typer.BadParameter("give --reason REASON to hide, or --show to show again")
    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        consultations.hide(db, user, consultation_id, comment, None if show else reason)
    data = {"consultation": consultation_id, "comment": comment, "hidden": not show}
    said = f"comment #{comment}: " + ("shown again" if show else "hidden")
    report(as_json, data, lambda: out.print(Text(said)))


@consultation_app.command("close")
def consultation_close(
    consultation_id: ConsultationArgument, as_user: AsUser, as_json: JsonOption = False
) -> None:
    """Close a consultation now, before its end (the drafter only)."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        consultations.close(db, user, consultation_id)
        seen = consultations.view(db, user, consultation_id)
    data = {"id": consultation_id, "phase": seen.phase.value, "closes": seen.closes}
    report(as_json, data, lambda: out.print(Text(f"{consultation_id}: {_phase_line(seen)}")))


# -- accreditation ----------------------------------------------------------------------------


def _request(seen: ConsultationView, org: str) -> Mapping[str, Any]:
    """The request to take part of the organization named, among those the user sees."""
    from trustbubble.domain.accounts import normalize_name

    name = normalize_name(org, "ORG_NAME")
    for r in seen.requests:
        if r["organization"] == name:
            return r
    raise NotFound(f"no request to take part from {name!r} in this consultation")


def _on_request(
    consultation_id: str,
    as_user: str,
    org: str,
    as_json: bool,
    act: Callable[[Database, User, str], None],
) -> None:
    """Act on an organization's request to take part, named as the user sees it in `show`."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        asked = _request(consultations.view(db, user, consultation_id), org)
        act(db, user, asked["org_id"])
        now = _request(consultations.view(db, user, consultation_id), org)
    data = {
        "consultation": consultation_id,
        "organization": now["organization"],
        "state": now["state"],
    }
    report(as_json, data, lambda: out.print(Text(f"{now['organization']}: {now['state']}")))


@consultation_app.command("ask")
def consultation_ask(
    consultation_id: ConsultationArgument,
    reason: ReasonOption,
    as_user: AsUser,
    as_json: JsonOption = False,
) -> None:
    """Ask for the user's organization to take part in a consultation it is not in."""
    from trustbubble.services import accounts, consultations

    with database() as db, errors():
        user = accounts.user_by_email(db, as_user)
        consultations.ask_to_take_part(db, user, consultation_id, reason)
        seen = consultations.view(db, user, consultation_id)
    mine = next((r for r in seen.requests if r["org_id"] == user.org_id), None)
    state = mine["state"] if mine else "admitted"
    data = {"consultation": consultation_id, "state": state}
    report(
        as_json,
        data,
        lambda: out.print(Text(f"asked to take part in {consultation_id}: {state}")),
    )


@consultation_app.command("object")
def consultation_object(
    consultation_id: ConsultationArgument,
    org_name: Annotated[str, typer.Argument(help="The organization that asked to take part.")],
    reason: ReasonOption,
    as_user: AsUser,
    as_json: JsonOption = False,
) -> None:
    """Object to an organization's request to take part, within the objection period."""
    from trustbubble.services import consultations

    def act(db: Database, user: User, org_id: str) -> None:
        consultations.object_to(db, user, consultation_id, org_id, reason)

    _on_request(consultation_id, as_user, org_name, as_json, act)


@consultation_app.command("decide")
def consultation_decide(
    consultation_id: ConsultationArgument,
    org_name: Annotated[str, typer.Argument(help="The organization that asked to take part.")],
    admit: Annotated[
        bool, typer.Option("--admit/--refuse", help="Admit the organization, or refuse it.")
    ],
    as_user: AsUser,
    as_json: JsonOption = False,
) -> None:
    """Admit or refuse an organization that asked to take part (the drafter only)."""
    from trustbubble.services import consultations

    def act(db: Database, user: User, org_id: str) -> None:
        consultations.decide(db, user, consultation_id, org_id, admit)

    _on_request(consultation_id, as_user, org_name, as_json, act)
