"""The after-action report of a session: a pure function of the scenario, the replayed state
and what the participants answered (docs/exercises.md). Its JSON form is what the page, the PDF
and `GET /api/v1/exercises/ID/report` show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trustbubble.domain.exercises.engine import Decided, Rating, State, scores
from trustbubble.domain.exercises.scenario import RESOURCES, Scenario

RATINGS = {
    Rating.P: "performed without challenges",
    Rating.S: "performed with some challenges",
    Rating.M: "performed with major challenges",
    Rating.U: "unable to be performed",
}
KNOWLEDGE_PHASES = ("before", "after")


@dataclass(frozen=True, slots=True)
class Response:
    """One participant's answer: to a knowledge question (before or after) or to the debrief."""

    kind: str  # before, after or debrief
    question: int
    name: str
    role: str
    answer: str


def _norms(letters: Sequence[str]) -> str:
    named = ", ".join(f"({n})" for n in letters)
    return f"norms {named}" if len(letters) > 1 else f"norm {named}"


def _who(scenario: Scenario, choice: Decided) -> str:
    if choice.defaulted:
        return "the deadline"
    return scenario.role(choice.role).name


def timeline(scenario: Scenario, state: State) -> list[dict[str, Any]]:
    """Injects and decisions in the order of game time."""
    events: list[tuple[int, int, dict[str, Any]]] = []
    for order, released in enumerate(state.released):
        inject = scenario.inject(released.inject)
        events.append(
            (
                released.minute,
                order * 2,
                {
                    "minute": released.minute,
                    "kind": "inject",
                    "id": inject.id,
                    "channel": inject.channel,
                    "title": inject.title,
                    "roles": [scenario.role(r).name for r in inject.roles],
                    "by": released.by,
                },
            )
        )
    for order, choice in enumerate(state.decided):
        decision = scenario.decision(choice.decision)
        option = decision.option(choice.option)
        events.append(
            (
                choice.minute,
                order * 2 + 1,
                {
                    "minute": choice.minute,
                    "kind": "decision",
                    "id": decision.id,
                    "prompt": decision.prompt,
                    "option": option.id,
                    "choice": option.text,
                    "by": _who(scenario, choice),
                    "team": scenario.role(choice.role or decision.roles[0]).team,
                    "defaulted": choice.defaulted,
                    "chance": choice.lucky,
                    "upholds": list(option.upholds),
                    "strains": list(option.strains),
                },
            )
        )
    return [event for _, _, event in sorted(events, key=lambda e: (e[0], e[1]))]


def resources_over_time(scenario: Scenario, state: State) -> list[dict[str, Any]]:
    """Per team, the resources after every change, and where they stood at the last minute."""
    found = []
    for team in scenario.teams:
        points = [{"minute": s.minute, **s.resources} for s in state.history if s.team == team.id]
        if points[-1]["minute"] < state.minute:
            points.append({"minute": state.minute, **state.resources[team.id]})
        found.append({"team": team.id, "name": team.name, "points": points})
    return found


def _lessons(scenario: Scenario, state: State) -> tuple[list[str], list[str]]:
    strengths: list[str] = []
    improve: list[str] = []
    for choice in state.decided:
        decision = scenario.decision(choice.decision)
        option = decision.option(choice.option)
        said = f"Minute {choice.minute}: {_who(scenario, choice)} chose “{option.text}”"
        strained = f", straining {_norms(option.strains)}" if option.strains else ""
        if choice.defaulted:
            improve.append(
                f"Minute {choice.minute}: no one answered “{decision.prompt}” before the "
                f"deadline, so “{option.text}” was taken by default{strained}"
            )
        elif strained:
            improve.append(said + strained)
        elif option.upholds:
            strengths.append(f"{said}, upholding {_norms(option.upholds)}")
    return strengths, improve


def _knowledge(scenario: Scenario, given: Sequence[Response]) -> dict[str, Any]:
    phases: dict[str, Any] = {}
    for phase in KNOWLEDGE_PHASES:
        answered = [r for r in given if r.kind == phase]
        right = [
            r
            for r in answered
            if r.question < len(scenario.knowledge)
            and r.answer == str(scenario.knowledge[r.question].answer)
        ]
        people = {r.name for r in answered}
        phases[phase] = {
            "people": len(people),
            "answers": len(answered),
            "correct": len(right),
            "share": round(len(right) / len(answered), 3) if answered else None,
        }
    return {
        "questions": [
            {"question": q.question, "options": list(q.options), "answer": q.answer}
            for q in scenario.knowledge
        ],
        **phases,
    }


def after_action(
    scenario: Scenario,
    state: State,
    players: Mapping[str, str],
    given: Sequence[Response],
) -> dict[str, Any]:
    """The report as JSON: `players` maps a role to who played it."""
    found = scores(scenario, state)
    strengths, improve = _lessons(scenario, state)
    for objective in scenario.objectives:
        rating = found.objectives[objective.id]
        if rating in (Rating.M, Rating.U):
            improve.append(
                f"Objective “{objective.text}” was rated {rating.value} ({RATINGS[rating]}): "
                + (
                    f"no choice upheld {_norms(objective.norms)}"
                    if rating is Rating.U
                    else f"choices strained {_norms(objective.norms)} as often as they upheld them"
                )
            )
    return {
        "scenario": {"id": scenario.id, "title": scenario.title, "minutes": scenario.minutes},
        "minute": state.minute,
        "ended": state.ended,
        "end_reason": state.end_reason,
        "resources": list(RESOURCES),
        "teams": [
            {
                "id": team.id,
                "name": team.name,
                "resources": found.resources[team.id],
                "alignment": found.alignment_by_team[team.id],
            }
            for team in scenario.teams
        ],
        "roles": [
            {
                "id": role.id,
                "name": role.name,
                "team": role.team,
                "player": players.get(role.id, ""),
                "alignment": found.alignment_by_role[role.id],
            }
            for role in scenario.roles
        ],
        "timeline": timeline(scenario, state),
        "resources_over_time": resources_over_time(scenario, state),
        "objectives": [
            {
                "id": objective.id,
                "text": objective.text,
                "norms": list(objective.norms),
                "rating": found.objectives[objective.id].value,
                "meaning": RATINGS[found.objectives[objective.id]],
            }
            for objective in scenario.objectives
        ],
        "strengths": strengths,
        "improvements": improve,
        "debrief": [
            {
                "question": question,
                "answers": [
                    {"name": r.name, "role": r.role, "answer": r.answer}
                    for r in given
                    if r.kind == "debrief" and r.question == index
                ],
            }
            for index, question in enumerate(scenario.debrief)
        ],
        "knowledge": _knowledge(scenario, given),
    }
