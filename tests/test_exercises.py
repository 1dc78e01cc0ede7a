"""Scenario files and the exercise engine: clear errors with line and path, and deterministic
replay of any decision log."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzzing import scaled
from trustbubble.domain.errors import Conflict, DomainError, Invalid
from trustbubble.domain.exercises.engine import Entry, Rating, Step, replay, scores
from trustbubble.domain.exercises.scenario import (
    SHIPPED,
    InvalidScenario,
    Scenario,
    read_scenario,
    shipped,
)

HOSPITALS = SHIPPED / "hospital-ransomware.yaml"


def _text() -> str:
    return HOSPITALS.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _problems(text: str) -> list[str]:
    with pytest.raises(InvalidScenario) as caught:
        read_scenario(text, "s.yaml")
    return [str(p) for p in caught.value.problems]


def test_every_shipped_scenario_is_valid_and_an_hour_long() -> None:
    found = shipped()
    assert found
    for scenario in found:
        assert 45 <= scenario.minutes <= 75, scenario.id
        assert {r.team for r in scenario.roles} == {t.id for t in scenario.teams}


@pytest.mark.parametrize(
    ("change", "needle", "expected"),
    [
        (
            (
                "unlocks: [forensic-findings]\n      - id: take-down",
                "unlocks: [forensics]\n      - id: take-down",
            ),
            "unlocks: [forensics]",
            "decisions[2].options[0].unlocks[0]: no inject 'forensics'",
        ),
        (
            ("default: no-comment", "default: silence"),
            "default: silence",
            "decisions[3].default: 'silence' is not one of its options"
            " (evidence-first, blame, no-comment)",
        ),
        (
            ("    minutes: 8\n    default: hold", "    minutes: eight\n    default: hold"),
            "minutes: eight",
            "decisions[1].minutes: 'eight' is not a whole number",
        ),
        (
            ("channel: phone", "channel: fax"),
            "channel: fax",
            "injects[3].channel: 'fax' is not one of"
            " news, intelligence, email, phone, social-media",
        ),
        (
            ("    norms: [b]", "    norms: [z]"),
            "norms: [z]",
            "objectives[3].norms[0]: 'z' is not one of a, b, c, d, e, f, g, h, i, j, k",
        ),
        (
            ("  - id: south-cert\n    team: south", "  - id: south-cert\n    team: east"),
            "team: east",
            "roles[3].team: no team 'east'",
        ),
    ],
)
def test_a_mistake_is_named_with_its_line_and_path(
    change: tuple[str, str], needle: str, expected: str
) -> None:
    text = _text()
    assert change[0] in text
    broken = text.replace(change[0], change[1], 1)
    assert _problems(broken) == [f"line {_line_of(broken, needle)}: {expected}"]


def test_missing_fields_unknown_fields_and_duplicate_keys() -> None:
    text = _text()
    missing = text.replace("debrief:\n", "debriefing:\n", 1)
    problems = _problems(missing)
    assert any("needs debrief" in p for p in problems)
    assert any("unknown debriefing" in p for p in problems)
    twice = text.replace("seed: 20261127\n", "seed: 20261127\nseed: 3\n", 1)
    assert (
        _problems(twice)[0] == f"line {_line_of(twice, 'seed: 3')}: seed: is given twice; keep one"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id: [unclosed\n", "line 2: not valid YAML"),
        ("- just\n- a list\n", "line 1: must be a mapping"),
        ("a: &x [1]\nb: *x\n", "line 2: YAML aliases (*name) are not allowed"),
        ("", "line 1: must be a mapping"),
    ],
)
def test_files_that_are_not_scenarios(text: str, expected: str) -> None:
    assert _problems(text)[0].startswith(expected)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.data())
def test_a_fuzzed_scenario_file_gets_a_clear_error_never_a_crash(data: st.DataObject) -> None:
    text = _text()
    kind = data.draw(st.sampled_from(["cut", "replace", "insert", "random"]))
    if kind == "random":
        text = data.draw(st.text(max_size=400))
    else:
        at = data.draw(st.integers(0, len(text)))
        junk = data.draw(st.text(max_size=30))
        if kind == "cut":
            text = text[:at] + text[at + data.draw(st.integers(1, 200)) :]
        elif kind == "replace":
            text = text[:at] + junk + text[at + len(junk) :]
        else:
            text = text[:at] + junk + text[at:]
    problems = []
    try:
        read_scenario(text, "fuzzed.yaml")
    except InvalidScenario as error:
        problems = error.problems
        assert problems, "an invalid scenario names at least one problem"
    assert all(p.line >= 0 and p.message for p in problems)


# What a person editing a scenario might put anywhere: other kinds, empty ones, edge numbers,
# ids that exist elsewhere in the file, text far from ASCII.
SCENARIO_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["north", "south", "first-hour", "wait", "a", "h", "M", "0", "", "60"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@st.composite
def _edited(draw: st.DrawFn) -> Any:
    """A shipped scenario's data with one to three values changed, removed or added, anywhere."""
    path = draw(st.sampled_from(sorted(SHIPPED.glob("*.yaml"))))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        place = data
        while True:
            keys: list[Any] = sorted(place) if isinstance(place, dict) else list(range(len(place)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            inner = place[key]
            if isinstance(inner, dict | list) and inner and draw(st.integers(0, 3)) > 0:
                place = inner
                continue
            if isinstance(place, list) and draw(st.integers(0, 4)) == 0:
                place.insert(key, place[draw(st.sampled_from(keys))])  # a repeat
            elif isinstance(place, dict) and draw(st.integers(0, 4)) == 0:
                del place[key]
            else:
                place[key] = draw(SCENARIO_VALUES)
            break
    return data


@settings(max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_edited())
def test_an_edited_scenario_is_refused_by_its_problems_or_plays_to_its_end(data: Any) -> None:
    """Structure where the text fuzzing above mostly meets YAML errors: a file the reader accepts
    must be one the engine plays, start to end, with nothing but typed errors."""
    try:
        scenario = read_scenario(yaml.safe_dump(data, allow_unicode=True), "edited.yaml")
    except InvalidScenario as error:
        refused = error
    else:
        log = [Entry(Step.START), Entry(Step.ADVANCE, minutes=scenario.end_minutes + 1)]
        state = replay(scenario, log)
        assert state.ended
        scores(scenario, state)
        return
    assert refused.problems
    assert all(p.line >= 0 and p.message for p in refused.problems)


def _start() -> tuple[Scenario, list[Entry]]:
    return read_scenario(_text()), [Entry(Step.START)]


def test_a_missed_deadline_takes_the_default_option_and_time_ends_the_exercise() -> None:
    scenario, log = _start()
    state = replay(scenario, [*log, Entry(Step.ADVANCE, minutes=10)])
    (first,) = state.decided
    assert (first.decision, first.option, first.defaulted) == ("first-hour", "wait", True)
    assert state.resources["north"]["service_capacity"] == 70
    state = replay(scenario, [*log, Entry(Step.ADVANCE, minutes=120)])
    assert state.ended
    assert state.minute == 60
    assert state.end_reason == "time is up at minute 60"


def test_a_choice_unlocks_injects_and_is_scored_against_the_norms() -> None:
    scenario, log = _start()
    log += [
        Entry(Step.ADVANCE, minutes=8),
        Entry(Step.DECIDE, decision="warn-partner", option="ask-help", role="north-cert"),
        Entry(Step.DECIDE, decision="answer-request", option="send-team", role="south-foreign"),
    ]
    state = replay(scenario, log)
    released = [r.inject for r in state.released]
    assert released[-2:] == ["southland-asked", "forensic-findings"]
    assert state.resources["south"]["diplomatic_confidence"] == 75
    result = scores(scenario, state)
    assert result.alignment_by_role["south-foreign"] == {"h": 1}
    assert result.alignment_by_team["north"] == {"a": 1, "d": 1, "h": 1}
    assert result.objectives["ask-and-answer"] is Rating.P


def test_entries_that_do_not_apply_are_refused_with_their_reason() -> None:
    scenario, log = _start()
    with pytest.raises(Conflict, match="decision 'public-line' is not open yet"):
        replay(
            scenario,
            [
                *log,
                Entry(Step.DECIDE, decision="public-line", option="blame", role="north-foreign"),
            ],
        )
    with pytest.raises(Invalid, match="'north-cert' does not take decision 'first-hour'"):
        replay(
            scenario,
            [*log, Entry(Step.DECIDE, decision="first-hour", option="pay", role="north-cert")],
        )
    with pytest.raises(Conflict, match="start the exercise first"):
        replay(scenario, [Entry(Step.ADVANCE, minutes=5)])


def _possible(scenario: Scenario, log: list[Entry]) -> list[Entry]:
    state = replay(scenario, log)
    if state.ended:
        return []
    moves = [Entry(Step.ADVANCE, minutes=m) for m in (1, 5, 13)]
    moves += [Entry(Step.PAUSE), Entry(Step.RESUME), Entry(Step.END)]
    moves += [
        Entry(Step.RELEASE, inject=i.id) for i in scenario.injects if not state.is_released(i.id)
    ]
    for decision_id in state.open_decisions():
        decision = scenario.decision(decision_id)
        moves += [
            Entry(Step.DECIDE, decision=decision.id, option=o.id, role=r)
            for o in decision.options
            for r in decision.roles
        ]
    return moves


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_replaying_any_decision_log_gives_the_same_state_and_scores(data: st.DataObject) -> None:
    scenario = data.draw(st.sampled_from(shipped()))
    log = [Entry(Step.START)]
    for _ in range(data.draw(st.integers(0, 25))):
        moves = _possible(scenario, log)
        if not moves:
            break
        log.append(data.draw(st.sampled_from(moves)))
    first = replay(scenario, log)
    again = replay(scenario, list(log))
    assert dataclasses.asdict(first) == dataclasses.asdict(again)
    assert scores(scenario, first) == scores(scenario, again)
    # Every decision is taken once at most, resources stay within 0 to 100, time never runs back.
    taken = [d.decision for d in first.decided]
    assert len(taken) == len(set(taken))
    for team in first.resources.values():
        assert all(0 <= v <= 100 for v in team.values())
    minutes = [s.minute for s in first.history]
    assert minutes == sorted(minutes)
    # Nothing scheduled is lost on the way: by the minute reached, every inject due is out, and
    # every open decision's deadline is still ahead.
    if not first.ended:
        due = {i.id for i in scenario.injects if i.at is not None and i.at <= first.minute}
        assert due <= {r.inject for r in first.released}
        for decision_id in first.open_decisions():
            deadline = first.opened[decision_id] + scenario.decision(decision_id).minutes
            assert deadline > first.minute


def test_an_inject_due_at_the_minute_a_deadline_passes_is_still_released() -> None:
    scenario = next(s for s in shipped() if s.id == "cross-border-water")
    state = replay(scenario, [Entry(Step.START), Entry(Step.ADVANCE, minutes=59)])
    scheduled = {i.id for i in scenario.injects if i.at is not None and i.at <= 59}
    assert scheduled <= {r.inject for r in state.released}


def test_the_published_schema_is_valid_json_schema() -> None:
    import json

    import jsonschema

    schema = json.loads(Path(SHIPPED.parent / "scenario.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)


def test_only_typed_errors_escape_an_engine_given_nonsense() -> None:
    scenario, log = _start()
    for entry in (
        Entry(Step.ADVANCE, minutes=0),
        Entry(Step.RELEASE, inject="nope"),
        Entry(Step.DECIDE, decision="nope"),
        Entry(Step.START),
    ):
        with pytest.raises(DomainError):
            replay(scenario, [*log, entry])
