"""The alert rules as promtool sees them: lint-clean, every alert with cases before and after its
``for:`` and while flapping, every alert carrying what its recipient needs (Russian summary and
description, severity, audience, a runbook entry that exists)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.tools import tool

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules" / "gospulse.rules.yml"
TESTS = sorted((PROMETHEUS / "tests").glob("*.test.yml"))
RUNBOOK = ROOT / "docs" / "runbook.md"
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def alerts() -> list[dict]:
    return [rule for rule in rules() if "alert" in rule]


def cases() -> list[dict]:
    return [
        case
        for path in TESTS
        for group in yaml.safe_load(path.read_text())["tests"]
        for case in group.get("alert_rule_test", [])
    ]


def test_promtool_lints_the_rules_clean() -> None:
    checked = subprocess.run(
        [tool("promtool"), "check", "rules", "--lint=all", "--lint-fatal", str(RULES)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.name)
def test_promtool_cases_pass(path: Path) -> None:
    tested = subprocess.run(
        [tool("promtool"), "test", "rules", path.name], cwd=path.parent, capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.parametrize("alert", [a["alert"] for a in alerts()])
def test_every_alert_has_cases_before_and_after_it_fires(alert: str) -> None:
    mine = [c for c in cases() if c["alertname"] == alert]
    quiet = [c for c in mine if not c.get("exp_alerts")]
    firing = [c for c in mine if c.get("exp_alerts")]
    assert quiet and firing, f"{alert}: needs a promtool case where it is quiet and one where it fires"
    assert len(mine) >= 3, f"{alert}: needs cases before for:, after it, and for a flapping input"
    for case in firing:
        for expected in case["exp_alerts"]:
            assert "exp_annotations" in expected, f"{alert} at {case['eval_time']}: assert its text too"


@pytest.mark.parametrize("rule", alerts(), ids=lambda r: r["alert"])
def test_every_alert_tells_its_recipient_what_to_do(rule: dict) -> None:
    labels, notes = rule["labels"], rule["annotations"]
    assert labels["severity"] in ("critical", "warning", "info")  # info: seen, never sent (alertmanager.yml)
    assert labels["audience"] in ("curator", "ops")
    assert CYRILLIC.search(notes["summary"]) and CYRILLIC.search(notes["description"])
    assert "Что делать" in notes["description"]
    anchor = notes["runbook_url"].split("#", 1)[1]
    headings = {h.strip().lower() for h in re.findall(r"^#+ (.+)$", RUNBOOK.read_text(), re.MULTILINE)}
    assert anchor == rule["alert"].lower() and anchor in headings, (
        f"docs/runbook.md lacks '### {rule['alert']}'"
    )


def test_a_curator_alert_flaps_as_one_alert() -> None:
    """Per-public and segment alerts ride out a public that flaps around its threshold."""
    for rule in alerts():
        if rule["labels"]["audience"] == "curator":
            assert "keep_firing_for" in rule and "for" in rule, rule["alert"]


def test_recording_rules_are_named_level_metric_operations() -> None:
    recorded = [r["record"] for r in rules() if "record" in r]
    assert recorded
    for name in recorded:
        assert re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", name), name
