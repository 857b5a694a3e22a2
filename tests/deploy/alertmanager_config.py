"""The Alertmanager configuration as tests and the local stack run it on Debian's Alertmanager 0.25."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTMANAGER = ROOT / "deploy" / "alertmanager"
CONFIG = ALERTMANAGER / "alertmanager.yml"


def production() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text())


def for_debian_025(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with Telegram's ``bot_token_file`` (Alertmanager 0.26+, as the compose stack runs)
    written as an inline ``bot_token`` placeholder: Debian's 0.25 predates the file form. Nothing else
    changes."""
    out = copy.deepcopy(config)
    for receiver in out["receivers"]:
        for telegram in receiver.get("telegram_configs", []):
            if telegram.pop("bot_token_file", None) is not None:
                telegram["bot_token"] = "checked-only"
    return out


def write(config: dict[str, Any], directory: Path) -> Path:
    """``config`` written with the project's templates beside it; returns the file."""
    templates = directory / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    for template in (ALERTMANAGER / "templates").glob("*.tmpl"):
        (templates / template.name).write_text(template.read_text())
    path = directory / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path
