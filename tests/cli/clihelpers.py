"""What the operator-CLI tests share: running `solti` in-process (keys: ``tests.helpers.keys``)."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from solti.cli import main


def solti(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
