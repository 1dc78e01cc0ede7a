"""Scenario files: YAML read safely, checked against the published JSON Schema and then against
the rules a schema cannot say, every problem reported with its line and its path.

`read_scenario(text, name)` returns a `Scenario` or raises `InvalidScenario`, and nothing else:
a fuzzed file gets a clear error, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from trustbubble.domain.errors import DomainError, NotFound

SCHEMA_FILE = Path(__file__).with_name("scenario.schema.json")
RESOURCES = ("time", "budget", "public_trust", "diplomatic_confidence", "service_capacity")
MAX_BYTES = 1_000_000

PathT = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    line: int  # 1-based; 0 when the file has no lines to point at
    path: str  # as `decisions[1].options[0].unlocks[0]`, empty for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"line {self.line}: {where}{self.message}"


class InvalidScenario(DomainError):
    """A scenario file that cannot be played; `problems` says every place and what is wrong."""

    def __init__(self, name: str, problems: Sequence[Problem]) -> None:
        self.name = name
        self.problems = list(problems)
        shown = "; ".join(
            f"{name}:{p.line}: {p.path + ': ' if p.path else ''}{p.message}"
            for p in self.problems[:5]
        )
        more = len(self.problems) - 5
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))


# -- the model ---------------------------------------------------------------------------------

Effects = Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Objective:
    id: str
    text: str
    norms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    team: str
    name: str
    brief: str = ""


@dataclass(frozen=True, slots=True)
class Inject:
    id: str
    at: int | None
    channel: str
    title: str
    content: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Chance:
    p: float
    effects: Effects
    unlocks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    text: str
    effects: Effects
    upholds: tuple[str, ...]
    strains: tuple[str, ...]
    unlocks: tuple[str, ...]
    chance: Chance | None


@dataclass(frozen=True, slots=True)
class Decision:
    id: str
    opens_with: str
    roles: tuple[str, ...]
    prompt: str
    minutes: int
    default: str
    options: tuple[Option, ...]

    def option(self, option_id: str) -> Option:
        return next(o for o in self.options if o.id == option_id)


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    options: tuple[str, ...]
    answer: int


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    version: int
    title: str
    summary: str
    audience: str
    minutes: int
    seed: int
    objectives: tuple[Objective, ...]
    teams: tuple[Team, ...]
    roles: tuple[Role, ...]
    resources: Mapping[str, int]
    injects: tuple[Inject, ...]
    decisions: tuple[Decision, ...]
    end_minutes: int
    floors: Mapping[str, int]
    debrief: tuple[str, ...]
    knowledge: tuple[Question, ...] = field(default=())

    def inject(self, inject_id: str) -> Inject:
        return next(i for i in self.injects if i.id == inject_id)

    def decision(self, decision_id: str) -> Decision:
        return next(d for d in self.decisions if d.id == decision_id)

    def role(self, role_id: str) -> Role:
        return next(r for r in self.roles if r.id == role_id)


# -- reading -----------------------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    """The published JSON Schema of scenario files."""
    found: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return found


def _show(path: PathT) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class _Lines:
    """Where each path of the YAML document starts, from its node tree."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.lines: dict[PathT, int] = {}
        self.duplicates: list[tuple[PathT, int]] = []
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, path: PathT) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                name = str(key.value)
                if name in seen:
                    self.duplicates.append(((*path, name), key.start_mark.line + 1))
                seen.add(name)
                self.lines[(*path, name)] = key.start_mark.line + 1
                self._walk(value, (*path, name))
                self.lines[(*path, name)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index))

    def line(self, path: PathT) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


# libyaml's parser when PyYAML was built with it (the wheels are), ten times the pure one's speed.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(text: str, name: str) -> tuple[Any, _Lines]:
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise InvalidScenario(name, [Problem(0, "", f"is larger than {MAX_BYTES:,} bytes")])
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else 0
                raise InvalidScenario(
                    name, [Problem(line, "", "YAML aliases (*name) are not allowed; repeat it")]
                )
        loader = _LOADER(text)
        try:
            root = loader.get_single_node()
            data = None if root is None else loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        reason = error.problem or error.context or "not YAML"
        raise InvalidScenario(name, [Problem(line, "", f"not valid YAML: {reason}")]) from None
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        raise InvalidScenario(name, [Problem(0, "", f"not valid YAML: {error}")]) from None
    return data, _Lines(root)


def _schema_problems(data: Any, lines: _Lines) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(schema())
    problems = set()
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        # One error per missing property, each saying all of them: one problem.
        problems.add(Problem(lines.line(path), _show(path), _plain(error)))
    return sorted(problems, key=lambda p: (p.line, p.path, p.message))


def _plain(error: jsonschema.ValidationError) -> str:
    """A schema error in words a scenario writer understands."""
    kind = error.validator
    expected: Any = error.validator_value
    instance: Any = error.instance
    rule: Any = error.schema
    if kind == "required":
        have = instance if isinstance(instance, dict) else {}
        return "needs " + ", ".join(m for m in expected if m not in have)
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(rule.get("properties", {})) if isinstance(rule, dict) else []
        extra = sorted(str(k) for k in set(instance) - set(allowed))
        return f"unknown {', '.join(extra)} (allowed: {', '.join(allowed)})"
    if kind == "enum":
        return f"{_short(instance)} is not one of {', '.join(map(str, expected))}"
    if kind == "pattern":
        return f"{_short(instance)} is not an id (lower-case letters, digits and -)"
    if kind == "type":
        return f"{_short(instance)} is not {_article(str(expected))}"
    return error.message if len(error.message) < 300 else error.message[:297] + "..."


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _article(kind: str) -> str:
    return {
        "integer": "a whole number",
        "array": "a list",
        "object": "a mapping",
        "string": "text",
        "number": "a number",
        "boolean": "true or false",
    }.get(kind, kind)


def _rules(data: Mapping[str, Any], lines: _Lines) -> Iterator[Problem]:
    """What the schema cannot say: ids unique and every reference resolving."""

    def problem(path: PathT, message: str) -> Problem:
        return Problem(lines.line(path), _show(path), message)

    ids: dict[str, set[str]] = {}
    for section in ("objectives", "teams", "roles", "injects", "decisions"):
        seen: set[str] = set()
        for index, item in enumerate(data[section]):
            if item["id"] in seen:
                yield problem((section, index, "id"), f"{item['id']!r} is used twice")
            seen.add(item["id"])
        ids[section] = seen
    for index, role in enumerate(data["roles"]):
        if role["team"] not in ids["teams"]:
            yield problem(("roles", index, "team"), f"no team {role['team']!r}")
    for index, inject in enumerate(data["injects"]):
        for r, role in enumerate(inject["roles"]):
            if role not in ids["roles"]:
                yield problem(("injects", index, "roles", r), f"no role {role!r}")
    opened = set()
    for index, decision in enumerate(data["decisions"]):
        here = ("decisions", index)
        if decision["opens_with"] not in ids["injects"]:
            yield problem((*here, "opens_with"), f"no inject {decision['opens_with']!r}")
        opened.add(decision["opens_with"])
        for r, role in enumerate(decision["roles"]):
            if role not in ids["roles"]:
                yield problem((*here, "roles", r), f"no role {role!r}")
        options = [o["id"] for o in decision["options"]]
        if len(set(options)) != len(options):
            yield problem((*here, "options"), "two options have the same id")
        if decision["default"] not in options:
            yield problem(
                (*here, "default"),
                f"{decision['default']!r} is not one of its options ({', '.join(options)})",
            )
        for o, option in enumerate(decision["options"]):
            unlocks = [*option.get("unlocks", []), *option.get("chance", {}).get("unlocks", [])]
            for u, unlocked in enumerate(unlocks):
                if unlocked not in ids["injects"]:
                    yield problem((*here, "options", o, "unlocks", u), f"no inject {unlocked!r}")
            both = set(option.get("upholds", [])) & set(option.get("strains", []))
            if both:
                yield problem(
                    (*here, "options", o),
                    f"upholds and strains the same norm: {', '.join(sorted(both))}",
                )
    if len(opened) != len(data["decisions"]):
        yield problem(("decisions",), "two decisions open with the same inject")
    for index, question in enumerate(data.get("knowledge", [])):
        if question["answer"] >= len(question["options"]):
            yield problem(
                ("knowledge", index, "answer"),
                f"{question['answer']} is not an option's position (0 to "
                f"{len(question['options']) - 1})",
            )
    if data["end"]["minutes"] > data["minutes"] * 2:
        yield problem(("end", "minutes"), "ends after twice the planned length of play")
    for index, inject in enumerate(data["injects"]):
        at = inject.get("at")
        if at is not None and at > data["end"]["minutes"]:
            yield problem(("injects", index, "at"), "comes after the end of the exercise")


def _effects(value: Mapping[str, int] | None) -> dict[str, int]:
    return {k: int(v) for k, v in (value or {}).items()}


def _build(data: Mapping[str, Any]) -> Scenario:
    return Scenario(
        id=data["id"],
        version=data["version"],
        title=data["title"],
        summary=data.get("summary", ""),
        audience=data["audience"],
        minutes=data["minutes"],
        seed=data["seed"],
        objectives=tuple(
            Objective(o["id"], o["text"], tuple(o["norms"])) for o in data["objectives"]
        ),
        teams=tuple(Team(t["id"], t["name"]) for t in data["teams"]),
        roles=tuple(Role(r["id"], r["team"], r["name"], r.get("brief", "")) for r in data["roles"]),
        resources=_effects(data["resources"]),
        injects=tuple(
            Inject(i["id"], i.get("at"), i["channel"], i["title"], i["content"], tuple(i["roles"]))
            for i in data["injects"]
        ),
        decisions=tuple(
            Decision(
                d["id"],
                d["opens_with"],
                tuple(d["roles"]),
                d["prompt"],
                d["minutes"],
                d["default"],
                tuple(
                    Option(
                        o["id"],
                        o["text"],
                        _effects(o.get("effects")),
                        tuple(o.get("upholds", [])),
                        tuple(o.get("strains", [])),
                        tuple(o.get("unlocks", [])),
                        Chance(
                            float(o["chance"]["p"]),
                            _effects(o["chance"].get("effects")),
                            tuple(o["chance"].get("unlocks", [])),
                        )
                        if "chance" in o
                        else None,
                    )
                    for o in d["options"]
                ),
            )
            for d in data["decisions"]
        ),
        end_minutes=data["end"]["minutes"],
        floors=_effects(data["end"].get("floors")),
        debrief=tuple(data["debrief"]),
        knowledge=tuple(
            Question(q["question"], tuple(q["options"]), q["answer"])
            for q in data.get("knowledge", [])
        ),
    )


def read_scenario(text: str, name: str = "scenario") -> Scenario:
    """A scenario from YAML text; `InvalidScenario` with every problem otherwise."""
    data, lines = _parse(text, name)
    problems = [
        Problem(line, _show(path), "is given twice; keep one") for path, line in lines.duplicates
    ]
    if not isinstance(data, dict):
        problems.append(Problem(1, "", "must be a mapping of id, title, roles, injects, ..."))
        raise InvalidScenario(name, problems)
    problems += _schema_problems(data, lines)
    if problems:
        raise InvalidScenario(name, problems)
    problems = list(_rules(data, lines))
    if problems:
        raise InvalidScenario(name, problems)
    return _build(data)


SHIPPED = Path(__file__).with_name("scenarios")


def shipped() -> list[Scenario]:
    """The scenarios that come with the package, by id."""
    found = [read_scenario(p.read_text(encoding="utf-8"), p.name) for p in SHIPPED.glob("*.yaml")]
    return sorted(found, key=lambda s: s.id)


def shipped_text(scenario_id: str) -> str:
    """The YAML of a shipped scenario (its file is named by its id)."""
    path = SHIPPED / f"{scenario_id}.yaml"
    if not scenario_id.replace("-", "").isalnum() or not path.is_file():
        known = ", ".join(s.id for s in shipped())
        raise NotFound(f"no shipped scenario {scenario_id!r} (shipped: {known})")
    return path.read_text(encoding="utf-8")
