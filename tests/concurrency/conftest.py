"""The world every concurrency test runs in: one simulator per module (a module with its own
policy overrides ``world``), and per test a fresh cluster and a fresh audit file for the CLI
processes (``env``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.sandbox.environment import SimEnvironment
from tests.concurrency.procs import cli_env
from tests.helpers.worlds import fresh_world


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment() as env:
        yield env


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    fresh_world(world)
    return cli_env(world, tmp_path)
