"""The tools the deploy and browser tests run for real (Debian's ``prometheus``,
``prometheus-alertmanager``, ``docker-compose``, ``chromium`` and ``chromium-driver``; ``make test``
installs them where it may).

Missing, they fail the test under CI (a real-service test is never skipped there) and skip it
elsewhere with the command that installs them.
"""

from __future__ import annotations

import os
import shutil

import pytest

INSTALL = (
    "apt-get install --no-install-recommends prometheus prometheus-alertmanager docker-compose "
    "chromium chromium-driver fonts-dejavu-core (or: make tools)"
)


def tool(name: str) -> str:
    """The path of binary ``name``, else fail (CI) or skip (elsewhere) saying how to install it."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed; {INSTALL}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
