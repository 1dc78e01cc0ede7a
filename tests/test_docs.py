"""The documentation keeps up with the code: every CLI command, option and setting, every link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from trustbubble.cli import app
from trustbubble.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CLI_DOC = DOCS / "cli.md"
OPERATIONS_DOC = DOCS / "operations.md"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

# A heading that documents a command names it in code: ## `trustbubble db upgrade`
_COMMAND_HEADING = re.compile(r"^(#+)\s+`trustbubble((?: [a-z][a-z-]*)*)`\s*$")
_FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_INLINE_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the CLI with its path of names, the root first, groups included."""
    yield path, command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        if not sub.hidden:
            yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))
LEAVES = [(path, cmd) for path, cmd in COMMANDS if not getattr(cmd, "commands", None)]


def _headings(lines: list[str]) -> dict[int, int]:
    """Line number -> level of every Markdown heading; a `#` line inside a code block is none."""
    out: dict[int, int] = {}
    fenced = False
    for number, line in enumerate(lines):
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"^(#+)\s", line)):
            out[number] = len(heading.group(1))
    return out


def _sections(text: str) -> dict[str, str]:
    """The text under each command heading, up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    headings = _headings(lines)
    out: dict[str, str] = {}
    for start, level in headings.items():
        match = _COMMAND_HEADING.match(lines[start])
        if match is None:
            continue
        ends = [n for n, other in headings.items() if n > start and other <= level]
        out[match.group(2).strip()] = "\n".join(lines[start : min(ends, default=len(lines))])
    return out


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _params(command: Any) -> Iterator[tuple[str, str]]:
    """(kind, what the docs must show) for each visible parameter: options and ARGUMENTS."""
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            yield "argument", param.name.upper()
        else:
            for opt in [*param.opts, *param.secondary_opts]:
                yield "option", opt


@pytest.fixture(scope="module")
def cli_sections() -> dict[str, str]:
    return _sections(CLI_DOC.read_text(encoding="utf-8"))


def test_the_cli_walk_finds_commands() -> None:
    # Guards the tests below against passing because the walk found nothing.
    names = {" ".join(path) for path, _cmd in LEAVES}
    assert {"db upgrade", "import", "serve", "audit verify"} <= names


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "trustbubble" for p, _c in COMMANDS]
)
def test_every_cli_command_and_option_is_in_cli_md(
    path: tuple[str, ...], command: Any, cli_sections: dict[str, str]
) -> None:
    name = " ".join(path)
    shown = f"trustbubble {name}".strip()
    if getattr(command, "commands", None) and not command.params:
        # A group without options of its own: its subcommands' headings document it.
        assert any(other.startswith(name + " ") for other in cli_sections), shown
        return
    assert name in cli_sections, f"docs/cli.md has no heading `{shown}`"
    section = cli_sections[name]
    missing = [word for _kind, word in _params(command) if not _mentions(section, word)]
    assert not missing, f"docs/cli.md, section `{shown}`, does not mention {missing}"


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_operations_md(field: str) -> None:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    variable = f"{prefix}{field}".upper()
    text = OPERATIONS_DOC.read_text(encoding="utf-8")
    assert _mentions(text, variable), f"docs/operations.md does not mention {variable}"


def relative_links(text: str) -> list[str]:
    """Targets of the Markdown links of a page that point into the repository (code excluded)."""
    prose = _INLINE_CODE.sub("", _FENCE.sub("", text))
    targets = _INLINE_LINK.findall(prose) + _REFERENCE_LINK.findall(prose)
    return [
        target
        for target in targets
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target)  # http:, mailto: and the like
        and not target.startswith(("#", "//"))
    ]


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: `## The write lock` -> `the-write-lock`."""
    out: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#+\s+(.*?)\s*$", _FENCE.sub("", text), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.add(f"{slug}-{count}" if count else slug)
    return out


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_points_to_a_file(page: Path) -> None:
    broken = []
    for target in relative_links(page.read_text(encoding="utf-8")):
        path, _, fragment = target.split("?", 1)[0].partition("#")
        linked = page.parent / path if path else page
        if not linked.exists() or (
            fragment
            and linked.suffix == ".md"
            and fragment not in anchors(linked.read_text(encoding="utf-8"))
        ):
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} has broken links: {broken}"


def test_the_link_finder_skips_code_and_urls_but_not_relative_links() -> None:
    text = (
        "See [ops](operations.md#backup), [x][ref] and [site](https://example.org).\n"
        "`[not](a-link.md)`\n"
        "```sh\ncurl '[also](not-a-link.md)'\n```\n"
        "[ref]: ../README.md\n"
    )
    assert relative_links(text) == ["operations.md#backup", "../README.md"]


def test_anchors_follow_github_slugs() -> None:
    text = (
        "# Access policy\n## 404, 401 and 403\n"
        "## The write lock and `date_added`\n## Notes\n```sh\n# not a heading\n```\n## Notes\n"
    )
    assert anchors(text) == {
        "access-policy",
        "404-401-and-403",
        "the-write-lock-and-date_added",
        "notes",
        "notes-1",
    }


def test_the_section_finder_stops_at_the_next_heading() -> None:
    text = (
        "## `trustbubble db upgrade`\n--json\n### Example\n```sh\n# a comment\n```\n"
        "--all\n## `trustbubble serve`\n--port\n"
    )
    sections = _sections(text)
    assert set(sections) == {"db upgrade", "serve"}
    assert "--port" not in sections["db upgrade"]
    assert "Example" in sections["db upgrade"]
    assert "--all" in sections["db upgrade"]
