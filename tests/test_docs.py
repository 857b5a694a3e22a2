"""The README and the manuals under docs/ stay true: every relative link reaches a file (and a
heading, when it names one), every ``gospulse`` command they show parses with the real command line,
every ``make`` target and ``python -m`` module they name exists, and every flag and ``GOSPULSE_*``
variable they mention is one the code defines. The README stays a map: short enough to read.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

import gospulse
from streams.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
README_MOST_LINES = 250

LINK = re.compile(r"\]\(([^)\s]+)\)|<img src=\"([^\"]+)\"")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: Variables named in the docs that are not worker settings: the local stack's, the bridges' secrets
#: (examples), the tests' and the benchmarks'.
OTHER_VARIABLES = re.compile(
    r"GOSPULSE_(REDIS_BIN|TANSU_BIN|SCREENSHOTS|BRIDGE_ID_KEY|VK_SECRET_\d+|VK_TOKEN|TG_SECRET|OK_SECRET|OK_TOKEN)$"
)


def _slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's) gives a heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def _links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text())
    return [a or b for a, b in LINK.findall(text)]


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The ``gospulse`` subcommands' parsers, by name."""
    return parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]


def _options() -> set[str]:
    """Every option of every ``gospulse`` subcommand, and of the benchmarks and the screenshot tool."""
    found: set[str] = set()
    for parser in _commands(gospulse.build_parser()).values():
        for action in parser._actions:
            found.update(o for o in action.option_strings if o.startswith("--"))
    for source in [*(ROOT / "bench").glob("*.py"), ROOT / "docs" / "screenshots" / "take.py"]:
        found.update(re.findall(r"add_argument\(\s*\"(--[a-z0-9-]+)\"", source.read_text()))
    return found


def _shown_commands(path: Path) -> list[str]:
    """``gospulse …`` command lines the doc shows: in code blocks (a console's ``$`` prompt taken off,
    its output left out) and in code spans (``--help`` and placeholders left out)."""
    text = path.read_text()
    lines = [line.removeprefix("$ ").strip() for block in FENCE.findall(text) for line in block.splitlines()]
    lines += [span for span in CODE_SPAN.findall(FENCE.sub("", text)) if "--help" not in span]
    shown = []
    for line in lines:
        words = line.split()
        output = len(words) > 1 and words[1].endswith(":")
        if words[:1] == ["gospulse"] and len(words) > 1 and not output and not re.search(r"[…<>]", line):
            shown.append(line.split("  #", 1)[0].strip())
    return shown


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_its_heading(doc: Path) -> None:
    broken = []
    for target in _links(doc):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto:
        file_part, _, anchor = target.partition("#")
        where = (doc.parent / file_part).resolve() if file_part else doc
        if not where.exists():
            broken.append(f"{target}: no such file")
        elif anchor and where.suffix == ".md" and anchor not in _anchors(where):
            broken.append(f"{target}: no heading #{anchor}")
    assert broken == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_gospulse_command_shown_parses(doc: Path) -> None:
    parser = gospulse.build_parser()
    wrong = []
    commands = _commands(parser)
    for line in _shown_commands(doc):
        words = shlex.split(line)[1:]
        if len(words) == 1:  # a subcommand named, not run
            if words[0] not in commands:
                wrong.append(line)
            continue
        try:
            parser.parse_args(words)
        except SystemExit:
            wrong.append(line)
    assert wrong == []


def test_the_docs_show_gospulse_commands_at_all() -> None:
    assert sum(len(_shown_commands(doc)) for doc in DOCS) >= 20


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_flag_variable_make_target_and_module_named_exists(doc: Path) -> None:
    text = doc.read_text()
    options = _options()
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    variables = {s.variable for s in SETTINGS.values()}
    wrong = []
    fenced = [line for block in FENCE.findall(text) for line in block.splitlines()]
    for span in CODE_SPAN.findall(FENCE.sub("", text)) + fenced:
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", span):
            if flag not in options and not _foreign(span):
                wrong.append(flag)
        for variable in re.findall(r"\bGOSPULSE_[A-Z0-9_]+", span):
            if variable not in variables and not OTHER_VARIABLES.match(variable):
                wrong.append(variable)
        for target in re.findall(r"(?:^|\s)make ([a-z][a-z-]*)", span):
            if target not in targets:
                wrong.append(f"make {target}")
        for module in re.findall(r"python -m ([a-z_][a-z0-9_.]*)", span):
            if module.split(".")[0] in ("bench", "schemas", "tests", "gospulse", "streams", "agents"):
                path = ROOT.joinpath(*module.split("."))
                if not (path.with_suffix(".py").exists() or (path / "__main__.py").exists()):
                    wrong.append(f"python -m {module}")
    assert sorted(set(wrong)) == []


#: Other programs whose command lines the docs show (their flags are not ours to check).
FOREIGN = re.compile(
    r"\s*(\$ )?(promtool|amtool|docker|docker-compose|pip|openssl|curl|redis-cli|apt-get|sudo|kill|git)\b"
)


def _foreign(span: str) -> bool:
    return bool(FOREIGN.match(span)) or "pytest" in span


def test_the_readme_is_a_map_that_opens_every_door() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= README_MOST_LINES
    first_screen = "\n".join(text.splitlines()[:60])
    for door in (
        "make run",
        "make test",
        "docs/producers.md",
        "docs/operators.md",
        "docs/curators-guide.md",
        "docs/development.md",
        "## Architecture",
    ):
        assert door in first_screen, door


def test_the_curators_guide_is_in_russian() -> None:
    text = (ROOT / "docs" / "curators-guide.md").read_text()
    prose = FENCE.sub("", CODE_SPAN.sub("", text))
    letters = [c for c in prose if c.isalpha()]
    cyrillic = sum("а" <= c.lower() <= "я" or c in "ёЁ" for c in letters)
    assert cyrillic / len(letters) > 0.95
