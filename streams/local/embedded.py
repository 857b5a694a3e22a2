"""A local server process started for a run or a test session: the embedded broker and Redis.

Each is a child process in its own session on 127.0.0.1, alive for the life of its object, and
started only once it answers; a subclass says how to run it and how to tell that it answers.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from streams.ports import free_port

#: Linux prctl option: the signal a process gets when the thread that started it ends.
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it when its parent dies, even by SIGKILL."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:  # the parent died before prctl: nobody will signal us
            os._exit(1)


def spawn(
    argv: Sequence[str], log: IO[bytes] | int, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """A child in its own session (a signal to the caller's group does not reach it), output to
    ``log``, that never outlives its parent: a local stack leaves no process holding a port."""
    return subprocess.Popen(
        list(argv),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
        env=None if env is None else dict(env),
        cwd=cwd,
    )


def explicit_binary(env_var: str, error: type[RuntimeError]) -> Path | None:
    """The binary an environment variable names, checked; None when the variable is unset."""
    explicit = os.environ.get(env_var)
    if not explicit:
        return None
    path = Path(explicit)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise error(f"{env_var}={explicit} is not an executable file; unset it or fix the path")
    return path


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
        self._process = spawn(self.command(), log)
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

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the server (a chaos soak pauses the broker with SIGSTOP)."""
        if self._process is not None:
            self._process.send_signal(signum)

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


class Child:
    """A child process (``spawn``) with its own log file: ``gospulse up``'s worker and simulator, and
    the workers the tests drive."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name, self.argv, self.log_path = name, argv, log_path
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = spawn(self.argv, log, env=self.env, cwd=self.cwd)
        return self

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the child's whole process group."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signum)

    def wait(self, timeout_s: float) -> int:
        """The exit status, once it has stopped by itself; ``subprocess.TimeoutExpired`` if it does not."""
        assert self.proc is not None
        return self.proc.wait(timeout=timeout_s)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout_s: float = 20.0) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait()
