"""One simulated world (PVE simulator over HTTPS + image mirror) per run, reset per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment
from tests.helpers.keys import new_ssh_key


@pytest.fixture(scope="session")
def _session_world() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=1) as env:
        yield env


@pytest.fixture
def world(_session_world: SimEnvironment) -> Iterator[SimEnvironment]:
    _session_world.reset()
    yield _session_world
    _session_world.reset()


@pytest.fixture
def provisioner(world: SimEnvironment, tmp_path: Path) -> Provisioner:
    settings = ProxmoxSettings.from_env(world.env)
    policy = load_policy(world.config_path)
    return Provisioner.from_settings(settings, policy, tmp_path / "audit.db")


@pytest.fixture
def ssh_key() -> str:
    """A fresh valid ed25519 public key line."""
    return new_ssh_key()


@pytest.fixture
def new_key() -> Callable[..., str]:
    """Makes more fresh keys (``new_key("bob@example")``)."""
    return new_ssh_key


def requests_since(world: SimEnvironment, start: int) -> list[Any]:
    return world.pve.requests[start:]


def non_poll(records: list[Any]) -> list[Any]:
    return [r for r in records if not r.path.endswith("/status") or "/tasks/" not in r.path]
