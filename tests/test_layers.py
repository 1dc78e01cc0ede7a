"""The import direction of DESIGN.md section 5: nothing below imports anything above it."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "trustbubble"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# What each lower layer must never import: the layers above it, and the frameworks of the edges.
# A name forbids the module itself and every module under it.
FORBIDDEN: dict[str, frozenset[str]] = {
    "domain": frozenset(
        {
            "trustbubble.services",
            "trustbubble.store",
            "trustbubble.api",
            "trustbubble.web",
            "trustbubble.cli",
            "fastapi",
            "starlette",
            "uvicorn",
            "typer",
            "sqlalchemy",
            "alembic",
            "psycopg",
        }
    ),
    "services": frozenset(
        {
            "trustbubble.api",
            "trustbubble.web",
            "trustbubble.cli",
            "fastapi",
            "starlette",
            "uvicorn",
            "typer",
        }
    ),
    "store": frozenset(
        {
            "trustbubble.services",
            "trustbubble.api",
            "trustbubble.web",
            "trustbubble.cli",
            "fastapi",
            "starlette",
            "uvicorn",
            "typer",
        }
    ),
}


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # absolute dotted name of what is imported
    line: int


def module_name(path: Path, root: Path = SOURCE) -> str:
    """`src/trustbubble/store/objects.py` -> `trustbubble.store.objects`."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name of `from <level dots><module> import ...` written in `importer`."""
    if level == 0:
        return module or ""
    base = importer.split(".")
    # In a package's __init__, one dot is the package itself; in a module, its package.
    drop = level - 1 if is_package else level
    anchor = base[: len(base) - drop] if drop else base
    return ".".join([*anchor, module] if module else anchor)


def imports_of(source: str, importer: str, is_package: bool = False) -> list[Import]:
    """Every module the source imports, wherever the import statement is (functions included).

    `from a import b` yields both `a` and `a.b`, since `b` may be a submodule (as in
    `from trustbubble import api`). `importlib.import_module("...")` with a literal counts too.
    """
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(importer, is_package, node.level, node.module)
            found.append(Import(base, node.lineno))
            found.extend(
                Import(f"{base}.{alias.name}", node.lineno)
                for alias in node.names
                if alias.name != "*"
            )
        elif isinstance(node, ast.Call):
            name = _dynamic_import(node)
            if name is not None:
                found.append(Import(name, node.lineno))
    return found


def _dynamic_import(call: ast.Call) -> str | None:
    """The module of `importlib.import_module("x")`, `import_module("x")` or `__import__("x")`."""
    func = call.func
    named = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if named not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def violations(imports: list[Import], forbidden: frozenset[str]) -> list[str]:
    out = []
    for item in imports:
        for banned in sorted(forbidden):
            if item.module == banned or item.module.startswith(banned + "."):
                out.append(f"line {item.line}: imports {item.module}")
                break
    return out


def layer_files(layer: str) -> list[Path]:
    folder = SOURCE / layer
    return sorted(folder.rglob("*.py")) if folder.is_dir() else []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_lower_layer_imports_nothing_above_it(layer: str) -> None:
    files = layer_files(layer)
    assert files, f"no source files under {SOURCE / layer}: the layer check would pass vacuously"
    problems = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        found = imports_of(source, module_name(path), is_package=path.name == "__init__.py")
        problems += [
            f"{path.relative_to(SOURCE.parent)} {v}" for v in violations(found, FORBIDDEN[layer])
        ]
    assert not problems, f"{layer} imports from a layer above it:\n" + "\n".join(problems)


# The checker itself, on sources written to break the rules: a check that cannot fail is a defect.


def test_the_checker_finds_imports_inside_functions_and_relative_ones() -> None:
    source = (
        "from __future__ import annotations\n"
        "from . import tlp\n"
        "def late() -> None:\n"
        "    from ..store import objects\n"
        "    import sqlalchemy.sql\n"
        "    from trustbubble import api\n"
        "class C:\n"
        "    def m(self) -> None:\n"
        "        from ..services.objects import read\n"
        "        importlib.import_module('trustbubble.cli')\n"
    )
    found = imports_of(source, "trustbubble.domain.access")
    assert violations(found, FORBIDDEN["domain"]) == [
        "line 4: imports trustbubble.store",
        "line 4: imports trustbubble.store.objects",
        "line 5: imports sqlalchemy.sql",
        "line 6: imports trustbubble.api",
        "line 9: imports trustbubble.services.objects",
        "line 9: imports trustbubble.services.objects.read",
        "line 10: imports trustbubble.cli",
    ]


def test_relative_imports_resolve_from_a_package_init_and_from_a_module() -> None:
    in_init = imports_of("from .taxii import media\n", "trustbubble.api", is_package=True)
    in_module = imports_of("from .taxii import media\n", "trustbubble.api.app")
    assert [i.module for i in in_init] == ["trustbubble.api.taxii", "trustbubble.api.taxii.media"]
    assert [i.module for i in in_module] == [i.module for i in in_init]


def test_a_name_only_sharing_a_prefix_is_not_a_violation() -> None:
    found = imports_of("import typeguard\nfrom trustbubble.services_extra import x\n", "m")
    assert violations(found, FORBIDDEN["domain"]) == []
