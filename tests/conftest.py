"""Suite-wide fixtures: every test starts from a clean environment."""

from __future__ import annotations

import os

import pytest

_SCRUBBED_PREFIXES = ("PROXMOX_", "SLACK_", "SOLTI_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real Slack or Proxmox credentials."""
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES):
            monkeypatch.delenv(name, raising=False)
