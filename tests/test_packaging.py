"""The installed project: the wheel holds exactly the project's packages and data, and it runs in a
fresh environment without the ``local`` extra (as in a production image), saying which extra
``gospulse up`` needs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

#: It installs the wheel's dependencies from the package index into a fresh venv.
pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"schemas", "streams", "agents", "gospulse"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # built from a copy, so the build leaves nothing in the checkout
    ignore = shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "bench", "__pycache__")
    shutil.copytree(REPO, source, ignore=ignore)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)]
    subprocess.run(pip, check=True, capture_output=True)
    (found,) = out.glob("gospulse-*.whl")
    return found


def test_the_wheel_holds_the_project_packages_and_schema_documents_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == PACKAGES
    source_packages = {
        str(p.parent.relative_to(REPO)) for top in PACKAGES for p in (REPO / top).rglob("__init__.py")
    }
    wheel_packages = {n.rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}
    assert wheel_packages == source_packages
    data = {n for n in names if not n.endswith(".py") and ".dist-info/" not in n}
    assert data == {str(p.relative_to(REPO)) for p in (REPO / "schemas").glob("*.schema.json")}


def test_it_installs_and_runs_in_a_fresh_venv_without_the_local_extra(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing of the checkout leaks in
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=clean)
    subprocess.run(
        [venv / "bin" / "pip", "install", "-q", str(wheel)], check=True, capture_output=True, env=clean
    )
    python = venv / "bin" / "python"
    imported = subprocess.run(
        [python, "-c", "import agents.worker, gospulse, schemas.validate; print('ok')"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean,
    )
    assert imported.stdout.strip() == "ok", imported.stderr
    helped = subprocess.run(
        [venv / "bin" / "gospulse", "worker", "--help"], capture_output=True, text=True, env=clean
    )
    assert helped.returncode == 0 and "GOSPULSE_BROKER" in helped.stdout
    up = subprocess.run(
        [venv / "bin" / "gospulse", "up", "--workdir", str(tmp_path / "up"), "--duration", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
    )
    assert up.returncode == 1
    assert "pip install -e '.[local]'" in up.stderr, up.stderr
