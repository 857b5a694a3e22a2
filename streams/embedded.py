"""A local server process started for a run or a test session: the embedded broker and Redis.

Each is a child process in its own session on 127.0.0.1, alive for the life of its object, and
started only once it answers; a subclass says how to run it and how to tell that it answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self


def explicit_binary(env_var: str, error: type[RuntimeError]) -> Path | None:
    """The binary an environment variable names, checked; None when the variable is unset."""
    explicit = os.environ.get(env_var)
    if not explicit:
        return None
    path = Path(explicit)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise error(f"{env_var}={explicit} is not an executable file; unset it or fix the path")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedServer:
    #: What the messages call it.
    name = "server"
    #: Raised when it cannot start; its message says what to do.
    error: type[RuntimeError] = RuntimeError

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def answers(self) -> bool:
        """Whether it serves on its port yet (a TCP connection, unless a subclass knows better)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def start(self, timeout_s: float = 15.0) -> Self:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise self.error(
                    f"{self.name} exited with status {self._process.returncode} on port {self.port}"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise self.error(f"{self.name} did not answer on port {self.port} within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
