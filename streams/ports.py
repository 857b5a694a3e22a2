"""Local TCP ports: one free to listen on, and whether one is already taken.

Used by the worker's command (refuse a web port another process holds) and by the embedded servers
and ``gospulse up`` (pick ports, avoid clashes), so it sits below both.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_taken(host: str, port: int) -> bool:
    """Whether another process already listens on ``host:port`` (so a server there would fail, or a
    client asking there would reach the wrong one)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False
