"""The oldest build backend pyproject allows really builds the project, and the one before fails.

`license = "MIT"` (a PEP 639 expression) is read by setuptools 77 and later; an older one stops
with "project.license must be valid exactly by one definition". So the floor in
``build-system.requires`` is tested from both sides, with the build isolation off so exactly
the installed setuptools is used. Slow (two virtual environments and a package download), never
skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
BUILD_CONTEXT = ("pyproject.toml", "README.md", "src")
# The last setuptools release before the floor (77.0.0 was never published).
BELOW_FLOOR = "76.1.0"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _floor() -> str:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["build-system"]
    (setuptools,) = [Requirement(r) for r in requires["requires"] if r.startswith("setuptools")]
    (lowest,) = [s.version for s in setuptools.specifier if s.operator == ">="]
    return lowest


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd, timeout=600)


def _build_with(setuptools: str, base: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """A venv with exactly ``setuptools==<version>``, then a wheel built without isolation."""
    source = base / "source"
    source.mkdir(parents=True)
    for name in BUILD_CONTEXT:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(origin, source / name)
    venv = base / "venv"
    assert _run([sys.executable, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    python = str(venv / "bin" / "python")
    # This pip, acting on the bare venv: it holds setuptools alone (no `wheel`, which
    # setuptools >= 70.1 does not need).
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]
    installed = _run([*pip, "install", "--quiet", f"setuptools=={setuptools}"])
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    shown = _run([python, "-c", "import setuptools; print(setuptools.__version__)"])
    assert shown.stdout.strip() == setuptools, shown.stdout + shown.stderr
    dist = base / "dist"
    built = _run(
        [*pip, "wheel", "--no-build-isolation", "--no-deps", "--wheel-dir", str(dist), str(source)]
    )
    return built, dist


def test_the_floor_is_one_that_exists_and_lies_above_the_one_that_fails() -> None:
    assert Version(BELOW_FLOOR) < Version(_floor())


def test_oldest_allowed_setuptools_builds_a_complete_wheel(tmp_path: Path) -> None:
    built, dist = _build_with(_floor(), tmp_path)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("solti_chatops-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(metadata_name).decode()
    assert "License-Expression: MIT" in metadata
    assert {name.split("/")[0] for name in names if not name.startswith("solti_chatops-")} == {
        "solti"
    }, "one top-level package"
    for data in (
        "solti/sandbox/pve/data/apidata-subset.json",
        # The whole PVE dump: the simulator routes every GET path from it (pve/catalog.py).
        "solti/sandbox/pve/data/apidata.json.gz",
        "solti/sandbox/slack/data/slack-block-kit.schema.json",
        "solti/provisioning/data/catalog.yaml",
    ):
        assert data in names


def test_setuptools_below_the_floor_cannot_read_the_licence(tmp_path: Path) -> None:
    built, _ = _build_with(BELOW_FLOOR, tmp_path)
    assert built.returncode != 0
    assert "project.license" in built.stdout + built.stderr
