"""The docs' screenshots, taken from a running ``gospulse up`` (``make screenshots``).

Headless Chromium (Debian's, as the browser tests drive it) opens the country, a region and a
breaching public's card; the alert is the Telegram message Alertmanager would send for one of the
region's segment groups, rendered by ``amtool`` with the project's template from the alerts
Alertmanager holds, shown as Telegram shows an HTML message. Run it a few minutes after ``make run``
has played its history (the page says «Данные догружаются…» until then).

    python docs/screenshots/take.py [--page http://127.0.0.1:6066] [--alertmanager http://127.0.0.1:9093]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from html import escape
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TEMPLATES = ROOT / "deploy" / "alertmanager" / "templates" / "*.tmpl"
REGION = "RU-NIZ"


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--lang=ru", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def shoot(driver: Any, url: str, path: Path, width: int = 1100) -> None:
    """The whole page: the window grows to its height first."""
    driver.set_window_size(width, 900)
    driver.get(url)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(height + 40, 1800))
    driver.save_screenshot(str(path))
    print(f"wrote {path.relative_to(ROOT)} ({url})")


def telegram_message(alertmanager: str) -> str:
    """The project's Telegram template, rendered by amtool for the region's largest segment group."""
    groups = [
        g
        for g in get(f"{alertmanager}/api/v2/alerts/groups")
        if g["labels"].get("region") == REGION and g["receiver"]["name"].startswith("curators")
    ]
    if not groups:
        raise SystemExit(
            f"no curators' alert group of {REGION} in {alertmanager} yet: wait a minute and retry"
        )
    group = max(groups, key=lambda g: (len(g["alerts"]) <= 4, len(g["alerts"])))  # a readable one
    alerts = [
        {
            "status": "firing",
            "labels": a["labels"],
            "annotations": a["annotations"],
            "startsAt": a["startsAt"],
            "endsAt": a["endsAt"],
            "generatorURL": a.get("generatorURL", ""),
            "fingerprint": a["fingerprint"],
        }
        for a in group["alerts"][:4]
    ]
    common = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)}
    data = {
        "receiver": group["receiver"]["name"],
        "status": "firing",
        "alerts": alerts,
        "groupLabels": group["labels"],
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": alertmanager,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(data, f)
    rendered = subprocess.run(
        [
            "amtool",
            "template",
            "render",
            f"--template.glob={TEMPLATES}",
            '--template.text={{ template "gospulse.telegram" . }}',
            f"--template.data={f.name}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return rendered.stdout


def telegram_page(message: str) -> str:
    """An HTML message as a Telegram chat shows it: the bot's bubble, its bold and its links."""
    body = message.strip().replace("\n", "<br>")  # the template's own HTML (Telegram's parse mode)
    return f"""<!doctype html><html lang="ru"><head><meta charset="utf-8"><style>
body{{margin:0;background:#9bbad4;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}}
.bar{{background:#517da2;color:#fff;padding:10px 16px;font-weight:600}}
.bar small{{display:block;font-weight:400;opacity:.8}}
.chat{{padding:16px}}
.msg{{background:#fff;border-radius:12px;padding:10px 14px;max-width:620px;box-shadow:0 1px 1px #0002}}
.msg a{{color:#2a79c0;text-decoration:none}}
</style></head><body><div class="bar">ЦУР · кураторы {escape(REGION)}<small>бот gospulse</small></div>
<div class="chat"><div class="msg">{body}</div></div></body></html>"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", default="http://127.0.0.1:6066", help="a worker's web port")
    parser.add_argument("--alertmanager", default="http://127.0.0.1:9093")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    page = args.page.rstrip("/")
    opened = get(f"{page}/breaches/open?region={REGION}&limit=1")
    if opened.get("catching_up") or not opened["breaches"]:
        raise SystemExit("the worker is still reading its history (or nothing breaks yet): retry in a minute")
    card = opened["breaches"][0]["public_id"]
    driver = browser()
    try:
        shoot(driver, f"{page}/", args.out / "page-country.png")
        shoot(driver, f"{page}/?region={REGION}", args.out / "page-overview.png")
        shoot(driver, f"{page}/card/{card}", args.out / "page-card.png")
        shoot(driver, f"{page}/?region={REGION}&theme=education", args.out / "page-phone.png", width=390)
        with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False, encoding="utf-8") as f:
            f.write(telegram_page(telegram_message(args.alertmanager.rstrip("/"))))
        shoot(driver, Path(f.name).as_uri(), args.out / "alert-telegram.png", width=700)
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
