"""The curators' page in a real browser: Debian's headless Chromium, driven through its
chromium-driver, against a real worker fed through the broker, with Redis.

A curator opens the region, finds the public the test pushed into breach with what is wrong in
words, switches the leaderboard to posts and reads it in the API's order, follows a public to its
card and reads the same numbers the API gives; on a phone-sized screen nothing scrolls sideways.
Screenshots of each view are kept (``GOSPULSE_SCREENSHOTS=docs/screenshots`` keeps them for the
docs/development.md); the views' load times, as the browser measured them, are printed, never asserted.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import pytest

from agents.page import model, words
from streams.core.breaches import kpi_values
from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker
from tests.integration.test_worker import PARTITIONS, get_json, publish
from tests.integration.worker import WorkerProcess, eventually
from tests.logs import citizen, counted, event, official, published
from tests.tools import tool

HOUR = 3_600_000
CULTURE = {"region": "RU-NIZ", "level": "municipal", "theme": "culture"}
SPORT = {"region": "RU-NIZ", "level": "settlement", "theme": "sport"}
#: public -> (name, segment, posts, reactions, subscribers who left, in the last days)
PUBLICS = {
    "vk:-501": ("Дом культуры «Кстово»", CULTURE, 1, 0, 0),
    "vk:-502": ("Библиотека имени Гайдара, Арзамас", CULTURE, 5, 60, 0),
    "vk:-503": ("Городецкий музей", CULTURE, 2, 10, 15),
    "vk:-504": ("Спортивная школа Дзержинска", SPORT, 3, 45, 2),
    "vk:-505": ("Центр культуры «Выкса»", CULTURE, 4, 90, 1),
    "vk:-506": ("Лыковская сельская библиотека", CULTURE, 2, 40, 0),
}
#: Posting (2 a week), engagement and subscribers; the working-time KPIs are off, so what the test
#: sees does not hang on the hour and the weekday it runs.
PAGE_PROFILES = b"""[profiles.default]
min_posts_7d = 2
max_silence_h = "off"
max_response_wh_p90_h = "off"
max_overdue_wh = "off"
min_er_day_7d = 0.5
min_net_subscribers_pct_7d = -1.0
"""


def traffic(now: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The registry and the events of ``PUBLICS``: a thousand subscribers each, counted eight days
    ago; posts a day apart; reactions on the newest post; leavers since the count."""
    records = [
        {"v": 1, "public_id": p, "name": name, **segment} for p, (name, segment, *_) in PUBLICS.items()
    ]
    events: list[dict[str, Any]] = []
    for p, (_, _, posts, reactions, left) in PUBLICS.items():
        events.append(counted(now - 8 * 24 * HOUR, 1000, public_id=p))
        events += [published(now - HOUR * (24 * i + 2), f"p{i}", public_id=p) for i in range(posts)]
        events += [
            event("reaction.added", now - HOUR - i * 60_000, p, post_id="p0") for i in range(reactions)
        ]
        events += [event("subscription.left", now - HOUR * (i + 5), p) for i in range(left)]
    events += [
        citizen(now - 26 * HOUR, "c1", post="p1", public_id="vk:-502"),
        official(now - 25 * HOUR, "o1", reply_to="c1", post="p1", public_id="vk:-502"),
    ]
    return records, events


#: What PUBLICS break: Kstovo posts once and nobody reacts; Gorodets is quiet and loses 1.5 %.
BREACHES = {
    ("vk:-501", "posting"),
    ("vk:-501", "engagement"),
    ("vk:-503", "engagement"),
    ("vk:-503", "subscribers"),
}


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium; what it downloads goes to ``tmp_path / "downloads"``."""
    chromium, driver_path = tool("chromium"), tool("chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=ru"):
        options.add_argument(arg)
    options.add_argument("--window-size=1100,1400")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # what the console says
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def load_ms(driver: Any) -> float:
    """The last navigation, start to load event, as the browser timed it."""
    return driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime;"
    )


def screenshot(driver: Any, path: Path, width: int) -> None:
    """The whole page, not just the window: the window grows to the page's height first."""
    driver.set_window_size(width, 900)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(height + 120, 4000))
    driver.save_screenshot(str(path))


def page_worker(
    broker: EmbeddedBroker,
    redis_server: EmbeddedRedis,
    workers: list[WorkerProcess],
    tmp_path: Path,
    prefix: str,
) -> str:
    """A ready worker with the page's profiles, quick sweeps and Redis pushes; its base URL."""
    profiles = tmp_path / "profiles.toml"
    profiles.write_bytes(PAGE_PROFILES)
    env = {"GOSPULSE_PROFILES": str(profiles), "GOSPULSE_KPI_SWEEP_S": "2", "GOSPULSE_REDIS_PUSH_S": "1"}
    app_id = prefix.rstrip(".")
    worker = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path, redis_server.url, env=env).start()
    workers.append(worker)
    worker.wait_ready()
    return f"http://127.0.0.1:{worker.web_port}"


def test_a_curator_reads_breaches_leaders_and_a_card_as_the_api_gives_them(
    broker: EmbeddedBroker,
    redis_server: EmbeddedRedis,
    workers: list[WorkerProcess],
    tmp_path: Path,
    browser: Any,
) -> None:
    from selenium.webdriver.common.by import By

    prefix = "t-page."
    api = page_worker(broker, redis_server, workers, tmp_path, prefix)
    records, events = traffic(int(time.time() * 1000))
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl", records)

    def ready() -> dict[str, Any]:
        status, opened = get_json(f"{api}/breaches/open?region=RU-NIZ")
        assert status == 200 and {(b["public_id"], b["kpi"]) for b in opened["breaches"]} == BREACHES, opened
        status, ranked = get_json(f"{api}/segments/ranking?kpi=posts_7d&region=RU-NIZ&limit=20")
        assert status == 200 and ranked["total"] == len(PUBLICS), ranked
        return ranked

    ranked = eventually(ready, timeout_s=60)
    times: dict[str, float] = {}
    shots = tmp_path / "screenshots"
    shots.mkdir()

    # the region's page: the public in breach, in words
    browser.get(f"{api}/?region=RU-NIZ")
    times["overview"] = load_ms(browser)
    listed = browser.find_elements(By.CSS_SELECTOR, "li.public")
    # two breaches each: the longest-standing first, as the API lists them
    status, opened = get_json(f"{api}/breaches/open?region=RU-NIZ")
    api_order = list(dict.fromkeys(b["public_id"] for b in opened["breaches"]))
    assert [li.get_attribute("data-public") for li in listed] == api_order
    assert sorted(api_order) == ["vk:-501", "vk:-503"]
    kstovo, gorodets = (listed[0], listed[1]) if api_order[0] == "vk:-501" else (listed[1], listed[0])
    assert kstovo.find_element(By.TAG_NAME, "a").text == "Дом культуры «Кстово»"
    problem = kstovo.find_element(By.CSS_SELECTOR, "li[data-kpi=posting] .problem").text
    assert problem == "1 публикация за 7 дней при норме 2"
    problem = gorodets.find_element(By.CSS_SELECTOR, "li[data-kpi=subscribers] .problem").text
    assert problem == "подписчиков за неделю −1,5 % при норме не ниже −1 %"
    assert "Нижегородская область" in browser.find_element(By.CSS_SELECTOR, "select[name=region]").text
    screenshot(browser, shots / "page-overview.png", 1100)

    # the region's report, as the page's link downloads it: every public, the API's numbers
    browser.find_element(By.PARTIAL_LINK_TEXT, "таблица XLSX").click()

    def downloaded() -> Path:
        files = [f for f in (tmp_path / "downloads").iterdir() if f.suffix == ".xlsx"]
        assert files, list((tmp_path / "downloads").iterdir())
        return files[0]

    report = openpyxl.load_workbook(eventually(downloaded, timeout_s=30))
    sheet = report["Паблики"]
    header = [c.value for c in sheet[1]]
    lines = {
        r[1].value: dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(min_row=2)
    }
    assert set(lines) == set(PUBLICS)
    assert lines["vk:-501"]["Паблик"] == "Дом культуры «Кстово»"
    assert lines["vk:-501"]["Публикации за 7 дней, публикаций"] == 1
    assert lines["vk:-501"]["Публикации за 7 дней: оценка"] == "нарушение"
    status, gorodets_table = get_json(f"{api}/publics/vk:-503")
    subscribers = kpi_values(gorodets_table, gorodets_table["at"])["subscribers"]
    assert lines["vk:-503"]["Прирост подписчиков за 7 дней, %"] == pytest.approx(subscribers, abs=1e-4)
    breached = {
        (p, kpi)
        for p, line in lines.items()
        for kpi in ("posting", "engagement", "subscribers")
        if line[f"{words.KPI_NAMES[kpi]}: оценка"] == "нарушение"
    }
    assert breached == BREACHES
    browser.get(f"{api}/?region=RU-NIZ")

    # the leaderboard by posts: the API's order, the API's values in words
    browser.set_window_size(1100, 1400)
    browser.find_element(By.LINK_TEXT, "Публикации").click()
    assert "kpi=posts_7d" in browser.current_url
    rows = browser.find_elements(By.CSS_SELECTOR, "table.leaders tbody tr")
    shown = [(r.get_attribute("data-public"), r.find_elements(By.TAG_NAME, "td")[2].text) for r in rows]
    expected = [(i["public_id"], model.ranked_value("posts_7d", i["value"])) for i in ranked["items"]]
    assert shown == [(p, v.replace(words.NBSP, " ")) for p, v in expected]
    assert shown[0][0] == "vk:-502"

    # follow the leader to its card: every KPI and the 30 days say what the API says
    rows[0].find_element(By.TAG_NAME, "a").click()
    times["card"] = load_ms(browser)
    assert urllib.parse.unquote(browser.current_url).endswith("/card/vk:-502")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Библиотека имени Гайдара, Арзамас"
    status, table = get_json(f"{api}/publics/vk:-502")
    assert status == 200
    values = kpi_values(table, table["at"])
    for row in browser.find_elements(By.CSS_SELECTOR, "table.kpis tbody tr"):
        kpi = row.get_attribute("data-kpi")
        if kpi == "silence":  # read a moment later than the API's table: compare its whole hours
            assert row.find_element(By.CSS_SELECTOR, ".value").text.endswith("часа")
            continue
        assert row.find_element(By.CSS_SELECTOR, ".value").text == words.value_text(kpi, values[kpi]).replace(
            words.NBSP, " "
        ), kpi
    statuses = {
        r.get_attribute("data-kpi"): r.find_elements(By.TAG_NAME, "td")[3].text
        for r in browser.find_elements(By.CSS_SELECTOR, "table.kpis tbody tr")
    }
    assert statuses["posting"] == statuses["engagement"] == "✓ в норме"
    assert statuses["response_time"] == "не проверяется"
    status, days = get_json(f"{api}/publics/vk:-502/days")
    assert status == 200
    posts_chart = browser.find_element(By.CSS_SELECTOR, "figure[data-chart='0']")
    assert posts_chart.find_element(By.TAG_NAME, "figcaption").text.endswith(
        "за 30 дней: "
        + words.counted(sum(d["posts"] for d in days["days"]), words.POST).replace(words.NBSP, " ")
    )
    bars = posts_chart.find_elements(By.CSS_SELECTOR, "rect")
    assert len(bars) == len(days["days"])  # a bar a day, zero days too
    response_bars = browser.find_elements(By.CSS_SELECTOR, "figure[data-chart='2'] rect")
    assert len(response_bars) == sum(1 for d in days["days"] if d["response_wh_p90_s"] is not None) == 1
    screenshot(browser, shots / "page-card.png", 1100)

    # a curator on a phone: nothing scrolls sideways
    browser.set_window_size(390, 844)
    browser.get(f"{api}/?region=RU-NIZ&theme=culture")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(browser, shots / "page-phone.png", 390)
    browser.get(f"{api}/card/vk:-501")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    # a wrong link says what is wrong, in Russian, with a 400 the API shows too
    browser.get(f"{api}/?region=nizhny")
    assert "не код ISO 3166-2" in browser.find_element(By.TAG_NAME, "main").text
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{api}/?region=nizhny")
    assert refused.value.code == 400
    # a well-formed code of no subject and no public is as wrong as a malformed one
    browser.get(f"{api}/?region=XX-BAD")
    assert "Регион «XX-BAD» неизвестен" in browser.find_element(By.TAG_NAME, "main").text
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{api}/?region=XX-BAD")
    assert refused.value.code == 400

    print(f"\npage load times (ms, as Chromium measured them): {orjson.dumps(times).decode()}")
    keep = os.environ.get("GOSPULSE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in shots.iterdir():
            shutil.copy(shot, Path(keep) / shot.name)


def test_the_page_keeps_to_itself_and_hostile_names_stay_in_their_place(
    broker: EmbeddedBroker,
    redis_server: EmbeddedRedis,
    workers: list[WorkerProcess],
    tmp_path: Path,
    browser: Any,
) -> None:
    """A 10 000-character name wraps instead of widening the page, a right-to-left override in a name
    stays inside the name, and the page allows its own stylesheet and nothing else: no script, no
    frame around it, no referrer to the platforms it links to."""
    from selenium.webdriver.common.by import By

    prefix = "t-guard."
    api = page_worker(broker, redis_server, workers, tmp_path, prefix)
    now = int(time.time() * 1000)
    names = {"vk:-601": "Ш" * 10_000, "vk:-602": "Школа \u202e№ 5 города", "vk:-603": "Музей"}
    records = [{"v": 1, "public_id": p, "name": n, **CULTURE} for p, n in names.items()]
    events = [published(now - 2 * HOUR, f"p{p}", public_id=p) for p in names]  # 1 post: a breach each
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl", records)

    def listed() -> None:
        status, opened = get_json(f"{api}/breaches/open?region=RU-NIZ")
        assert status == 200 and {b["public_id"] for b in opened["breaches"]} == set(names), opened
        status, ranked = get_json(f"{api}/segments/ranking?kpi=posts_7d&region=RU-NIZ")
        assert status == 200 and ranked["total"] == len(names), ranked

    eventually(listed, timeout_s=60)

    # the headers, as any client sees them
    for path in ("/?region=RU-NIZ", "/card/vk:-601"):
        with urllib.request.urlopen(api + path) as answer:
            headers = answer.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"

    for width in (1100, 390):
        browser.set_window_size(width, 900)
        for path in ("/?region=RU-NIZ&kpi=posts_7d", "/card/vk:-601"):
            browser.get(api + path)
            # the stylesheet applied (its hash is the one the policy allows), the page no wider than
            # the window with the long name in it
            header = browser.find_element(By.TAG_NAME, "header")
            assert header.value_of_css_property("background-color") == "rgba(31, 59, 99, 1)", path
            assert browser.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth"
            ), (path, width)
    # every name on the page sits in its own bidirectional isolate
    browser.get(f"{api}/?region=RU-NIZ&kpi=posts_7d")
    for where in ("li.public a", "table.leaders td a"):
        for link in browser.find_elements(By.CSS_SELECTOR, where):
            bdi = link.find_element(By.TAG_NAME, "bdi")
            assert bdi.value_of_css_property("unicode-bidi") == "isolate", where
    browser.get(f"{api}/card/vk:-602")
    assert browser.find_element(By.CSS_SELECTOR, "h1 bdi").value_of_css_property("unicode-bidi") == "isolate"
    assert browser.execute_script("return document.title").startswith("\u2068Школа \u202e№ 5 города\u2069")

    # a script the page did not bring is refused, and another site cannot frame the page
    browser.get(f"{api}/card/vk:-603")
    refused = browser.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        "document.body.appendChild(s); return window.ran === undefined;"
    )
    assert refused, "an inline script ran on the page"
    # another site's page cannot frame it: the browser refuses and says why in its console
    framing = tmp_path / "frame.html"
    framing.write_text(f'<iframe src="{api}/card/vk:-603"></iframe>', encoding="utf-8")
    browser.get_log("browser")  # what came before
    browser.get(framing.as_uri())

    def refused_to_frame() -> None:
        said = " ".join(entry["message"] for entry in browser.get_log("browser"))
        assert "frame-ancestors" in said or "X-Frame-Options" in said, said

    eventually(refused_to_frame, timeout_s=10)

    # following a link from the page tells the next site nothing of where it came from
    browser.get(f"{api}/?region=RU-NIZ")
    browser.find_element(By.CSS_SELECTOR, "li.public a").click()
    assert browser.execute_script("return document.referrer") == ""
