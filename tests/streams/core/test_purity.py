"""The engine is pure: nothing under ``streams/core/`` touches Faust, Kafka, Redis or HTTP.

Both the live worker and offline replay run it; a core module that imported a client would drag I/O
into replay and make the engine's tests need services. Checked twice: statically, every import of
every core module is the standard library (no network modules), ``orjson``, ``holidays``, ``schemas`` or
``streams.core``; and at run time, importing every core module loads no client library.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import streams.core

CORE = Path(streams.core.__file__).parent
NETWORK_STDLIB = {"socket", "http", "urllib", "asyncio", "ssl", "smtplib", "ftplib", "xmlrpc", "subprocess"}
ALLOWED_THIRD_PARTY = {"orjson", "holidays"}  # fast JSON; the production calendar (data, no I/O)
CLIENTS = ("faust", "mode", "kafka", "aiokafka", "redis", "aiohttp", "yarl", "prometheus_client")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_core_modules_import_only_the_standard_library_schemas_and_the_core() -> None:
    modules = sorted(CORE.glob("*.py"))
    assert len(modules) >= 8
    wrong = {}
    for path in modules:
        for name in _imports(path):
            top = name.split(".")[0]
            ok = (
                (top in sys.stdlib_module_names and top not in NETWORK_STDLIB)
                or top in ALLOWED_THIRD_PARTY
                or top == "schemas"
                or name == "streams.core"
                or name.startswith("streams.core.")
                or top == "__future__"
            )
            if not ok:
                wrong.setdefault(path.name, []).append(name)
    assert wrong == {}


def test_importing_the_core_loads_no_client_library() -> None:
    modules = [f"streams.core.{p.stem}" for p in sorted(CORE.glob("*.py")) if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {CLIENTS!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
