"""One simulated world (PVE simulator over HTTPS + image mirror) per run, reset per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from solti.provisioning.config import ProxmoxSettings, load_policy
from solti.provisioning.service import Provisioner
from solti.sandbox.environment import SimEnvironment


@pytest.fixture(scope="session")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment(nodes=1) as env:
        yield env


@pytest.fixture
def sim(world: SimEnvironment) -> Iterator[SimEnvironment]:
    world.reset()
    yield world
    world.reset()


@pytest.fixture
def provisioner(sim: SimEnvironment, tmp_path: Path) -> Provisioner:
    settings = ProxmoxSettings.from_env(sim.env)
    policy = load_policy(sim.config_path)
    return Provisioner.from_settings(settings, policy, tmp_path / "audit.db")


def make_key(comment: str = "alice@example") -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    text = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{text.decode()} {comment}"


@pytest.fixture
def ssh_key() -> str:
    return make_key()


@pytest.fixture
def new_key() -> Callable[..., str]:
    return make_key


def requests_since(sim: SimEnvironment, start: int) -> list[Any]:
    return sim.pve.requests[start:]


def non_poll(records: list[Any]) -> list[Any]:
    return [r for r in records if not r.path.endswith("/status") or "/tasks/" not in r.path]
