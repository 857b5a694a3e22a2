"""Imports point down: ``schemas`` → ``streams.core`` → the rest of ``streams`` → ``agents`` → ``gospulse``.

The contract in code is at the bottom, the command line at the top; a module imports only from its own
layer or those below it. Alongside: no module imports a private (underscore) name from another
module, and no two modules share a name unless they do one job for two processes (each command
module is named after its subcommand, each process has its own ``metrics``).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import gospulse

ROOT = Path(__file__).resolve().parents[1]
#: Lowest first; a module's layer is the longest prefix that names it.
LAYERS = ("schemas", "streams.core", "streams", "agents", "gospulse")
PACKAGES = ("schemas", "streams", "agents", "gospulse")
#: Module names held twice on purpose, and why (besides the command modules, each named after its
#: subcommand, beside the module or package that subcommand drives).
SHARED_NAMES = {
    "__init__": "packages",
    "__main__": "packages run with -m",
    "metrics": "the worker's (agents) and the bridge's (streams.bridge) own metrics",
}


def _modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts).removesuffix(".__init__")] = path
    return found


def _layer(module: str) -> int | None:
    best = None
    for rank, layer in enumerate(LAYERS):
        if (module == layer or module.startswith(layer + ".")) and (
            best is None or len(layer) > len(LAYERS[best])
        ):
            best = rank
    return best


def _imports(path: Path, module: str) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it), with relative imports resolved."""
    found = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [alias.name for alias in node.names]))
    return found


MODULES = _modules()


def test_the_layers_cover_every_module() -> None:
    assert len(MODULES) > 60
    assert [m for m in MODULES if _layer(m) is None] == []


def test_no_import_points_up() -> None:
    upward = []
    for module, path in MODULES.items():
        own = _layer(module)
        for imported, _ in _imports(path, module):
            theirs = _layer(imported)
            if theirs is not None and own is not None and theirs > own:
                upward.append(f"{module} imports {imported}")
    assert upward == []


def test_no_private_name_is_imported_from_another_module() -> None:
    private = []
    for module, path in MODULES.items():
        for imported, names in _imports(path, module):
            if imported in MODULES and imported != module:
                private += [f"{module} takes {imported}.{n}" for n in names if n.startswith("_")]
    assert private == []


def test_two_modules_share_a_name_only_for_one_job() -> None:
    commands = {f"gospulse.{command.__name__.rpartition('.')[2]}" for command in gospulse.COMMANDS}
    by_name = defaultdict(list)
    for module in MODULES:
        if module not in commands:
            by_name[module.rpartition(".")[2]].append(module)
    twice = {name: sorted(held) for name, held in by_name.items() if len(held) > 1}
    assert {name: held for name, held in twice.items() if name not in SHARED_NAMES} == {}


def test_the_agents_read_through_the_pipeline_never_its_engine() -> None:
    """``streams.pipeline.Pipeline`` is the read facade: the agents ask it for tables, registry
    records and profiles, so the engine's internals can change without touching the Faust side."""
    reaching = []
    for module, path in MODULES.items():
        if module.startswith("agents"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr == "engine":
                    reaching.append(f"{module}:{node.lineno}")
    assert reaching == []
