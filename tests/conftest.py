"""Suite-wide fixtures: every test starts from a clean environment.

The suite runs from a plain checkout with the dependencies installed and the project itself
not installed: pytest puts ``src`` on its own path (pyproject's ``pythonpath``), and the line
below hands the same to every ``python -m solti`` a test starts as a subprocess.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No wall-clock limits in tests: hypothesis's default 200 ms deadline per example fails
# property tests on a loaded machine (a CI flake, seen in test_checksums), and says nothing
# about correctness. Speed is measured in bench/, not here.
settings.register_profile("solti", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("solti")

SRC = str(Path(__file__).resolve().parents[1] / "src")
os.environ["PYTHONPATH"] = os.pathsep.join(
    [SRC, *(p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != SRC)]
)

_SCRUBBED_PREFIXES = ("PROXMOX_", "SLACK_", "SOLTI_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real Slack or Proxmox credentials."""
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES):
            monkeypatch.delenv(name, raising=False)
