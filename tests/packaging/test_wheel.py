"""What the image does, without a Docker engine: build the wheel, install it into a fresh
virtual environment with constraints.txt (as the Dockerfile's final stage does) and run `solti`
from there.

Slow (a wheel build and a dependency install from the package index) but never skipped: a
missing package-data file or dependency only shows up here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Exactly what the Dockerfile copies into its build stage.
BUILD_CONTEXT = ("pyproject.toml", "README.md", "src")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def _run(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, check=False, env=env, cwd=cwd, timeout=timeout
    )


def _clean_env(**extra: str) -> dict[str, str]:
    """No PROXMOX_/SLACK_/SOLTI_ from the developer, no PYTHONPATH pointing at the checkout."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PROXMOX_", "SLACK_", "SOLTI_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The `bin` directory of a fresh venv with only the built wheel (and its dependencies)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    for name in BUILD_CONTEXT:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(origin, source / name)
    dist = base / "dist"
    built = _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)])
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheels = list(dist.glob("solti_chatops-*.whl"))
    assert len(wheels) == 1, wheels

    venv = base / "venv"
    created = _run([sys.executable, "-m", "venv", str(venv)])
    assert created.returncode == 0, created.stderr
    bin_dir = venv / "bin"
    # As the Dockerfile's final stage: the wheel, with versions from the lock file.
    install = _run(
        [
            str(bin_dir / "pip"),
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "-c",
            str(ROOT / "constraints.txt"),
            str(wheels[0]),
        ],
        env=_clean_env(),
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    yield bin_dir


def test_wheel_installs_and_runs(installed: Path, tmp_path: Path) -> None:
    solti = str(installed / "solti")

    # The package comes from the venv, not from the checkout.
    # Exactly the pinned versions were installed.
    frozen = _run([str(installed / "pip"), "freeze"], env=_clean_env(), cwd=tmp_path)
    pins = {
        line.split("==")[0].lower().replace("_", "-"): line
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for line in frozen.stdout.splitlines():
        name = line.split("==")[0].lower().replace("_", "-")
        if name in pins:
            assert line.replace("_", "-").lower() == pins[name].replace("_", "-").lower()

    where = _run(
        [str(installed / "python"), "-c", "import solti.provisioning as p; print(p.__file__)"],
        env=_clean_env(),
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    assert str(installed.parent) in where.stdout

    helped = _run([solti, "--help"], env=_clean_env(), cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    for verb in ("bot", "check", "vm", "template", "audit", "sandbox", "sim"):
        assert verb in helped.stdout
    check_help = _run([solti, "check", "--help"], env=_clean_env(), cwd=tmp_path)
    assert check_help.returncode == 0 and "--json" in check_help.stdout, check_help.stderr

    # No configuration: a clear failure naming what to set, no traceback.
    bare = _run([solti, "check"], env=_clean_env(SOLTI_DB=str(tmp_path / "a.db")), cwd=tmp_path)
    assert bare.returncode == 1
    assert "PROXMOX_URL" in bare.stdout and "fix:" in bare.stdout
    assert "Traceback" not in bare.stderr

    # Against the simulator, run from the installed package too (its schema and catalog data
    # files must be in the wheel): everything passes.
    sim = subprocess.Popen(
        [solti, "sim", "pve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(),
        cwd=tmp_path,
    )
    try:
        assert sim.stdout is not None
        ready = json.loads(sim.stdout.readline())
        env = _clean_env(SOLTI_DB=str(tmp_path / "solti.db"), **ready["env"])
        checked = _run([solti, "check"], env=env, cwd=tmp_path, timeout=120)
    finally:
        sim.terminate()
        sim.wait(timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Proxmox VE" in checked.stdout
    assert "FAIL" not in checked.stdout
