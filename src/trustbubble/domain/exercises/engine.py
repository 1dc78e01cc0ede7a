"""The exercise engine: the state of a session is `replay(scenario, log)`, nothing else.

Pure: no clock, no database, no global randomness. Game time moves only by `advance` entries; a
decision still open when game time passes its deadline takes its default option; chance draws
from a generator seeded by the scenario's seed and the choice, so a log always replays to the
same state (docs/exercises.md).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from trustbubble.domain.errors import Conflict, Invalid
from trustbubble.domain.exercises.scenario import Decision, Scenario
from trustbubble.domain.norms import NORM_LETTERS


class Step(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    ADVANCE = "advance"  # game time moves by `minutes`
    RELEASE = "release"  # the facilitator releases `inject` now
    DECIDE = "decide"  # `role` chooses `option` of `decision`
    END = "end"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a session's log."""

    step: Step
    minutes: int = 0
    inject: str = ""
    decision: str = ""
    option: str = ""
    role: str = ""


@dataclass(frozen=True, slots=True)
class Released:
    minute: int
    inject: str
    by: str  # "schedule", "facilitator", or the decision.option that unlocked it


@dataclass(frozen=True, slots=True)
class Decided:
    minute: int
    decision: str
    option: str
    role: str  # who chose; empty when the deadline chose the default
    defaulted: bool
    lucky: bool  # the option's chance came true


@dataclass(frozen=True, slots=True)
class Snapshot:
    minute: int
    team: str
    resources: dict[str, int]


@dataclass(slots=True)
class State:
    minute: int = 0
    started: bool = False
    running: bool = False
    ended: bool = False
    end_reason: str = ""
    released: list[Released] = field(default_factory=list)
    opened: dict[str, int] = field(default_factory=dict)  # decision -> minute it opened
    decided: list[Decided] = field(default_factory=list)
    resources: dict[str, dict[str, int]] = field(default_factory=dict)  # team -> resources
    history: list[Snapshot] = field(default_factory=list)

    def is_released(self, inject: str) -> bool:
        return any(r.inject == inject for r in self.released)

    def is_decided(self, decision: str) -> bool:
        return any(d.decision == decision for d in self.decided)

    def open_decisions(self) -> list[str]:
        return [d for d in self.opened if not self.is_decided(d)]


def _clamp(value: int) -> int:
    return max(0, min(100, value))


class _Run:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.state = State(
            resources={t.id: dict(scenario.resources) for t in scenario.teams},
        )
        for team in scenario.teams:
            self._snapshot(team.id)

    def _snapshot(self, team: str) -> None:
        self.state.history.append(
            Snapshot(self.state.minute, team, dict(self.state.resources[team]))
        )

    def _release(self, inject: str, by: str) -> None:
        if self.state.is_released(inject) or self.state.ended:
            return
        self.state.released.append(Released(self.state.minute, inject, by))
        for decision in self.s.decisions:
            if decision.opens_with == inject and decision.id not in self.state.opened:
                self.state.opened[decision.id] = self.state.minute

    def _team_of(self, decision: Decision, role: str) -> str:
        return self.s.role(role or decision.roles[0]).team

    def _decide(self, decision: Decision, option_id: str, role: str, defaulted: bool) -> None:
        option = decision.option(option_id)
        team = self._team_of(decision, role)
        effects = dict(option.effects)
        unlocks = list(option.unlocks)
        lucky = False
        if option.chance is not None:
            draw = random.Random(f"{self.s.seed}:{decision.id}:{option.id}").random()
            lucky = draw < option.chance.p
            if lucky:
                for name, change in option.chance.effects.items():
                    effects[name] = effects.get(name, 0) + change
                unlocks += option.chance.unlocks
        self.state.decided.append(
            Decided(self.state.minute, decision.id, option.id, role, defaulted, lucky)
        )
        if effects:
            mine = self.state.resources[team]
            for name, change in effects.items():
                mine[name] = _clamp(mine[name] + change)
            self._snapshot(team)
        for inject in unlocks:
            self._release(inject, f"{decision.id}.{option.id}")
        self._check_end()

    def _check_end(self) -> None:
        if self.state.ended:
            return
        if self.state.minute >= self.s.end_minutes:
            self._end(f"time is up at minute {self.s.end_minutes}")
            return
        for team, mine in self.state.resources.items():
            for name, floor in self.s.floors.items():
                if mine[name] <= floor:
                    self._end(f"{name.replace('_', ' ')} of {team} fell to {mine[name]}")
                    return

    def _end(self, reason: str) -> None:
        self.state.ended = True
        self.state.running = False
        self.state.end_reason = reason

    def _next_event(self, until: int) -> tuple[int, int, str] | None:
        """The earliest deadline or scheduled inject in [now, until] not yet dealt with: (minute,
        order, id). A deadline and an inject due at the same minute are both dealt with."""
        now = self.state.minute
        events = [
            (opened + self.s.decision(d).minutes, 0, d)
            for d, opened in self.state.opened.items()
            if not self.state.is_decided(d)
        ]
        events += [
            (i.at, 1, i.id)
            for i in self.s.injects
            if i.at is not None and not self.state.is_released(i.id)
        ]
        due = sorted(e for e in events if now <= e[0] <= until)
        return due[0] if due else None

    def _advance(self, minutes: int) -> None:
        until = min(self.state.minute + minutes, self.s.end_minutes)
        while not self.state.ended:
            event = self._next_event(until)
            if event is None:
                break
            self.state.minute, order, key = event
            if order == 0:
                decision = self.s.decision(key)
                self._decide(decision, decision.default, "", defaulted=True)
            else:
                self._release(key, "schedule")
        if not self.state.ended:
            self.state.minute = until
            self._check_end()

    def apply(self, entry: Entry) -> None:
        st = self.state
        if st.ended:
            raise Conflict("the exercise has ended")
        if entry.step is Step.START:
            if st.started:
                raise Conflict("the exercise has already started")
            st.started = st.running = True
            for inject in self.s.injects:
                if inject.at == 0:
                    self._release(inject.id, "schedule")
            return
        if not st.started:
            raise Conflict("start the exercise first")
        if entry.step is Step.PAUSE:
            st.running = False
        elif entry.step is Step.RESUME:
            st.running = True
        elif entry.step is Step.END:
            self._end("ended by the facilitator")
        elif entry.step is Step.ADVANCE:
            if not 1 <= entry.minutes <= 480:
                raise Invalid("minutes", f"advance by 1 to 480 minutes, not {entry.minutes}")
            self._advance(entry.minutes)
        elif entry.step is Step.RELEASE:
            if entry.inject not in {i.id for i in self.s.injects}:
                raise Invalid("inject", f"no inject {entry.inject!r} in this scenario")
            if st.is_released(entry.inject):
                raise Conflict(f"inject {entry.inject!r} is already released")
            self._release(entry.inject, "facilitator")
        elif entry.step is Step.DECIDE:
            self._choose(entry)

    def _choose(self, entry: Entry) -> None:
        known = {d.id: d for d in self.s.decisions}
        decision = known.get(entry.decision)
        if decision is None:
            raise Invalid("decision", f"no decision {entry.decision!r} in this scenario")
        if entry.role not in decision.roles:
            raise Invalid("role", f"{entry.role!r} does not take decision {decision.id!r}")
        if entry.decision not in self.state.opened:
            raise Conflict(f"decision {decision.id!r} is not open yet")
        if self.state.is_decided(decision.id):
            raise Conflict(f"decision {decision.id!r} is already taken")
        if entry.option not in {o.id for o in decision.options}:
            options = ", ".join(o.id for o in decision.options)
            raise Invalid(
                "option", f"{entry.option!r} is not an option of {decision.id} ({options})"
            )
        self._decide(decision, entry.option, entry.role, defaulted=False)


def replay(scenario: Scenario, log: Iterable[Entry]) -> State:
    """The state after every entry of the log, in order; an entry that does not apply raises
    the same error it raised when it was first offered."""
    run = _Run(scenario)
    for entry in log:
        run.apply(entry)
    return run.state


def check(scenario: Scenario, log: Sequence[Entry], entry: Entry) -> State:
    """The state after `entry`, if it applies after `log`; the typed error otherwise."""
    return replay(scenario, [*log, entry])


# -- scores ------------------------------------------------------------------------------------


class Rating(StrEnum):
    """HSEEP's rating of how a capability (here, a learning objective) was performed."""

    P = "P"  # performed without challenges
    S = "S"  # performed with some challenges
    M = "M"  # performed with major challenges
    U = "U"  # unable to be performed


@dataclass(frozen=True, slots=True)
class Scores:
    resources: dict[str, dict[str, int]]  # team -> resources at the end
    alignment_by_role: dict[str, dict[str, int]]  # role -> norm -> upheld minus strained
    alignment_by_team: dict[str, dict[str, int]]
    objectives: dict[str, Rating]


def _alignment(scenario: Scenario, choices: Iterable[Decided]) -> dict[str, int]:
    found = dict.fromkeys(NORM_LETTERS, 0)
    for choice in choices:
        option = scenario.decision(choice.decision).option(choice.option)
        for letter in option.upholds:
            found[letter] += 1
        for letter in option.strains:
            found[letter] -= 1
    return {k: v for k, v in found.items() if v}


def _rating(scenario: Scenario, norms: Sequence[str], choices: Sequence[Decided]) -> Rating:
    upheld = strained = 0
    for choice in choices:
        option = scenario.decision(choice.decision).option(choice.option)
        upheld += sum(1 for n in option.upholds if n in norms)
        strained += sum(1 for n in option.strains if n in norms)
    if upheld == 0:
        return Rating.U
    if strained == 0:
        return Rating.P
    return Rating.S if upheld > strained else Rating.M


def scores(scenario: Scenario, state: State) -> Scores:
    """Resources at the end per team; norm alignment per role and team; objectives rated."""
    taken = state.decided
    by_role: dict[str, list[Decided]] = {r.id: [] for r in scenario.roles}
    for choice in taken:
        roles = [choice.role] if choice.role else list(scenario.decision(choice.decision).roles)
        for role in roles:
            by_role[role].append(choice)
    by_team: dict[str, list[Decided]] = {t.id: [] for t in scenario.teams}
    for choice in taken:
        decision = scenario.decision(choice.decision)
        team = scenario.role(choice.role or decision.roles[0]).team
        by_team[team].append(choice)
    return Scores(
        resources={team: dict(values) for team, values in state.resources.items()},
        alignment_by_role={r: _alignment(scenario, c) for r, c in by_role.items()},
        alignment_by_team={t: _alignment(scenario, c) for t, c in by_team.items()},
        objectives={o.id: _rating(scenario, o.norms, taken) for o in scenario.objectives},
    )


def visible_to(scenario: Scenario, state: State, role: str) -> Mapping[str, object]:
    """What one role's screen shows: its injects as released, its open decisions."""
    injects = [r for r in state.released if role in scenario.inject(r.inject).roles]
    decisions = [d for d in state.open_decisions() if role in scenario.decision(d).roles]
    return {"injects": injects, "decisions": decisions}
