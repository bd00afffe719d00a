"""The CLI tests' simulator: one per test module, with the example policy. A module whose
policy differs (limits, approvals, quotas) defines its own ``world``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from solti.sandbox.environment import SimEnvironment


@pytest.fixture(scope="module")
def world() -> Iterator[SimEnvironment]:
    with SimEnvironment() as env:
        yield env
